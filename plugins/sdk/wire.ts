/**
 * Names the ext-proc, the rendered Envoy config, the plugins and the test harness must agree
 * on. No imports: anything may depend on this module, and it depends on nothing.
 */

/** The header Envoy's route reads the upstream cluster from (`cluster_header`). Only the gateway sets it. */
export const CLUSTER_HEADER = 'x-gateway-cluster';
/** The cluster Envoy mirrors this request to (`request_mirror_policies[].cluster_header`). Only the gateway sets it. */
export const SHADOW_HEADER = 'x-gateway-shadow';
/** Response header Envoy's route sets from the serving endpoint's metadata: the version that answered. */
export const UPSTREAM_VERSION_HEADER = 'x-gateway-upstream-version';
/**
 * Response header the ext-proc sets on a pipelined response's headers (their answer waits for
 * the whole body): the body's length, which an Envoy filter right after the ext_proc filters
 * turns back into `content-length` (Envoy drops it from STREAMED bodies and refuses to take it
 * from the processor) and removes. Envoy strips any value a model server sends.
 */
export const BODY_LENGTH_HEADER = 'x-gateway-body-length';
/**
 * Upstream header naming the authenticated consumer (`ctx.vars.consumer.id`). Envoy and the
 * ext-proc drop any client-supplied value (INTERNAL_REQUEST_HEADERS), so model servers can trust it.
 */
export const CONSUMER_HEADER = 'x-gateway-consumer';
/** Request headers that steer Envoy: whatever a client sends under these names is dropped. */
export const INTERNAL_REQUEST_HEADERS = [CLUSTER_HEADER, SHADOW_HEADER, CONSUMER_HEADER] as const;

/**
 * Where Envoy puts an OpenAI body's `model` (json_to_metadata, envoy/body-model.ts) and what
 * the ext_proc filter forwards to the ext-proc: a namespace of our own, which nothing else writes.
 */
export const BODY_MODEL_METADATA = { namespace: 'gateway.request_body', key: 'model' } as const;
/** The OpenAI endpoints whose JSON body names the model (a regex for `:path` without its query). */
export const OPENAI_BODY_PATHS = '/v1/(chat/completions|completions|embeddings)';
/** The same endpoints as a whole `:path`, query string allowed (what json_to_metadata's matcher sees). */
export const OPENAI_BODY_PATH_WITH_QUERY = `^${OPENAI_BODY_PATHS}([?].*)?$`;

/** The gRPC service Envoy calls, and the name its health check asks about. */
export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';

/**
 * `details` prefix of every ImmediateResponse (Envoy's %RESPONSE_CODE_DETAILS%). Envoy treats
 * these as local replies; its local-reply mappers skip them by this prefix, so a body the
 * ext-proc already shaped is never rewritten. Envoy's own ext_proc failures start `ext_proc_`.
 */
export const GATEWAY_REPLY_DETAILS_PREFIX = 'gateway_reply_';

/** Envoy's own answer when the ext-proc chose no model (no cluster header set). */
const NO_MODEL_MESSAGE = 'no model selected for this request';
/** Envoy's answer when no route matched a model; `body` is what a non-OpenAI client receives (less code and request_id). */
export const NO_MODEL_SELECTED = { status: 404, message: NO_MODEL_MESSAGE, body: JSON.stringify({ error: NO_MODEL_MESSAGE }) } as const;
