import type { ModelCatalog, ModelInfo, Protocol, RouteHints, RouteUpdate } from '../../plugins/sdk/types.js';
import { gatewayError, type PluginError } from '../../plugins/sdk/errors.js';
import { BODY_MODEL_METADATA } from '../../plugins/sdk/wire.js';
import type { Metadata } from '../gen/envoy/config/core/v3/base.js';

/**
 * The one alias rule: a name is a version of the model, or an alias of one. Returns the real
 * version, or undefined when the model has neither.
 */
export function resolveVersion(model: ModelInfo, name: string): string | undefined {
  const version = model.aliases[name] ?? name;
  return model.versions.includes(version) ? version : undefined;
}

/** The 404 for a version or alias the model does not have (OpenAI's `model@version` is an unknown model instead). */
export function versionNotFound(model: string, name: string): PluginError {
  return gatewayError('version_not_found', `Model '${model}' has no version or alias '${name}'`);
}

/**
 * Validates hints from `ctx.setRoute` (the core's routing step gives its decisions the same
 * way) and records them in `route`. Unknown models and versions are the client's 404, never
 * a fall-through; `joinedModel` is the model whose chain already joined (it cannot change any more).
 */
export function applyRouteHints(route: RouteHints, hints: RouteUpdate, catalog: ModelCatalog, joinedModel: string | undefined, protocol: Protocol | undefined): void {
  if (hints.model !== undefined && hints.model !== route.model) {
    if (joinedModel !== undefined) {
      throw gatewayError('route_conflict', `model already resolved to "${joinedModel}"`);
    }
    const model = catalog.get(hints.model);
    if (!model) {
      throw gatewayError('model_not_found', `The model '${hints.model}' does not exist`, {
        param: protocol === 'openai' ? 'model' : undefined,
      });
    }
    route.model = hints.model;
  }
  if (hints.version !== undefined) {
    const modelName = route.model;
    const model = modelName === undefined ? undefined : catalog.get(modelName);
    if (!model) throw gatewayError('route_incomplete', 'a version was set before the model');
    const version = resolveVersion(model, hints.version);
    if (version === undefined) {
      throw versionNotFound(model.name, hints.version);
    }
    route.version = version;
    if (model.aliases[hints.version] !== undefined) route.reason = hints.reason ?? `alias:${hints.version}`;
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
function knownVersion(route: RouteHints, catalog: ModelCatalog, version: string, what: string): string {
  const model = route.model === undefined ? undefined : catalog.get(route.model);
  if (!model?.versions.includes(version)) {
    throw gatewayError('route_invalid', `${what} version "${version}" is not a version of the model`);
  }
  return version;
}

/**
 * The OpenAI body's `model` that Envoy forwarded with the request headers (json_to_metadata,
 * envoy/body-model.ts), when it is a non-empty string; anything else is left to the body phase.
 */
export function bodyModelOf(metadata: Metadata | undefined): string | undefined {
  const value: unknown = metadata?.filterMetadata[BODY_MODEL_METADATA.namespace]?.[BODY_MODEL_METADATA.key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
