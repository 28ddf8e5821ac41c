import { createHash } from 'node:crypto';
import { definePlugin, z, type RequestBodyContext, type RequestHeadersContext, type Respond, type RouteHints } from '../sdk/index.js';
import { CONSUMER_ID, unauthorized } from '../shared/consumer.js';
import { AllowList, parseRule, pickAllowed } from './rules.js';

const Entry = z.string().regex(/^[A-Za-z0-9_*?-]+(@[A-Za-z0-9_*?-]+)?$/, 'an entry is "model" or "model@version", with * and ? as wildcards');

const Options = z
  .object({
    /** consumer id → allow-list of `model` / `model@version-or-alias` globs. */
    consumers: z.record(z.string().regex(CONSUMER_ID), z.array(Entry)),
    /** Allow-list for authenticated consumers not listed above; empty denies them everything. */
    default: z.array(Entry).default([]),
  })
  .strict();

/**
 * Route reasons that mean the client named the version itself (path, version header,
 * OpenAI `model@version`, an alias): it then gets a 403, never another version.
 */
const EXPLICIT = new Set(['path', 'header', 'model']);
function explicitVersion(route: Readonly<RouteHints>): boolean {
  return (route.reason !== undefined && EXPLICIT.has(route.reason)) || (route.reason?.startsWith('alias:') ?? false);
}

/**
 * Per-consumer allow-lists of models and versions, checked once the model is resolved
 * (request headers for V2 and TF Serving, the body for OpenAI). Place it after model-router.
 */
export default definePlugin({
  type: 'model-access',
  description: 'Per-consumer allow-lists of models and versions/aliases (globs), checked after routing',
  options: Options,
  setup(options) {
    const lists = new Map<string, AllowList>(Object.entries(options.consumers).map(([id, entries]) => [id, new AllowList(entries.map(parseRule))]));
    const fallback = new AllowList(options.default.map(parseRule));

    const check = (ctx: RequestHeadersContext | RequestBodyContext): Respond | undefined => {
      const consumer = ctx.vars.consumer;
      if (!consumer) return unauthorized(ctx, 'missing_credentials', 'Authentication is required');
      const modelName = ctx.route.model as string;
      const model = ctx.models.get(modelName);
      if (!model) return undefined; // the gateway answers 404 for it
      const allowed = (lists.get(consumer.id) ?? fallback).versionsOf(model);
      if (allowed.size === 0) return deny(ctx, consumer.id, `Consumer '${consumer.id}' may not use model '${modelName}'`);
      const version = ctx.route.version;
      if (version !== undefined && !allowed.has(version)) {
        if (explicitVersion(ctx.route)) return deny(ctx, consumer.id, `Consumer '${consumer.id}' may not use version '${version}' of model '${modelName}'`);
        // The traffic policy picked a version this consumer may not use: split among the ones it may
        // (a sticky assignment stays sticky: the same consumer always lands on the same allowed version).
        const roll = ctx.route.reason === 'sticky' ? stableRoll(consumer.id) : Math.random();
        const picked = pickAllowed(model, allowed, roll);
        if (picked === undefined) return deny(ctx, consumer.id, `Consumer '${consumer.id}' may not use model '${modelName}'`);
        ctx.setRoute(ctx.route.variant !== undefined ? { version: picked, variant: model.traffic.variants?.[picked] ?? picked } : { version: picked });
      }
      dropVersionsNotAllowed(ctx, allowed);
      return undefined;
    };

    return {
      needs: { requestBody: (request) => request.protocol === 'openai' },
      requestHeaders(ctx) {
        if (ctx.route.model !== undefined) return check(ctx);
        // Fail closed when placed before the router: a path that names a model must be routed by now.
        const target = ctx.request.target;
        if (target?.model !== undefined) throw misplaced();
      },
      requestBody(ctx) {
        if (ctx.route.model === undefined) {
          if (ctx.request.protocol === 'openai') throw misplaced();
          return;
        }
        return check(ctx);
      },
    };
  },
});

/** The 403: logged, and answered in the client's protocol. */
function deny(ctx: RequestHeadersContext | RequestBodyContext, consumer: string, message: string): Respond {
  ctx.log.info({ consumer, model: ctx.route.model, version: ctx.route.version }, 'access denied');
  return ctx.fail(403, message, { code: 'model_access_denied', param: ctx.request.protocol === 'openai' ? 'model' : undefined });
}

/**
 * A consumer's request reaches only versions it may use: a fallback (which would answer it)
 * or shadow (which would receive its payload) outside its allow-list is dropped, as is a
 * fallback that became the chosen version itself.
 */
function dropVersionsNotAllowed(ctx: RequestHeadersContext | RequestBodyContext, allowed: ReadonlySet<string>): void {
  const { fallback, shadow, version } = ctx.route;
  const dropFallback = fallback !== undefined && (!allowed.has(fallback) || fallback === version);
  const dropShadow = shadow !== undefined && !allowed.has(shadow);
  if (dropFallback || dropShadow) ctx.setRoute({ ...(dropFallback ? { fallback: null } : {}), ...(dropShadow ? { shadow: null } : {}) });
}

/** A point in [0, 1) fixed for a key. */
function stableRoll(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

function misplaced(): Error {
  return new Error('model-access ran before the model was resolved; place it after model-router');
}
