import { definePlugin, z } from '../sdk/index.js';
import { authenticate, CONSUMER_ID, looksLikeJwt, parseAuthorization, unauthorized } from '../shared/consumer.js';
import { KEY_HASH, KeyTable } from '../sdk/keys.js';

/** Longer "keys" are not keys; refusing them early keeps hashing cheap. */
const MAX_KEY_LENGTH = 1024;

const KeyHash = z.string().regex(KEY_HASH, 'store keys hashed: "sha256:<64 hex digits>" (see scripts/hash-key.ts)');

const Options = z
  .object({
    consumers: z
      .array(
        z
          .object({
            id: z.string().regex(CONSUMER_ID, 'consumer ids are letters, digits and . _ : @ / - (at most 128)'),
            /**
             * Hashes of this consumer's keys (`npm run hash-key`); several allow rotation. A key
             * may carry an expiry: `{ hash, expires: 2027-01-31T00:00:00Z }`; after it, a 401.
             */
            keys: z
              .array(
                // A bare string is a hash without an expiry.
                z.preprocess(
                  (k) => (typeof k === 'string' ? { hash: k } : k),
                  z
                    .object({
                      hash: KeyHash,
                      /** ISO 8601: `2027-01-31T00:00:00Z`, or a date (`2027-01-31`, midnight UTC). */
                      expires: z
                        .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expires must be an ISO 8601 date or date-time, e.g. 2027-01-31 or 2027-01-31T00:00:00Z' })
                        .transform((d) => Date.parse(d))
                        .optional(),
                    })
                    .strict()
                    .transform(({ hash, expires }) => ({ hash, expiresAt: expires })),
                ),
              )
              .min(1),
          })
          .strict(),
      )
      .min(1),
    /**
     * false: a request without an API key (no `x-api-key`, and no Authorization bearer token,
     * or one shaped like a JWT) continues unauthenticated so a later auth plugin (jwt-auth)
     * can try. A key that is presented and wrong is always a 401.
     */
    required: z.boolean().default(true),
    /** Pass `Authorization` / `x-api-key` on to model servers. */
    forwardCredentials: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    const ids = new Set<string>();
    const hashes = new Map<string, string>();
    for (const [i, c] of o.consumers.entries()) {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['consumers', i, 'id'], message: `duplicate consumer id "${c.id}"` });
      ids.add(c.id);
      for (const [j, { hash: k }] of c.keys.entries()) {
        const owner = hashes.get(k);
        if (owner !== undefined) ctx.addIssue({ code: 'custom', path: ['consumers', i, 'keys', j], message: `key already belongs to "${owner}"` });
        hashes.set(k, c.id);
      }
    }
  });

/**
 * Authenticates API keys sent as `Authorization: Bearer <key>` or `x-api-key: <key>`
 * against SHA-256/512 hashes in the config, and names the consumer the key belongs to.
 */
export default definePlugin({
  type: 'api-key-auth',
  description: 'API keys (Authorization: Bearer or x-api-key) checked against hashed keys; sets the consumer',
  options: Options,
  setup(options, host) {
    const table = new KeyTable(options.consumers);
    host.log.info({ consumers: options.consumers.length, keys: table.size }, 'api keys loaded');
    const expired = table.expired(Date.now());
    if (expired.length > 0) host.log.warn({ consumers: [...new Set(expired)], keys: expired.length }, 'api keys past their expiry are configured; they are refused');

    return {
      requestHeaders(ctx) {
        if (ctx.vars.consumer) return; // an earlier auth plugin already knows the caller
        const headerKey = ctx.headers.get('x-api-key');
        const authorization = ctx.headers.get('authorization');
        const parsed = parseAuthorization(authorization);
        let key: string | undefined;
        if (headerKey !== undefined) key = headerKey.trim();
        // A JWT is left to jwt-auth only when keys are optional (the shape check is skipped otherwise).
        else if (parsed?.scheme === 'bearer' && (options.required || !looksLikeJwt(parsed.token))) key = parsed.token;

        if (key === undefined) {
          if (!options.required) return;
          if (authorization !== undefined) {
            return unauthorized(ctx, 'invalid_api_key', 'Authorization must be "Bearer <api key>"', 'invalid_request');
          }
          return unauthorized(ctx, 'missing_api_key', 'An API key is required: send "Authorization: Bearer <key>" or "x-api-key: <key>"');
        }
        const match = key.length === 0 || key.length > MAX_KEY_LENGTH ? undefined : table.match(key);
        if (match === undefined) {
          ctx.log.info({ via: headerKey !== undefined ? 'x-api-key' : 'authorization' }, 'api key rejected');
          return unauthorized(ctx, 'invalid_api_key', 'Invalid API key', 'invalid_token');
        }
        if (match.expiresAt !== undefined && match.expiresAt <= Date.now()) {
          ctx.log.info({ consumer: match.consumer, expiredAt: new Date(match.expiresAt).toISOString() }, 'expired api key rejected');
          return unauthorized(ctx, 'expired_api_key', 'The API key has expired', 'invalid_token');
        }
        const consumer = match.consumer;
        authenticate(ctx, consumer, options.forwardCredentials);
        // Reading ctx.log makes the request's tagged child logger, even for a disabled level:
        // on every authenticated request that was a pino child for nothing (host.log follows
        // the root's level, runtime changes included).
        if (host.log.isLevelEnabled('debug')) ctx.log.debug({ consumer }, 'api key accepted');
      },
    };
  },
});
