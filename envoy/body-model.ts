import type { GatewayConfig, ModelConfig } from '../ext-proc/config/schema.js';

// OpenAI names the model in the JSON body, which normally only the ext-proc reads. For
// fail-open OpenAI models Envoy reads it too (json_to_metadata), so their routes can tell the
// models apart while the ext-proc is down.
//
// Why the route is right when the ext_proc filter looks at it: the HCM picks a route from the
// headers alone (no metadata yet: the catch-all). json_to_metadata, placed before ext_proc,
// holds the request until the body is complete, sets the metadata and clears the route cache;
// only then does ext_proc see the headers and read its per-route override, from the route
// matched with the model known. (Checked against Envoy 1.40: docs/operations.md.)

type Json = Record<string, unknown>;

/** The OpenAI endpoints whose body names the model. */
const OPENAI_PATHS = '/v1/(chat/completions|completions|embeddings)';
/** For a route's path match (without the query string). */
export const OPENAI_PATH_REGEX = `^${OPENAI_PATHS}$`;
/** Where the body's `model` goes: a namespace of our own, which nothing else writes. */
export const BODY_MODEL_METADATA = { namespace: 'gateway.request_body', key: 'model' } as const;
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
 * The json_to_metadata filter, or nothing when no OpenAI model is fail-open (it holds every
 * OpenAI request until its body is complete and parses it once more). It skips itself (its own
 * matcher on `:path`) for every request that is not an OpenAI body request: V2 and TF Serving
 * requests never meet it.
 */
export function bodyModelFilter(config: GatewayConfig, isFailOpen: (m: ModelConfig) => boolean): Json | undefined {
  if (!Object.values(config.models).some((m) => m.protocol === 'openai' && isFailOpen(m))) return undefined;
  const notOpenAiPath = {
    not_matcher: {
      single_predicate: {
        input: {
          name: 'path',
          typed_config: { '@type': 'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput', header_name: ':path' },
        },
        // `:path` carries the query string, which a route's path match ignores.
        value_match: { safe_regex: { google_re2: {}, regex: `^${OPENAI_PATHS}([?].*)?$` } },
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
