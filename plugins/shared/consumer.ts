import type { BaseContext, HeaderMutator, Respond } from '../sdk/types.js';
import { CONSUMER_HEADER } from '../sdk/wire.js';

/** Headers that carry client credentials; not forwarded to model servers unless configured. */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key'] as const;

export const REALM = 'inference-gateway';

/** Consumer ids go into a header and logs: keep them short and printable. */
export const CONSUMER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** Records the consumer, tells the model server who it is, and drops the credentials. */
export function authenticate(ctx: BaseContext & { headers: HeaderMutator }, id: string, forwardCredentials: boolean): void {
  ctx.vars.consumer = { id };
  ctx.headers.set(CONSUMER_HEADER, id);
  if (!forwardCredentials) for (const h of CREDENTIAL_HEADERS) if (ctx.headers.has(h)) ctx.headers.remove(h);
}

/**
 * A 401 with an RFC 6750 challenge. Without `error` the client sent no credentials (the RFC
 * says to omit the error code then); the description never echoes what the client sent.
 */
export function unauthorized(ctx: BaseContext, code: string, message: string, error?: 'invalid_token' | 'invalid_request'): Respond {
  const challenge = error
    ? `Bearer realm="${REALM}", error="${error}", error_description="${message.replace(/["\\]/g, '')}"`
    : `Bearer realm="${REALM}"`;
  return ctx.fail(401, message, { code, headers: { 'www-authenticate': challenge } });
}

/** Authorization scheme and credentials, or undefined when the header is absent or not `<scheme> <token>`. */
export function parseAuthorization(value: string | undefined): { scheme: string; token: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+) *$/.exec(value);
  if (!m) return undefined;
  return { scheme: (m[1] as string).toLowerCase(), token: m[2] as string };
}

/** Compact JWS shape: three base64url segments. Lets the API-key plugin leave JWTs to jwt-auth. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
