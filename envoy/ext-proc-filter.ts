import type { GatewayConfig } from '../ext-proc/config/schema.js';
import { FILTER_BODY_MODES, FILTER_RESPONSE_HEADER_MODE } from '../ext-proc/filter-modes.js';
import {
  ProcessingMode_HeaderSendMode as HeaderMode,
  processingMode_BodySendModeToJSON as bodyModeName,
  processingMode_HeaderSendModeToJSON as headerModeName,
  type ProcessingMode,
} from '../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { BODY_MODEL_METADATA, readsBodyModel } from './body-model.js';
import { EXT_PROC_FILTER, isFailOpen } from './fail-open.js';
import { seconds } from './resilience.js';

// The ext_proc filter(s) of the gateway's HTTP filter chain: the one every request meets, and
// (pipelined.ts) a second one for pipelined OpenAI bodies. Both talk to the same ext-proc, the
// same way; only their processing modes (and stats prefixes) differ.

type Json = Record<string, unknown>;

export const EXT_PROC_CLUSTER = 'ext_proc';

/** A ProcessingMode as Envoy's YAML spells it. */
export function processingModeJson(mode: ProcessingMode): Json {
  return {
    request_header_mode: headerModeName(mode.requestHeaderMode),
    response_header_mode: headerModeName(mode.responseHeaderMode),
    request_body_mode: bodyModeName(mode.requestBodyMode),
    response_body_mode: bodyModeName(mode.responseBodyMode),
    request_trailer_mode: headerModeName(mode.requestTrailerMode),
    response_trailer_mode: headerModeName(mode.responseTrailerMode),
  };
}

/** The ExternalProcessor settings every ext_proc filter of the gateway has: where, how long, what on failure. */
export function externalProcessor(config: GatewayConfig): Json {
  return {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
    grpc_service: {
      envoy_grpc: { cluster_name: EXT_PROC_CLUSTER },
      // No timeout here: it would bound the whole stream, and an SSE response lives long.
      // A stream that cannot start on one replica (killed, or closing after its drain) starts on another.
      retry_policy: {
        retry_on: 'connect-failure,refused-stream,unavailable,reset',
        num_retries: 2,
        retry_host_predicate: [
          {
            name: 'envoy.retry_host_predicates.previous_hosts',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
          },
        ],
        host_selection_retry_max_attempts: 5,
        retry_back_off: { base_interval: '0.01s', max_interval: '0.1s' },
      },
    },
    // Fail-closed by default; fail-open models opt in on their own routes (see fail-open.ts).
    failure_mode_allow: false,
    status_on_error: { code: 503 },
    message_timeout: seconds(config.envoy.messageTimeoutMs),
    mutation_rules: { disallow_is_error: { value: false } },
  };
}

/** The ext_proc filter every request meets (unless its route turns it off). */
export function extProcFilter(config: GatewayConfig): Json {
  return {
    name: EXT_PROC_FILTER,
    typed_config: {
      ...externalProcessor(config),
      allow_mode_override: true,
      // Request bodies are buffered by default (OpenAI names its model there); the ext-proc
      // turns phases off per request with mode_override when no plugin needs them.
      processing_mode: processingModeJson({
        requestHeaderMode: HeaderMode.SEND,
        responseHeaderMode: FILTER_RESPONSE_HEADER_MODE,
        requestBodyMode: FILTER_BODY_MODES.request,
        responseBodyMode: FILTER_BODY_MODES.response,
        requestTrailerMode: HeaderMode.SKIP,
        responseTrailerMode: HeaderMode.SKIP,
      }),
      // The body's model, read by json_to_metadata, goes with the request headers: the
      // ext-proc can route then and skip the request-body round trip (body-model.ts).
      ...(readsBodyModel(config, (m) => isFailOpen(config, m)) && { metadata_options: { forwarding_namespaces: { untyped: [BODY_MODEL_METADATA.namespace] } } }),
    },
  };
}
