import { z } from 'zod';
import type { PathTarget } from '../../plugins/sdk/paths.js';
import type { ModelInfo, PluginHooks, RouteUpdate, RequestBodyContext, RequestHeadersContext, ResponseHeadersContext, Respond } from '../../plugins/sdk/types.js';
import type { RoutingSettings } from '../../plugins/sdk/routing-options.js';
import { resolveVersion, versionNotFound } from './hints.js';
import { placeByPolicy } from './traffic.js';

const OpenAiModelField = z.object({ model: z.string().min(1, 'model must not be empty') }).loose();

type RequestContext = RequestHeadersContext | RequestBodyContext;

/** Where the step sits in the global chain (place.ts). */
export interface StepPlacement {
  /** No plugin before the step has a requestBody hook: the body it reads is the client's. */
  readonly bodyUntouchedBefore: boolean;
}

/**
 * The core's routing step, once per request: the model from the parsed path target
 * (`ctx.request.target`) or, for OpenAI, the body's `model` (the step asks Envoy for that body
 * itself); the version from the path, `model@version` or the version header, else from the
 * traffic policy; the server-level paths answered; the client told what served it. What a
 * plugin named before the step (`ctx.setRoute`) wins: the step fills in only what is missing.
 * Every decision goes through the same validation as a plugin's hints (`ctx.setRoute`).
 *
 * It runs in the chain's order, so what ran before it (authentication: a 401 before a 404, the
 * consumer a sticky key reads) keeps its meaning: where `model-router` is listed in the global
 * chain, or after the global chain otherwise (place.ts puts it there, once per config).
 */
export function routingStep(settings: RoutingSettings, placement: StepPlacement = { bodyUntouchedBefore: false }): PluginHooks {
  const { versionHeader, openaiVersionSeparator: separator } = settings;

  /**
   * An explicit version (path, OpenAI `model@version`, version header; each may be an alias)
   * wins over the traffic policy and is never swapped for another: unknown → 404.
   */
  const route = (ctx: RequestContext, model: ModelInfo, named: { version: string; source: 'path' | 'model' } | undefined, target: PathTarget | undefined): Respond | undefined => {
    const header = named === undefined ? ctx.request.headers.get(versionHeader) : undefined;
    const explicit = named ?? (header ? { version: header, source: 'header' as const } : undefined);
    // One setRoute per request (model and version together): this runs for every request.
    if (explicit) {
      const { version, source } = explicit;
      if (resolveVersion(model, version) === undefined) {
        ctx.setRoute({ model: model.name }); // the 404 is still counted against its model
        // OpenAI clients name versions inside `model`; to them it is simply an unknown model.
        return source === 'model'
          ? ctx.fail(404, `The model '${model.name}${separator}${version}' does not exist`, { code: 'model_not_found', param: 'model' })
          : ctx.fail(404, versionNotFound(model.name, version).message, { code: 'version_not_found' });
      }
      ctx.setRoute({ model: model.name, version, reason: model.aliases[version] !== undefined ? `alias:${version}` : source });
    } else {
      const placed: RouteUpdate = placeByPolicy(model, ctx.request.headers, ctx.vars);
      placed.model = model.name;
      ctx.setRoute(placed);
    }
    // Model servers know versions, not our aliases: point an aliased path at the real version.
    if (named?.source === 'path' && target?.withVersion && ctx.route.version !== named.version) {
      ctx.headers.set(':path', target.withVersion(ctx.route.version as string) + queryOf(ctx.request.path));
    }
    return undefined;
  };

  /** A plugin named the model before the step: keep it, and place its version if none was named. */
  const keepHinted = (ctx: RequestContext, modelName: string): undefined => {
    const model = ctx.models.get(modelName);
    if (model !== undefined && ctx.route.version === undefined) ctx.setRoute(placeByPolicy(model, ctx.request.headers, ctx.vars));
    return undefined;
  };

  /**
   * OpenAI: the model Envoy read from the body (`ctx.request.bodyModel`) places the request with
   * its headers, so no request-body round trip is needed unless a plugin reads the body. Only
   * when it decides exactly what the body phase would: no plugin before the step can have
   * rewritten the body, and the name is a plain model of ours (`name@version` is rewritten in
   * the body; an unknown name gets its 404, with `param: model`, from the body phase).
   */
  const routeFromBodyModel = (ctx: RequestHeadersContext): undefined | Respond => {
    const named = ctx.request.bodyModel;
    if (!placement.bodyUntouchedBefore || named === undefined || named.includes(separator)) return undefined;
    const model = ctx.models.get(named);
    if (!model || model.protocol !== 'openai') return undefined;
    return route(ctx, model, undefined, ctx.request.target);
  };

  return {
    needs: {
      // Only OpenAI inference names its model in the body.
      requestBody: (request, current) => request.protocol === 'openai' && current.model === undefined,
    },

    requestHeaders(ctx) {
      if (ctx.route.model !== undefined) return keepHinted(ctx, ctx.route.model);
      const { protocol, target } = ctx.request;
      if (protocol === undefined || target === undefined) return ctx.fail(404, `No route for ${ctx.request.pathname}`, { code: 'unknown_path' });

      if (target.action === 'health/live' || target.action === 'health/ready') {
        return ctx.respond({ status: 200, json: target.action === 'health/live' ? { live: true } : { ready: true } });
      }
      if (target.action === 'server-metadata') {
        return ctx.respond({ status: 200, json: { name: 'inference-gateway', version: '0.1.0', extensions: [] } });
      }
      if (target.action === 'list-models') {
        const data = ctx.models
          .names()
          .filter((n) => ctx.models.get(n)?.protocol === 'openai')
          .map((id) => ({ id, object: 'model', created: 0, owned_by: 'inference-gateway' }));
        return ctx.respond({ status: 200, json: { object: 'list', data } });
      }
      if (target.model === undefined) return routeFromBodyModel(ctx); // OpenAI inference: the model is in the body.
      const model = ctx.models.get(target.model);
      if (!model || model.protocol !== protocol) {
        return ctx.fail(404, `The model '${target.model}' does not exist`, { code: 'model_not_found' });
      }
      if (target.action === 'retrieve-model') {
        return ctx.respond({ status: 200, json: { id: model.name, object: 'model', created: 0, owned_by: 'inference-gateway' } });
      }
      return route(ctx, model, target.version === undefined ? undefined : { version: target.version, source: 'path' }, target);
    },

    requestBody(ctx) {
      if (ctx.route.model !== undefined) return keepHinted(ctx, ctx.route.model);
      if (ctx.request.protocol !== 'openai') return undefined;
      const requested = ctx.json(OpenAiModelField).model;
      const sep = requested.lastIndexOf(separator);
      const name = sep > 0 ? requested.slice(0, sep) : requested;
      const version = sep > 0 ? requested.slice(sep + separator.length) : undefined;
      const model = ctx.models.get(name);
      if (!model || model.protocol !== 'openai') {
        return ctx.fail(404, `The model '${requested}' does not exist`, { code: 'model_not_found', param: 'model' });
      }
      const stop = route(ctx, model, version === undefined ? undefined : { version, source: 'model' }, ctx.request.target);
      if (stop) return stop;
      // The model server knows itself by its plain name.
      if (version !== undefined) ctx.replaceJson({ ...(ctx.json() as object), model: name });
      return undefined;
    },

    responseHeaders(ctx: ResponseHeadersContext) {
      const route = ctx.route;
      if (route.model === undefined) return;
      ctx.headers.set('x-gateway-model', route.model);
      if (route.version !== undefined) ctx.headers.set('x-gateway-model-version', route.version);
      if (route.variant !== undefined) ctx.headers.set('x-gateway-variant', route.variant);
      if (route.experiment !== undefined) ctx.headers.set('x-gateway-experiment', route.experiment);
      if (route.reason !== undefined) ctx.headers.set('x-gateway-route-reason', route.reason);
      if (route.fallbackFrom !== undefined) ctx.headers.set('x-gateway-fallback-from', route.fallbackFrom);
    },
  };
}

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? '' : path.slice(q);
}
