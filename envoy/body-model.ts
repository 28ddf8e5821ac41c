import type { GatewayConfig, ModelConfig } from '../ext-proc/config/schema.js';
import { ROUTER_TYPE } from '../plugins/sdk/routing-options.js';
import { BODY_MODEL_METADATA, OPENAI_BODY_PATH_WITH_QUERY, OPENAI_BODY_PATHS } from '../plugins/sdk/wire.js';

// OpenAI names the model in the JSON body. Envoy reads it (json_to_metadata) for two readers,
// when one of them can use it (readsBodyModel):
// - the ext_proc filter forwards it with the request headers (metadata_options), so the
//   ext-proc's routing step can place the request then, and no request-body round trip is
//   needed when no plugin reads the body (docs/routing.md, docs/performance.md);
// - fail-open OpenAI models' routes match on it, so they tell the models apart while the
//   ext-proc is down.
//
// Why the route is right when the ext_proc filter looks at it: the HCM picks a route from the
// headers alone (no metadata yet: the catch-all). json_to_metadata, placed before ext_proc,
// holds the request until the body is complete, sets the metadata and clears the route cache;
// only then does ext_proc see the headers and read its per-route override, from the route
// matched with the model known. (Checked against Envoy 1.40: docs/operations.md.)

type Json = Record<string, unknown>;

/** For a route's path match (without the query string). */
export const OPENAI_PATH_REGEX = `^${OPENAI_BODY_PATHS}$`;
export { BODY_MODEL_METADATA };
export const JSON_TO_METADATA_FILTER = 'envoy.filters.http.json_to_metadata';

/**
 * Route match on the body's `model` being exactly this model's name. `name@version` (or an
 * alias) does not match: only the ext-proc strips the suffix before the model server sees the
 * body, and a server asked for `tinylm@v2` answers that no such model exists. Such a request
 * stays fail-closed (503, retry shortly) rather than reach a server that rejects it.
 */
export function bodyModelMatch(model: string): Json {
  return {
    dynamic_metadata: [
      {
        filter: BODY_MODEL_METADATA.namespace,
        path: [{ key: BODY_MODEL_METADATA.key }],
        value: { string_match: { exact: model } },
      },
    ],
  };
}

const SKIP_FILTER = {
  action: {
    name: 'skip',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter' },
  },
};

/**
 * Built-in plugin types that never read an OpenAI request's body (no requestBody hook, or not
 * for OpenAI): before the routing step they leave the body as the client sent it, so the
 * ext-proc may route from the model Envoy read (test/unit/body-model.test.ts keeps this true).
 */
export const OPENAI_BODY_UNTOUCHED_TYPES: ReadonlySet<string> = new Set([
  'api-key-auth',
  'jwt-auth',
  ROUTER_TYPE,
  'sse-content-filter',
  'kserve-v2-validation',
  'tfserving-validation',
  'sentiment-text',
]);

/**
 * Whether Envoy reads OpenAI bodies' `model` (json_to_metadata): for fail-open OpenAI models'
 * routes, and for the ext-proc's routing step when it can use it — when every plugin before the
 * step (before the `model-router` entry, or the whole global chain without one) is known to
 * leave an OpenAI body alone. Otherwise the body phase runs anyway and the step reads the model
 * there: Envoy parsing the body too would only cost it CPU.
 */
export function readsBodyModel(config: GatewayConfig, isFailOpen: (m: ModelConfig) => boolean): boolean {
  const openai = Object.values(config.models).filter((m) => m.protocol === 'openai');
  if (openai.length === 0) return false;
  if (openai.some(isFailOpen)) return true;
  const at = config.plugins.findIndex((p) => p.type === ROUTER_TYPE);
  const beforeStep = at === -1 ? config.plugins : config.plugins.slice(0, at);
  return beforeStep.every((p) => OPENAI_BODY_UNTOUCHED_TYPES.has(p.type));
}

/**
 * The json_to_metadata filter, or nothing when Envoy need not read the model (readsBodyModel).
 * It holds an OpenAI request until its body is complete, as the ext_proc filter's BUFFERED body
 * mode would, and skips itself (its own matcher on `:path`) for every request that is not an
 * OpenAI body request: V2 and TF Serving requests never meet it.
 */
export function bodyModelFilter(config: GatewayConfig, isFailOpen: (m: ModelConfig) => boolean): Json | undefined {
  if (!readsBodyModel(config, isFailOpen)) return undefined;
  const notOpenAiPath = {
    not_matcher: {
      single_predicate: {
        input: {
          name: 'path',
          typed_config: { '@type': 'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput', header_name: ':path' },
        },
        // `:path` carries the query string, which a route's path match ignores.
        value_match: { safe_regex: { google_re2: {}, regex: OPENAI_BODY_PATH_WITH_QUERY } },
      },
    },
  };
  return {
    name: JSON_TO_METADATA_FILTER,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher',
      xds_matcher: { matcher_list: { matchers: [{ predicate: notOpenAiPath, on_match: SKIP_FILTER }] } },
      extension_config: {
        name: JSON_TO_METADATA_FILTER,
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata',
          request_rules: {
            rules: [
              {
                selectors: [{ key: 'model' }],
                // No on_missing / on_error: a body without `model` (or no JSON at all) sets
                // nothing and so matches no fail-open route. PROTOBUF_VALUE keeps a number a
                // number (STRING would turn 5 into "5", a valid model name).
                on_present: { metadata_namespace: BODY_MODEL_METADATA.namespace, key: BODY_MODEL_METADATA.key, type: 'PROTOBUF_VALUE' },
              },
            ],
            // Like the ext-proc, which reads the body whatever its content-type says.
            allow_content_types_regex: { regex: '.*' },
            allow_empty_content_type: true,
          },
        },
      },
    },
  };
}
