/**
 * Every error code a client can receive from the gateway: from the ext-proc's core, from the
 * built-in plugins, and from Envoy's own local replies. One code per cause. Metrics count
 * rejections by `category`; docs/errors.md lists the same table (test/unit/error-codes.test.ts
 * keeps code, table and docs in step). Third-party plugins may use their own codes: those are
 * counted by HTTP status (see `categoryOf`).
 */

/** How `gateway_rejections_total{reason}` groups a rejection. */
export type ErrorCategory = 'auth' | 'validation' | 'limits' | 'routing' | 'error';

export interface ErrorCodeInfo {
  readonly status: number;
  readonly category: ErrorCategory;
  /** Whether the client sees the message; otherwise it gets only the code and an error id. */
  readonly expose: boolean;
  /** Who decides it: the ext-proc's core, a built-in plugin (by type), or Envoy. */
  readonly by: string;
  readonly cause: string;
}

const code = (status: number, category: ErrorCategory, by: string, cause: string, expose = status < 500): ErrorCodeInfo => ({
  status,
  category,
  expose,
  by,
  cause,
});

export const ERROR_CODES = {
  // ---- the core ----------------------------------------------------------------------------
  invalid_json: code(400, 'validation', 'core', 'the body a plugin reads is not JSON (empty, not UTF-8, malformed, nested too deep)'),
  invalid_request: code(400, 'validation', 'core', 'the JSON body does not match the schema a plugin reads it with, or is not an object'),
  model_not_found: code(404, 'routing', 'core', 'the request names no configured model'),
  version_not_found: code(404, 'routing', 'core', 'the request names a version or alias the model does not have'),
  plugin_error: code(500, 'error', 'core', 'a plugin hook threw an unexpected error (logged with an error id)'),
  plugin_timeout: code(500, 'error', 'core', 'a plugin hook ran past its timeoutMs'),
  route_conflict: code(500, 'error', 'core', 'a plugin set a different model after the model was resolved'),
  route_incomplete: code(500, 'error', 'core', 'a plugin set a version before any model'),
  route_invalid: code(500, 'error', 'core', 'the traffic policy or a plugin picked a version the model does not have'),
  invalid_path: code(400, 'validation', 'core', 'the request path has a malformed percent-escape'),
  bad_upstream_response: code(502, 'error', 'core', 'the model server answered with a body (or headers) the gateway could not read', true),
  unknown_path: code(404, 'routing', 'core', 'the path is no inference endpoint of any protocol'),
  // ---- built-in plugins --------------------------------------------------------------------
  method_not_allowed: code(405, 'routing', 'validation plugins', 'the endpoint does not take this method'),
  unsupported_media_type: code(415, 'validation', 'validation plugins', 'the body is not JSON (or uses the binary tensor extension)'),
  request_too_large: code(413, 'validation', 'validation plugins, Envoy', "the request body is over the gateway's limit"),
  forbidden_key: code(400, 'validation', 'validation plugins', 'the body carries a key the gateway does not forward (`__proto__`…)'),
  unknown_parameter: code(400, 'validation', 'validation plugins', 'the body has a field the protocol does not define'),
  missing_required_parameter: code(400, 'validation', 'validation plugins', 'a required field is missing'),
  invalid_value: code(400, 'validation', 'validation plugins', 'a field has a value of the wrong type or range'),
  invalid_tensor: code(400, 'validation', 'kserve-v2-validation', 'a tensor’s shape, datatype and data do not agree'),
  signature_mismatch: code(400, 'validation', 'kserve-v2-validation, tfserving-validation', 'the inputs do not match the model’s signature'),
  unknown_signature: code(400, 'validation', 'tfserving-validation', 'signature_name names no signature of the model'),
  binary_extension_not_enabled: code(415, 'validation', 'kserve-v2-validation', 'the binary tensor extension is not enabled for this model'),
  missing_credentials: code(401, 'auth', 'model-access', 'the model needs an authenticated caller and none was identified'),
  missing_api_key: code(401, 'auth', 'api-key-auth', 'no API key was sent'),
  invalid_api_key: code(401, 'auth', 'api-key-auth', 'the API key is unknown, or the header is malformed'),
  expired_api_key: code(401, 'auth', 'api-key-auth', 'the API key is past its expiry'),
  missing_token: code(401, 'auth', 'jwt-auth', 'no bearer token was sent'),
  invalid_token: code(401, 'auth', 'jwt-auth', 'the token is malformed, wrongly signed, or a claim is not accepted'),
  token_expired: code(401, 'auth', 'jwt-auth', 'the token is past its exp'),
  jwks_unavailable: code(503, 'error', 'jwt-auth', 'the signing keys cannot be fetched, so tokens cannot be checked', true),
  model_access_denied: code(403, 'auth', 'model-access', 'the caller may not use this model'),
  rate_limit_exceeded: code(429, 'limits', 'consumer-limits', 'the consumer is over its request rate'),
  token_rate_limit_exceeded: code(429, 'limits', 'consumer-limits', 'the consumer is over its token budget'),
  concurrency_limit_exceeded: code(429, 'limits', 'consumer-limits', 'the consumer has too many requests in flight'),
  insufficient_quota: code(429, 'limits', 'consumer-limits', 'the consumer used up its quota for the period'),
  limits_store_unavailable: code(503, 'error', 'consumer-limits', 'the shared limits store does not answer (fail closed)', true),
  // ---- Envoy's local replies (envoy/local-replies.ts) ---------------------------------------
  gateway_unavailable: code(503, 'error', 'Envoy', 'the ext-proc cannot be reached, broke the stream or missed messageTimeoutMs', true),
  overloaded: code(503, 'limits', 'Envoy', 'the model is at its concurrency limit (circuit breaker, `limits`)', true),
  no_healthy_upstream: code(503, 'error', 'Envoy', 'no healthy, un-ejected instance of the model', true),
  upstream_timeout: code(504, 'error', 'Envoy', 'timeoutMs (or the last per-try timeout) ran out', true),
  upstream_unavailable: code(503, 'error', 'Envoy', 'the model failed before answering and retries did not help', true),
  unsupported_content_encoding: code(415, 'validation', 'Envoy', 'the request body uses a content-encoding the gateway does not decompress (gzip, br, zstd are)'),
  headers_too_large: code(431, 'validation', 'Envoy', 'the request headers are over the limit'),
  not_found: code(404, 'routing', 'Envoy', 'no model route (the ext-proc chose no model)'),
  rate_limited: code(429, 'limits', 'Envoy', 'a 429 Envoy produced itself'),
  gateway_error: code(500, 'error', 'Envoy', 'any other error Envoy answered itself (status kept, 5xx)'),
  bad_request: code(400, 'validation', 'Envoy', 'any other malformed request Envoy refused (status kept, 4xx)'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string | undefined): value is ErrorCode {
  return value !== undefined && Object.hasOwn(ERROR_CODES, value);
}

/** The category of a rejection: the table's for a known code, else by HTTP status (codes of third-party plugins). */
export function categoryOf(status: number, code: string | undefined): ErrorCategory | 'other' {
  if (isErrorCode(code)) return ERROR_CODES[code].category;
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'limits';
  if (status === 404 || status === 405) return 'routing';
  if (status >= 500) return 'error';
  if (status >= 400) return 'validation';
  return 'other';
}
