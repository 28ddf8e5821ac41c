import { clusterName, type GatewayConfig, type ModelConfig } from '../ext-proc/config/schema.js';
import { GATEWAY_REPLY_DETAILS_PREFIX } from '../plugins/sdk/wire.js';
import { bodyModelMatch, OPENAI_PATH_REGEX } from './body-model.js';
import { routeResilience } from './resilience.js';

// Fail-open models keep serving while the ext-proc is unreachable. Normally the ext-proc
// picks the route (it sets the cluster header); without it, nothing would. So each fail-open
// model also gets static routes by path, matched before the ext-proc runs, whose per-route
// ext_proc override allows failure. When the ext-proc answers, it sets the cluster header and
// clears the route cache, and the request moves to its version route as usual; when it
// doesn't, the request stays on the static route and reaches the model unprocessed.
// OpenAI names its model in the body: its routes also match the model Envoy read from the body
// (body-model.ts).

type Json = Record<string, unknown>;

export const FAIL_OPEN_ROUTE_PREFIX = 'fail_open:';
export const EXT_PROC_FILTER = 'envoy.filters.http.ext_proc';

export function isFailOpen(config: GatewayConfig, model: ModelConfig): boolean {
  return model.failOpen ?? config.envoy.failureModeAllow;
}

/** Path regexes for one model: per explicit version, and the default for everything else of the model. */
function pathPatterns(model: string, m: ModelConfig): { version?: string; regex: string }[] {
  const versions = Object.keys(m.versions);
  switch (m.protocol) {
    case 'kserve-v2':
      return [
        ...versions.map((v) => ({ version: v, regex: `^/v2/models/${model}/versions/${v}(/.*)?$` })),
        { regex: `^/v2/models/${model}(/.*)?$` },
      ];
    case 'tfserving':
      return [
        ...versions.map((v) => ({ version: v, regex: `^/v1/models/${model}/versions/${v}([/:].*)?$` })),
        { regex: `^/v1/models/${model}([/:].*)?$` },
      ];
    case 'openai':
      return [{ regex: OPENAI_PATH_REGEX }];
  }
}

const failOpenOverride: Json = {
  [EXT_PROC_FILTER]: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute',
    overrides: { failure_mode_allow: true },
  },
};

/** Static routes for fail-open models, placed after the version routes and before the catch-all. */
export function failOpenRoutes(config: GatewayConfig): Json[] {
  const routes: Json[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    if (!isFailOpen(config, m)) continue;
    const defaultVersion = m.defaultVersion ?? (Object.keys(m.versions)[0] as string);
    for (const { version = defaultVersion, regex } of pathPatterns(model, m)) {
      const v = m.versions[version];
      if (!v) continue;
      const cluster = clusterName(model, version);
      routes.push({
        name: `${FAIL_OPEN_ROUTE_PREFIX}${cluster}`,
        match: { safe_regex: { regex }, ...(m.protocol === 'openai' ? bodyModelMatch(model) : {}) },
        route: { cluster, ...routeResilience(v) },
        typed_per_filter_config: failOpenOverride,
      });
    }
  }
  return routes;
}

/** Logs each request that reached a model through a fail-open route without the ext-proc, as one JSON line. */
export function failOpenAccessLog(): Json {
  return {
    name: 'envoy.access_loggers.stdout',
    filter: {
      extension_filter: {
        name: 'envoy.access_loggers.extension_filters.cel',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter',
          expression: `xds.route_name.startsWith('${FAIL_OPEN_ROUTE_PREFIX}') && !response.code_details.startsWith('${GATEWAY_REPLY_DETAILS_PREFIX}')`,
        },
      },
    },
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      log_format: {
        json_format: {
          event: 'ext_proc_fail_open',
          time: '%START_TIME%',
          request_id: '%REQ(X-REQUEST-ID)%',
          method: '%REQ(:METHOD)%',
          path: '%REQ(:PATH)%',
          route: '%ROUTE_NAME%',
          cluster: '%UPSTREAM_CLUSTER%',
          status: '%RESPONSE_CODE%',
          details: '%RESPONSE_CODE_DETAILS%',
          duration_ms: '%DURATION%',
        },
      },
    },
  };
}
