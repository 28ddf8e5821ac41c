import type { ErrorDetails, Protocol } from './types.js';

const OPENAI_PREFIX = '/v1/';
const V2_PREFIX = '/v2/';
/** TF Serving's REST paths: /v1/models/{name}[/versions/{v}|/labels/{l}][:verb|/metadata]. */
const TF_PREFIX = '/v1/models/';

const TF_SUFFIX = /^\/v1\/models\/[^/:]+(?:\/(?:versions|labels)\/[^/:]+)?(?::[a-z]+|\/metadata)?$/;

/**
 * Which client protocol a request path belongs to. `/v1/models/{name}` is both OpenAI's
 * "retrieve model" and TF Serving's model status: `protocolOfModel` (the configured protocol
 * of that model) settles it.
 */
export function detectProtocol(
  pathname: string,
  protocolOfModel?: (name: string) => Protocol | undefined,
): Protocol | undefined {
  if (pathname.startsWith(TF_PREFIX) && TF_SUFFIX.test(pathname)) {
    const name = pathname.slice(TF_PREFIX.length).split(/[/:]/, 1)[0] ?? '';
    const explicitTf = pathname.length > TF_PREFIX.length + name.length;
    if (explicitTf || protocolOfModel?.(decodeOrRaw(name)) === 'tfserving') return 'tfserving';
    return 'openai';
  }
  if (pathname.startsWith(OPENAI_PREFIX)) return 'openai';
  if (pathname.startsWith(V2_PREFIX) || pathname === '/v2') return 'kserve-v2';
  return undefined;
}

/** A name whose escapes don't decode can't be a configured model; it stays as sent (never throws). */
function decodeOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * The error body in the client's protocol: OpenAI `{"error":{"message","type","param","code"}}`,
 * KServe V2 and TF Serving `{"error":"..."}` (both specs use a bare string).
 */
export function errorBody(
  protocol: Protocol | undefined,
  status: number,
  message: string,
  details: ErrorDetails = {},
): Record<string, unknown> {
  if (protocol === 'openai') {
    return {
      error: {
        message,
        type: details.type ?? openAiErrorType(status),
        param: details.param ?? null,
        code: details.code ?? null,
      },
    };
  }
  // V2/TF Serving clients only read `error`; the extra fields help people debugging with curl.
  const body: Record<string, unknown> = { error: message };
  if (details.code) body.code = details.code;
  if (details.param) body.param = details.param;
  return body;
}
