import type { Protocol, RouteHints, RouteUpdate } from '../../plugins/sdk/types.js';
import { GatewayErrorCodes, PluginError } from '../../plugins/sdk/errors.js';
import type { HeaderSet } from '../../plugins/sdk/headers.js';
import type { Runtime } from '../runtime.js';
import { CLUSTER_HEADER, SHADOW_HEADER, UPSTREAM_VERSION_HEADER } from '../../plugins/sdk/wire.js';

type Catalog = Runtime['catalog'];

/**
 * Validates hints from `ctx.setRoute` and records them in `route`. Unknown models and
 * versions are the client's 404, never a fall-through; `joinedModel` is the model whose chain
 * already joined (it cannot change any more).
 */
export function applyRouteHints(route: RouteHints, hints: RouteUpdate, catalog: Catalog, joinedModel: string | undefined, protocol: Protocol | undefined): void {
  if (hints.model !== undefined && hints.model !== route.model) {
    if (joinedModel !== undefined) {
      throw new PluginError(500, 'route_conflict', `model already resolved to "${joinedModel}"`, { expose: false });
    }
    const model = catalog.get(hints.model);
    if (!model) {
      throw new PluginError(404, GatewayErrorCodes.modelNotFound, `The model '${hints.model}' does not exist`, {
        param: protocol === 'openai' ? 'model' : undefined,
      });
    }
    route.model = hints.model;
  }
  if (hints.version !== undefined) {
    const modelName = route.model;
    const model = modelName === undefined ? undefined : catalog.get(modelName);
    if (!model) throw new PluginError(500, 'route_incomplete', 'a version was set before the model', { expose: false });
    const alias = model.aliases[hints.version];
    const version = alias ?? hints.version;
    if (!model.versions.includes(version)) {
      throw new PluginError(404, GatewayErrorCodes.versionNotFound, `Model '${model.name}' has no version or alias '${hints.version}'`);
    }
    route.version = version;
    if (alias !== undefined) route.reason = hints.reason ?? `alias:${hints.version}`;
  }
  if (hints.reason !== undefined && route.reason === undefined) route.reason = hints.reason;
  if (hints.variant !== undefined) route.variant = hints.variant;
  if (hints.experiment !== undefined) route.experiment = hints.experiment;
  if (hints.shadow === null) delete route.shadow;
  else if (hints.shadow !== undefined) route.shadow = knownVersion(route, catalog, hints.shadow, 'shadow');
  if (hints.fallback === null) delete route.fallback;
  else if (hints.fallback !== undefined) route.fallback = knownVersion(route, catalog, hints.fallback, 'fallback');
}

/** Shadow and fallback come from the config, never from the client: a bad one is our bug. */
function knownVersion(route: RouteHints, catalog: Catalog, version: string, what: string): string {
  const model = route.model === undefined ? undefined : catalog.get(route.model);
  if (!model?.versions.includes(version)) {
    throw new PluginError(500, 'route_invalid', `${what} version "${version}" is not a version of the model`, { expose: false });
  }
  return version;
}

/**
 * At the last request phase: picks the default version if nobody chose one and points Envoy
 * at its cluster (and the shadow's). Returns whether the route headers changed.
 */
export function finishRouting(route: RouteHints, runtime: Pick<Runtime, 'catalog' | 'cluster'>, headers: HeaderSet): boolean {
  const model = route.model;
  if (model === undefined) return false;
  if (route.version === undefined) {
    const fallback = runtime.catalog.get(model)?.defaultVersion;
    if (fallback !== undefined) {
      route.version = fallback;
      route.reason ??= 'default';
    }
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
