// The Envoy Gateway variant (deploy/kubernetes/envoy-gateway): the resources that depend on the
// gateway config, rendered from it so they cannot drift from what the ext-proc routes to.
// Envoy Gateway owns Envoy there; our bootstrap (envoy/render.ts) is not used, and what it
// holds that Envoy Gateway's API cannot say is listed in docs/kubernetes.md.
import { clusterName, type GatewayConfig } from '../../ext-proc/config/schema.js';
import { FILTER_BODY_MODES, FILTER_RESPONSE_HEADER_MODE } from '../../ext-proc/envoy-messages.js';
import { ProcessingMode_BodySendMode as BodyMode, ProcessingMode_HeaderSendMode as HeaderMode } from '../../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { CLUSTER_HEADER, EXT_PROC_SERVICE, INTERNAL_REQUEST_HEADERS, NO_MODEL_SELECTED } from '../../plugins/sdk/wire.js';

type Json = Record<string, unknown>;

/** Names shared by the static manifests in deploy/kubernetes/envoy-gateway and the rendered ones. */
export const EG_NAMES = {
  gateway: 'inference-gateway',
  route: 'inference-gateway',
  extProcService: 'ext-proc',
  noModelFilter: 'no-model-selected',
  extensionPolicy: 'inference-gateway-ext-proc',
  clientPolicy: 'inference-gateway-strip-internal-headers',
} as const;

const GATEWAY_REF = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: EG_NAMES.gateway } as const;

/** Envoy Gateway's names for the body modes our filter uses (the rest has no EG equivalent). */
const EG_BODY_MODE: Partial<Record<BodyMode, string>> = {
  [BodyMode.BUFFERED]: 'Buffered',
  [BodyMode.STREAMED]: 'Streamed',
  [BodyMode.BUFFERED_PARTIAL]: 'BufferedPartial',
};

/**
 * Our filter's default processing mode in Envoy Gateway's terms: request headers and the
 * buffered body go out; response headers and body only when the ext-proc's mode_override asks
 * (EG sends response headers whenever `response` is present, so it must be absent here).
 */
export function egProcessingMode(): Json {
  if (FILTER_RESPONSE_HEADER_MODE !== HeaderMode.SKIP || FILTER_BODY_MODES.response !== BodyMode.NONE) {
    throw new Error('the filter now processes responses by default: map that to processingMode.response');
  }
  const body = EG_BODY_MODE[FILTER_BODY_MODES.request];
  if (body === undefined) throw new Error(`no Envoy Gateway body mode for ${FILTER_BODY_MODES.request}`);
  return { request: { body }, allowModeOverride: true };
}

/** `host:port` → a Service reference: `svc`, or `svc.namespace[.svc.cluster.local]`. */
function serviceRef(endpoint: string, hostMap: Readonly<Record<string, string>>): Json {
  const i = endpoint.lastIndexOf(':');
  const host = hostMap[endpoint.slice(0, i)] ?? endpoint.slice(0, i);
  if (/^[\d.:[\]]+$/.test(host)) throw new Error(`${endpoint}: Envoy Gateway routes to Services, not IP addresses (use --host-map or a Service name)`);
  const [name, namespace] = host.split('.');
  return { name, ...(namespace !== undefined ? { namespace } : {}), port: Number(endpoint.slice(i + 1)) };
}

/**
 * One rule per model version, matched on the cluster header the ext-proc sets (Envoy re-picks
 * the route when the ext-proc changes headers), plus a catch-all that sends every request
 * through the ext-proc in the first place and answers 404 when it chose no model.
 */
export function renderHttpRoute(config: GatewayConfig, hostMap: Readonly<Record<string, string>> = {}): Json {
  const rules: Json[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    const shadow = m.traffic?.shadow;
    for (const [version, v] of Object.entries(m.versions)) {
      const mirror =
        shadow !== undefined && shadow.version !== version
          ? [{ type: 'RequestMirror', requestMirror: { backendRef: serviceRef(m.versions[shadow.version]?.endpoints[0] as string, hostMap), percent: shadow.percent } }]
          : [];
      rules.push({
        name: ruleName(model, version),
        matches: [{ headers: [{ type: 'Exact', name: CLUSTER_HEADER, value: clusterName(model, version) }] }],
        backendRefs: v.endpoints.map((e) => serviceRef(e, hostMap)),
        ...(mirror.length > 0 ? { filters: mirror } : {}),
        // Zero disables the timeout in both APIs (streams that run long).
        timeouts: { request: gatewayDuration(v.timeoutMs) },
      });
    }
  }
  rules.push({
    name: 'no-model-selected',
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    filters: [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.envoyproxy.io', kind: 'HTTPRouteFilter', name: EG_NAMES.noModelFilter } }],
  });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: EG_NAMES.route },
    spec: { parentRefs: [{ name: EG_NAMES.gateway }], rules },
  };
}

/** A Gateway API duration (at most 5 digits per unit): `30s`, `1500ms`, `0s`. */
export function gatewayDuration(ms: number): string {
  const text = ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(text)) throw new Error(`${ms} ms cannot be written as a Gateway API duration`);
  return text;
}

/** Rule names are DNS labels: `sentiment@v1` → `sentiment-v1`. */
function ruleName(model: string, version: string): string {
  return `${model}-${version}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** The catch-all's answer: what our own bootstrap answers when no model was selected. */
export function renderNoModelFilter(): Json {
  return {
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'HTTPRouteFilter',
    metadata: { name: EG_NAMES.noModelFilter },
    spec: { directResponse: { statusCode: NO_MODEL_SELECTED.status, contentType: 'application/json', body: { type: 'Inline', inline: NO_MODEL_SELECTED.body } } },
  };
}

/** The ext-proc as the Gateway's external processor, with our filter's modes and timeouts. */
export function renderExtensionPolicy(config: GatewayConfig): Json {
  const hc = config.envoy.extProcHealthCheck;
  return {
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'EnvoyExtensionPolicy',
    metadata: { name: EG_NAMES.extensionPolicy },
    spec: {
      targetRefs: [GATEWAY_REF],
      extProc: [
        {
          backendRefs: [{ name: EG_NAMES.extProcService, port: config.extProc.port }],
          backendSettings: {
            healthCheck: {
              active: {
                type: 'GRPC',
                grpc: { service: EXT_PROC_SERVICE },
                timeout: gatewayDuration(hc.timeoutMs),
                interval: gatewayDuration(hc.intervalMs),
                unhealthyThreshold: hc.unhealthyThreshold,
                healthyThreshold: hc.healthyThreshold,
              },
            },
          },
          processingMode: egProcessingMode(),
          messageTimeout: gatewayDuration(config.envoy.messageTimeoutMs),
          failOpen: false,
          statusOnError: 503,
        },
      ],
    },
  };
}

/** Clients never choose the cluster or the mirror: the headers go before any route is picked. */
export function renderClientTrafficPolicy(config: GatewayConfig): Json {
  return {
    apiVersion: 'gateway.envoyproxy.io/v1alpha1',
    kind: 'ClientTrafficPolicy',
    metadata: { name: EG_NAMES.clientPolicy },
    spec: {
      targetRefs: [GATEWAY_REF],
      headers: { earlyRequestHeaders: { remove: [...INTERNAL_REQUEST_HEADERS] } },
      connection: { bufferLimit: String(config.envoy.maxRequestBytes) },
    },
  };
}

/** Every config-derived Envoy Gateway resource, in apply order. */
export function renderEnvoyGatewayResources(config: GatewayConfig, hostMap: Readonly<Record<string, string>> = {}): Json[] {
  return [renderNoModelFilter(), renderHttpRoute(config, hostMap), renderExtensionPolicy(config), renderClientTrafficPolicy(config)];
}
