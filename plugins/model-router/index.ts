import { definePlugin, z, type ModelInfo, type PathTarget, type RequestBodyContext, type RequestHeadersContext, type Respond } from '../sdk/index.js';
import { assignVersion, stickyValue } from './traffic.js';

const Options = z
  .object({
    /** Request header that names a version or alias explicitly. */
    versionHeader: z.string().toLowerCase().default('x-model-version'),
    /** Separator between model and version in OpenAI's `model` field: `tinylm@canary`. */
    openaiVersionSeparator: z.string().min(1).max(3).default('@'),
  })
  .strict();

const OpenAiModelField = z.object({ model: z.string().min(1, 'model must not be empty') }).loose();

/**
 * Resolves which model and version serve a request: from the path (V2, TF Serving), the
 * body's `model` (OpenAI), an explicit version header, an alias, or the traffic split.
 */
export default definePlugin({
  type: 'model-router',
  description: 'Resolves model and version from path, body, header, alias or traffic split',
  options: Options,
  setup(options) {
    /**
     * An explicit version (path, OpenAI `model@version`, version header; each may be an alias)
     * wins over the traffic policy and is never swapped for another: unknown → 404.
     */
    const route = (
      ctx: RequestHeadersContext | RequestBodyContext,
      modelName: string,
      named: { version: string; source: 'path' | 'model' } | undefined,
      target: PathTarget,
    ): Respond | undefined => {
      ctx.setRoute({ model: modelName });
      const model = ctx.models.get(modelName) as ModelInfo;
      const header = ctx.request.headers.get(options.versionHeader);
      const explicit = named ?? (header ? { version: header, source: 'header' as const } : undefined);
      if (explicit) {
        const { version, source } = explicit;
        if (!model.versions.includes(version) && model.aliases[version] === undefined) {
          // OpenAI clients name versions inside `model`; to them it is simply an unknown model.
          return source === 'model'
            ? ctx.fail(404, `The model '${modelName}${options.openaiVersionSeparator}${version}' does not exist`, { code: 'model_not_found', param: 'model' })
            : ctx.fail(404, `Model '${modelName}' has no version or alias '${version}'`, { code: 'version_not_found' });
        }
        ctx.setRoute({ version, reason: model.aliases[version] !== undefined ? `alias:${version}` : source });
      } else {
        ctx.setRoute(assignVersion(model, stickyValue(model, ctx.request.headers, ctx.vars)));
      }
      // Model servers know versions, not our aliases: point an aliased path at the real version.
      if (named?.source === 'path' && target.withVersion && ctx.route.version !== named.version) {
        ctx.headers.set(':path', target.withVersion(ctx.route.version as string) + queryOf(ctx.request.path));
      }
      return undefined;
    };

    return {
      needs: {
        // Only OpenAI inference names its model in the body.
        requestBody: (request, current) => request.protocol === 'openai' && current.model === undefined,
      },

      requestHeaders(ctx) {
        const protocol = ctx.request.protocol;
        if (!protocol) return ctx.fail(404, `No route for ${ctx.request.pathname}`, { code: 'unknown_path' });
        const target = ctx.request.target;
        if (!target) return ctx.fail(404, `No route for ${ctx.request.pathname}`, { code: 'unknown_path' });

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
        if (target.model === undefined) return; // OpenAI inference: the model is in the body.
        const model = ctx.models.get(target.model);
        if (!model || model.protocol !== protocol) {
          return ctx.fail(404, `The model '${target.model}' does not exist`, { code: 'model_not_found' });
        }
        if (target.action === 'retrieve-model') {
          return ctx.respond({ status: 200, json: { id: model.name, object: 'model', created: 0, owned_by: 'inference-gateway' } });
        }
        return route(ctx, target.model, target.version === undefined ? undefined : { version: target.version, source: 'path' }, target);
      },

      requestBody(ctx) {
        if (ctx.route.model !== undefined || ctx.request.protocol !== 'openai') return;
        const requested = ctx.json(OpenAiModelField).model;
        const sep = requested.lastIndexOf(options.openaiVersionSeparator);
        const name = sep > 0 ? requested.slice(0, sep) : requested;
        const version = sep > 0 ? requested.slice(sep + options.openaiVersionSeparator.length) : undefined;
        const model = ctx.models.get(name);
        if (!model || model.protocol !== 'openai') {
          return ctx.fail(404, `The model '${requested}' does not exist`, { code: 'model_not_found', param: 'model' });
        }
        const stop = route(ctx, name, version === undefined ? undefined : { version, source: 'model' }, ctx.request.target ?? { action: 'unknown' });
        if (stop) return stop;
        // The model server knows itself by its plain name.
        if (version !== undefined) ctx.replaceJson({ ...(ctx.json() as object), model: name });
        return undefined;
      },

      responseHeaders(ctx) {
        if (ctx.route.model === undefined) return;
        ctx.headers.set('x-gateway-model', ctx.route.model);
        if (ctx.route.version !== undefined) ctx.headers.set('x-gateway-model-version', ctx.route.version);
        if (ctx.route.variant !== undefined) ctx.headers.set('x-gateway-variant', ctx.route.variant);
        if (ctx.route.experiment !== undefined) ctx.headers.set('x-gateway-experiment', ctx.route.experiment);
        if (ctx.route.reason !== undefined) ctx.headers.set('x-gateway-route-reason', ctx.route.reason);
        if (ctx.route.fallbackFrom !== undefined) ctx.headers.set('x-gateway-fallback-from', ctx.route.fallbackFrom);
      },
    };
  },
});

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? '' : path.slice(q);
}
