import type { GatewayConfig } from '../ext-proc/config/schema.js';
import {
  ProcessingMode_BodySendMode as BodyMode,
  ProcessingMode_HeaderSendMode as HeaderMode,
  processingMode_BodySendModeToJSON as bodyModeName,
  processingMode_HeaderSendModeToJSON as headerModeName,
  type ProcessingMode,
} from '../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { OPENAI_PATH_REGEX, readsBodyModel } from './body-model.js';
import { EXT_PROC_FILTER, isFailOpen } from './fail-open.js';

// Pipelined OpenAI bodies: one ext_proc round trip per direction instead of two.
//
// By default Envoy sends the request headers, waits for their answer, then sends the buffered
// body (and the same for the response). With `send_body_without_waiting_for_header_response`,
// Envoy sends a STREAMED body right behind its headers, and the ext-proc answers both at once
// (it knows a stream is pipelined from the `protocol_config` in the stream's first message).
// The flag only changes STREAMED bodies: every route that keeps the filter's default modes
// (BUFFERED / NONE) waits for the headers' answer as before. So the flag is set on the filter,
// and only OpenAI body requests get STREAMED modes, from a route of their own (PIPELINED_ROUTE)
// matched before the ext-proc routes, as the catch-all is, and answering like it.
//
// With the headers' answer held until the body's end, a slow upload would run into the ext_proc
// message timeout. So Envoy's buffer filter, disabled everywhere else, holds the request on
// that route until the whole body is there (413 above envoy.maxRequestBytes, as BUFFERED mode
// answers): the ext-proc gets the headers and the whole body, in one message with end_of_stream,
// back to back.

type Json = Record<string, unknown>;

/** The route OpenAI body requests match before the ext-proc routes them (then like the catch-all). */
export const PIPELINED_ROUTE = 'openai_pipelined';
export const BUFFER_FILTER = 'envoy.filters.http.buffer';
const OPENAI_USAGE_TYPE = 'openai-usage';

/** The ext_proc modes on PIPELINED_ROUTE; Envoy reports them in the stream's `protocol_config`. */
export const PIPELINED_PROCESSING_MODE: ProcessingMode = {
  requestHeaderMode: HeaderMode.SEND,
  responseHeaderMode: HeaderMode.SEND,
  requestBodyMode: BodyMode.STREAMED,
  responseBodyMode: BodyMode.STREAMED,
  requestTrailerMode: HeaderMode.SKIP,
  responseTrailerMode: HeaderMode.SKIP,
};

/**
 * Whether OpenAI body requests are pipelined: only when both bodies go to the ext-proc anyway
 * (the request's, for the model, when Envoy does not read it itself: readsBodyModel; the
 * response's, for an `openai-usage` plugin in the global chain), so there is a round trip per
 * direction to save; and `envoy.pipelineBodies` is not turned off.
 */
export function pipelinesOpenAiBodies(config: GatewayConfig): boolean {
  if (!config.envoy.pipelineBodies) return false;
  if (!Object.values(config.models).some((m) => m.protocol === 'openai')) return false;
  if (readsBodyModel(config, (m) => isFailOpen(config, m))) return false;
  return config.plugins.some((p) => p.type === OPENAI_USAGE_TYPE);
}

/** The catch-all's twin for OpenAI body paths, with the pipelined modes and the buffer filter on. */
export function pipelinedRoute(config: GatewayConfig, catchAll: Json): Json {
  const mode = PIPELINED_PROCESSING_MODE;
  return {
    ...catchAll,
    name: PIPELINED_ROUTE,
    match: { safe_regex: { regex: OPENAI_PATH_REGEX } },
    typed_per_filter_config: {
      [BUFFER_FILTER]: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute',
        buffer: { max_request_bytes: config.envoy.maxRequestBytes },
      },
      [EXT_PROC_FILTER]: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute',
        overrides: {
          processing_mode: {
            request_header_mode: headerModeName(mode.requestHeaderMode),
            response_header_mode: headerModeName(mode.responseHeaderMode),
            request_body_mode: bodyModeName(mode.requestBodyMode),
            response_body_mode: bodyModeName(mode.responseBodyMode),
            request_trailer_mode: headerModeName(mode.requestTrailerMode),
            response_trailer_mode: headerModeName(mode.responseTrailerMode),
          },
        },
      },
    },
  };
}

/** The buffer filter, off except where a route turns it on (PIPELINED_ROUTE). Goes right before ext_proc. */
export function bufferFilter(config: GatewayConfig): Json {
  return {
    name: BUFFER_FILTER,
    disabled: true,
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer', max_request_bytes: config.envoy.maxRequestBytes },
  };
}
