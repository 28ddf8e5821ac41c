import { resolve } from 'node:path';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { definePlugin, z, type PluginHost } from '../sdk/index.js';
import { authenticate, CONSUMER_ID, looksLikeJwt, parseAuthorization, unauthorized } from '../shared/consumer.js';
import { fileKeySource, remoteKeySource, type KeySource } from './jwks.js';

/**
 * Asymmetric algorithms only. HMAC (HS*) would need the shared secret in the gateway's config
 * and is the half of every "algorithm confusion" attack; `none` is not a signature at all.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** A compact JWT beyond this is not a token we issue; refusing it early bounds the work. */
const MAX_TOKEN_LENGTH = 8192;

const Algorithm = z.string().refine((a): a is (typeof ASYMMETRIC_ALGORITHMS)[number] => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a), {
  message: `allowed algorithms are ${ASYMMETRIC_ALGORITHMS.join(', ')} (never "none", no HMAC)`,
});

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const Jwks = z.union([
  z
    .object({
      /** Path to a JWKS JSON file, relative to the gateway config. */
      file: z.string().min(1),
      /** How often to check the file for changes. */
      reloadMs: z.number().int().min(100).default(30_000),
    })
    .strict(),
  z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      /** Must stay below the plugin instance's `timeoutMs` (default 200). */
      timeoutMs: z.number().int().positive().default(150),
      cacheMaxAgeMs: z.number().int().positive().default(600_000),
      /** An unknown `kid` refetches the set at most once per cooldown. */
      cooldownMs: z.number().int().min(0).default(30_000),
    })
    .strict()
    .refine((j) => j.url.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(j.url), {
      message: 'a JWKS URL must be https (plain http only on loopback)',
      path: ['url'],
    }),
]);

const Options = z
  .object({
    jwks: Jwks,
    issuer: OneOrMany,
    audience: OneOrMany,
    algorithms: z.array(Algorithm).min(1).default(['RS256', 'ES256']),
    /** Tolerance for `exp` / `nbf` / `iat` against our clock. */
    clockSkewSec: z.number().int().min(0).max(300).default(30),
    /** The claim that names the consumer. */
    consumerClaim: z.string().min(1).default('sub'),
    /** Reject tokens issued (`iat`) longer ago than this. */
    maxTokenAgeSec: z.number().int().positive().optional(),
    /** false: a request without a bearer JWT continues unauthenticated (for a later auth plugin). */
    required: z.boolean().default(true),
    forwardCredentials: z.boolean().default(false),
  })
  .strict();

async function keySource(jwks: z.output<typeof Jwks>, host: PluginHost): Promise<KeySource> {
  if ('file' in jwks) return fileKeySource(resolve(host.configDir, jwks.file), jwks.reloadMs, host.log);
  return remoteKeySource(new URL(jwks.url), { timeoutMs: jwks.timeoutMs, cacheMaxAgeMs: jwks.cacheMaxAgeMs, cooldownMs: jwks.cooldownMs }, host.log);
}

/** Why a token was refused, in words safe to show the client (never the token's contents). */
function rejection(err: unknown): { status: 401 | 503; code: string; message: string } {
  if (err instanceof errors.JWTExpired) return { status: 401, code: 'token_expired', message: 'The token has expired' };
  if (err instanceof errors.JWTClaimValidationFailed) {
    return { status: 401, code: 'invalid_token', message: `The token's "${err.claim}" claim is not accepted (${err.reason.replace(/_/g, ' ')})` };
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return { status: 401, code: 'invalid_token', message: 'The token is signed with an algorithm that is not allowed' };
  if (err instanceof errors.JWKSNoMatchingKey) return { status: 401, code: 'invalid_token', message: 'No key matches the token' };
  if (err instanceof errors.JWSSignatureVerificationFailed) return { status: 401, code: 'invalid_token', message: 'The token signature is invalid' };
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return { status: 503, code: 'jwks_unavailable', message: 'Cannot verify tokens right now; try again later' };
  }
  if (err instanceof errors.JOSEError) return { status: 401, code: 'invalid_token', message: 'The token is malformed or unsupported' };
  return { status: 503, code: 'jwks_unavailable', message: 'Cannot verify tokens right now; try again later' };
}

/**
 * Verifies `Authorization: Bearer <JWT>` against a JWKS (file or URL) and names the
 * consumer from a claim (`sub` by default).
 */
export default definePlugin({
  type: 'jwt-auth',
  description: 'JWT bearer tokens verified against a JWKS (file or URL); sets the consumer',
  options: Options,
  async setup(options, host) {
    const keys = await keySource(options.jwks, host);
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockSkewSec,
      requiredClaims: ['exp', options.consumerClaim],
      ...(options.maxTokenAgeSec !== undefined ? { maxTokenAge: options.maxTokenAgeSec } : {}),
    };

    return {
      async requestHeaders(ctx) {
        if (ctx.vars.consumer) return; // an earlier auth plugin already knows the caller
        const authorization = ctx.headers.get('authorization');
        const parsed = parseAuthorization(authorization);
        const isJwt = parsed?.scheme === 'bearer' && looksLikeJwt(parsed.token);
        if (!isJwt) {
          if (!options.required) return;
          if (authorization === undefined) return unauthorized(ctx, 'missing_token', 'A bearer token is required: send "Authorization: Bearer <JWT>"');
          return unauthorized(ctx, 'invalid_token', 'Authorization must be "Bearer <JWT>"', 'invalid_request');
        }
        const token = (parsed as { token: string }).token;
        if (token.length > MAX_TOKEN_LENGTH) return unauthorized(ctx, 'invalid_token', 'The token is too long', 'invalid_token');

        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(token, keys.getKey, verifyOptions));
        } catch (err) {
          const r = rejection(err);
          ctx.log.info({ code: r.code, reason: (err as Error).message }, 'jwt rejected');
          if (r.status === 503) return ctx.fail(503, r.message, { code: r.code, headers: { 'retry-after': '5' } });
          return unauthorized(ctx, r.code, r.message, 'invalid_token');
        }
        const id = payload[options.consumerClaim];
        if (typeof id !== 'string' || !CONSUMER_ID.test(id)) {
          return unauthorized(ctx, 'invalid_token', `The token's "${options.consumerClaim}" claim is not a valid consumer id`, 'invalid_token');
        }
        authenticate(ctx, id, options.forwardCredentials);
        ctx.log.debug({ consumer: id }, 'jwt accepted');
      },
      close() {
        keys.close();
      },
    };
  },
});
