import type { GatewayConfig } from '../ext-proc/config/schema.js';
import { GATEWAY_REPLY_DETAILS_PREFIX } from '../plugins/sdk/wire.js';

// Envoy's own answers (no healthy instance, overload, timeout, body too large, ext-proc down…)
// are plain text by default. These mappers rewrite them as JSON in the client's protocol, with
// a stable `code` and the request id, the same shape the ext-proc uses for its own errors.

type Json = Record<string, unknown>;

const REQUEST_ID = '%REQ(X-REQUEST-ID)%';
const ENVOY_TEXT = '%LOCAL_REPLY_BODY%';

/** Request paths whose clients expect OpenAI's error object; every other path gets `{"error": "..."}`. */
const OPENAI_PATH_PREFIXES = ['/v1/chat/', '/v1/completions', '/v1/embeddings'];

type OpenAiType = 'invalid_request_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

interface Condition {
  filter: Json;
  /** Replaces Envoy's status (ext_proc failures: Envoy says 500, the client should see 503). */
  status?: number;
  code: string;
  /** Fixed message; undefined keeps Envoy's own text. */
  message?: string;
  type: OpenAiType;
  headers?: Record<string, string>;
}

const cel = (expression: string): Json => ({
  extension_filter: {
    name: 'envoy.access_loggers.extension_filters.cel',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', expression },
  },
});
const flags = (...f: string[]): Json => ({ response_flag_filter: { flags: f } });
const status = (code: number, op: 'EQ' | 'GE' = 'EQ'): Json => ({
  status_code_filter: { comparison: { op, value: { default_value: code, runtime_key: `gateway.local_reply.status_${op}_${code}` } } },
});
const and = (...filters: Json[]): Json => (filters.length === 1 ? (filters[0] as Json) : { and_filter: { filters } });

function conditions(config: GatewayConfig): Condition[] {
  return [
    {
      // Stream to the ext-proc could not be opened, broke, or an answer took longer than message_timeout.
      filter: cel(`response.code_details.startsWith('ext_proc_')`),
      status: 503,
      code: 'gateway_unavailable',
      message: 'The gateway could not process this request (its request processor is unavailable); retry shortly',
      type: 'server_error',
      headers: { 'retry-after': '1' },
    },
    {
      filter: flags('UO'),
      code: 'overloaded',
      message: 'The model is at its concurrency limit; retry shortly',
      type: 'server_error',
      headers: { 'retry-after': '1' },
    },
    {
      filter: flags('UH'),
      code: 'no_healthy_upstream',
      message: 'No healthy instance of the model is available',
      type: 'server_error',
      headers: { 'retry-after': '1' },
    },
    { filter: flags('UT'), code: 'upstream_timeout', message: 'The model did not answer in time', type: 'server_error' },
    {
      filter: flags('UF', 'URX', 'UC', 'UR', 'LR', 'UPE'),
      code: 'upstream_unavailable',
      message: 'The model instance failed before answering',
      type: 'server_error',
    },
    {
      filter: status(413),
      code: 'request_too_large',
      message: `The request body is larger than the gateway's limit of ${config.envoy.maxRequestBytes} bytes`,
      type: 'invalid_request_error',
    },
    { filter: status(415), code: 'unsupported_content_encoding', type: 'invalid_request_error' },
    { filter: status(431), code: 'headers_too_large', message: 'The request headers are too large', type: 'invalid_request_error' },
    { filter: status(404), code: 'not_found', type: 'not_found_error' },
    { filter: status(429), code: 'rate_limited', message: 'Too many requests; retry later', type: 'rate_limit_error' },
    { filter: status(500, 'GE'), code: 'gateway_error', type: 'server_error' },
    // Anything else Envoy answers itself is a 4xx about the request (malformed path, headers…);
    // Envoy's own text is often empty there, its details name the cause.
    {
      filter: status(400, 'GE'),
      code: 'bad_request',
      message: 'The gateway rejected this request as malformed (%RESPONSE_CODE_DETAILS%)',
      type: 'invalid_request_error',
    },
  ];
}

function mapper(c: Condition, openai: boolean, openaiPaths: Json): Json {
  const message = c.message ?? ENVOY_TEXT;
  const json_format = openai
    ? { error: { message, type: c.type, param: null, code: c.code, request_id: REQUEST_ID } }
    : { error: message, code: c.code, request_id: REQUEST_ID };
  const headers = { 'x-request-id': REQUEST_ID, ...c.headers };
  return {
    filter: openai ? and(openaiPaths, c.filter) : c.filter,
    ...(c.status !== undefined ? { status_code: c.status } : {}),
    headers_to_add: Object.entries(headers).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    body_format_override: { json_format, content_type: 'application/json' },
  };
}

/** The HttpConnectionManager's `local_reply_config`. First matching mapper wins. */
export function localReplyConfig(config: GatewayConfig): Json {
  const openaiPaths: Json = {
    or_filter: {
      filters: OPENAI_PATH_PREFIXES.map((prefix) => ({ header_filter: { header: { name: ':path', string_match: { prefix } } } })),
    },
  };
  const all = conditions(config);
  return {
    mappers: [
      // The ext-proc's own answers: matched first and left as they are (no body format here).
      { filter: cel(`response.code_details.startsWith('${GATEWAY_REPLY_DETAILS_PREFIX}')`) },
      ...all.map((c) => mapper(c, true, openaiPaths)),
      ...all.map((c) => mapper(c, false, openaiPaths)),
    ],
  };
}
