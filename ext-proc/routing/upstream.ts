import type { ModelCatalog, RequestInfo, RequestVars, RouteHints } from '../../plugins/sdk/types.js';
import type { HeaderSet } from '../../plugins/sdk/headers.js';
import { CLUSTER_HEADER, SHADOW_HEADER, UPSTREAM_VERSION_HEADER } from '../../plugins/sdk/wire.js';
import { applyRouteHints } from './hints.js';
import { placeByPolicy } from './traffic.js';

/** What finishing a route reads of the config in force (the runtime). */
export interface RouteTargets {
  readonly catalog: ModelCatalog;
  /** Envoy's cluster for a version, or for the version-then-fallback pair; undefined when unknown. */
  cluster(model: string, version: string, fallback?: string): string | undefined;
}

/**
 * At the last request phase: a model that a plugin named after the routing step, without a
 * version, is placed by its traffic policy (the same rule as everywhere); then Envoy is pointed
 * at the version's cluster (and the shadow's). Returns whether the route headers changed.
 */
export function finishRouting(
  route: RouteHints,
  request: RequestInfo,
  vars: RequestVars,
  runtime: RouteTargets,
  headers: HeaderSet,
): boolean {
  const model = route.model;
  if (model === undefined) return false;
  if (route.version === undefined) {
    const info = runtime.catalog.get(model);
    if (info !== undefined) applyRouteHints(route, placeByPolicy(info, request.headers, vars), runtime.catalog, model, request.protocol);
  }
  const { version, fallback, shadow } = route;
  const cluster = version === undefined ? undefined : runtime.cluster(model, version, fallback);
  if (!cluster || version === undefined) return false;
  headers.set(CLUSTER_HEADER, cluster);
  const mirror = shadow === undefined || shadow === version ? undefined : runtime.cluster(model, shadow);
  if (mirror) headers.set(SHADOW_HEADER, mirror);
  return true;
}

/**
 * Envoy's route stamps the version of the endpoint that answered. When it is the fallback,
 * the route records that, so the client is told who really served it. The header never
 * reaches the client.
 */
export function noteServedVersion(route: RouteHints, responseHeaders: HeaderSet, served: string | undefined): void {
  if (served === undefined) return;
  responseHeaders.remove(UPSTREAM_VERSION_HEADER);
  const { model, version } = route;
  if (model === undefined || version === undefined || served === version) return;
  if (served !== route.fallback) return;
  route.fallbackFrom = version;
  route.version = served;
}
