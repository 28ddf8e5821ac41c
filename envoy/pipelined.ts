import type { GatewayConfig } from '../ext-proc/config/schema.js';
import {
  ProcessingMode_BodySendMode as BodyMode,
  ProcessingMode_HeaderSendMode as HeaderMode,
  type ProcessingMode,
} from '../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { BODY_LENGTH_HEADER } from '../plugins/sdk/wire.js';
import { OPENAI_PATH_REGEX, readsBodyModel } from './body-model.js';
import { externalProcessor, processingModeJson } from './ext-proc-filter.js';
import { EXT_PROC_FILTER, isFailOpen } from './fail-open.js';

// Pipelined OpenAI bodies: one ext_proc round trip per direction instead of two.
//
// By default Envoy sends the request headers, waits for their answer, then sends the buffered
// body (and the same for the response). With `send_body_without_waiting_for_header_response`,
// Envoy sends a STREAMED body right behind its headers, and the ext-proc answers both at once
// (it knows a stream is pipelined from the `protocol_config` in the stream's first message).
//
// The flag makes Envoy ignore `mode_override` on every stream of its filter (checked with
// Envoy 1.40), and the gateway turns phases off per request with it everywhere else. So the flag
// goes on a second ext_proc filter (PIPELINED_EXT_PROC_FILTER, STREAMED bodies both ways), off
// by default and turned on, in place of the first, by a route of its own for the OpenAI body
// paths (PIPELINED_ROUTE): matched before the ext-proc routes, as the catch-all is, and
// answering like it when the ext-proc picks no version. Per-route filter settings are read from
// the route matched when the filter chain is built, i.e. this one.
//
// With the headers' answer held until the body's end, a slow upload would run into the ext_proc
// message timeout. So Envoy's buffer filter, off everywhere else, holds the request on that
// route until the whole body is there (413 above envoy.maxRequestBytes, as BUFFERED mode
// answers): the ext-proc gets the headers and then the whole body in one message with
// end_of_stream, back to back.

type Json = Record<string, unknown>;

/** The route OpenAI body requests match before the ext-proc routes them (then like the catch-all). */
export const PIPELINED_ROUTE = 'openai_pipelined';
export const BUFFER_FILTER = 'envoy.filters.http.buffer';
export const BODY_LENGTH_FILTER = 'envoy.filters.http.header_mutation.body_length';
/** The second ext_proc filter, the one that pipelines. */
export const PIPELINED_EXT_PROC_FILTER = 'envoy.filters.http.ext_proc.pipelined';
/** Its stats' prefix, apart from the first filter's: `http.<HCM prefix>.ext_proc.pipelined.*` (e.g. `streams_started`). */
export const PIPELINED_STAT_PREFIX = 'pipelined';
const EXT_PROC_PER_ROUTE = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';
const OPENAI_USAGE_TYPE = 'openai-usage';

/** The pipelined filter's modes; Envoy reports them in the stream's `protocol_config`. */
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

/** The catch-all's twin for OpenAI body paths: the pipelined ext_proc filter and the buffer filter in place of the first ext_proc filter. */
export function pipelinedRoute(config: GatewayConfig, catchAll: Json): Json {
  return {
    ...catchAll,
    name: PIPELINED_ROUTE,
    match: { safe_regex: { regex: OPENAI_PATH_REGEX } },
    typed_per_filter_config: {
      [BUFFER_FILTER]: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute',
        buffer: { max_request_bytes: config.envoy.maxRequestBytes },
      },
      [EXT_PROC_FILTER]: { '@type': EXT_PROC_PER_ROUTE, disabled: true },
      // Any per-route setting turns a disabled filter on (an empty FilterConfig is refused).
      [PIPELINED_EXT_PROC_FILTER]: { '@type': EXT_PROC_PER_ROUTE, overrides: { processing_mode: processingModeJson(PIPELINED_PROCESSING_MODE) } },
    },
  };
}

/** The ext_proc filter for pipelined streams; off except on PIPELINED_ROUTE. Goes right after the first one. */
export function pipelinedExtProcFilter(config: GatewayConfig): Json {
  return {
    name: PIPELINED_EXT_PROC_FILTER,
    disabled: true,
    typed_config: {
      ...externalProcessor(config),
      stat_prefix: PIPELINED_STAT_PREFIX,
      // Only STREAMED bodies go out before their headers' answer; mode_override is ignored.
      send_body_without_waiting_for_header_response: true,
      processing_mode: processingModeJson(PIPELINED_PROCESSING_MODE),
    },
  };
}

/**
 * Gives a pipelined response its `content-length` back: Envoy drops it from a STREAMED body's
 * headers and does not take it from the processor, which answers the headers once the whole
 * body is there and names its length in BODY_LENGTH_HEADER. Goes before the ext_proc filters and
 * after the compressors: on the way back it runs after the ext-proc answered and before a
 * compressor decides (a response under `minResponseBytes` stays as it is). A response without
 * the header (a body slower than half the message timeout: its headers went out first) stays
 * chunked. Model servers cannot set the header: every route removes it (bodyLengthSpoofGuard).
 */
export function bodyLengthFilter(): Json {
  return {
    name: BODY_LENGTH_FILTER,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      mutations: {
        response_mutations: [
          // An absent header formats as empty, and an empty value is not added.
          { append: { header: { key: 'content-length', value: `%RESP(${BODY_LENGTH_HEADER})%` }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } },
          { remove: BODY_LENGTH_HEADER },
        ],
      },
    },
  };
}

/**
 * On the route config's virtual host whatever the bootstrap (the routes may come later, by xDS):
 * route-level response header removal runs as the upstream's headers arrive, before any filter.
 */
export const bodyLengthSpoofGuard = { response_headers_to_remove: [BODY_LENGTH_HEADER] };

/** The buffer filter, off except where a route turns it on (PIPELINED_ROUTE). Goes before the ext_proc filters. */
export function bufferFilter(config: GatewayConfig): Json {
  return {
    name: BUFFER_FILTER,
    disabled: true,
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer', max_request_bytes: config.envoy.maxRequestBytes },
  };
}
