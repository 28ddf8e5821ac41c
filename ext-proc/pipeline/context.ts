import type { Logger } from 'pino';
import type { BaseContext, ErrorDetails, HeaderMutator, ModelCatalog, Respond, RouteUpdate } from '../../plugins/sdk/types.js';
import type { BodyBuffer } from './body.js';
import type { ChainRunner } from './chain-runner.js';
import { respondFrom } from './respond.js';
import type { RequestState } from './state.js';

/** What a hook context reads through to: the request's state, its chain, and the processor's actions. */
export interface ContextSource {
  readonly state: RequestState;
  readonly runner: ChainRunner;
  /** The config in force: its model catalog is `ctx.models`. */
  readonly runtime: { readonly catalog: ModelCatalog };
  readonly rootLog: Logger;
  /** Lazy: the AbortController is made only when a plugin reads `ctx.signal`. */
  readonly signal: AbortSignal;
  setRoute(hints: RouteUpdate): void;
  fail(status: number, message: string, details?: ErrorDetails): Respond;
}

/**
 * The context of one phase, shared by the plugins it runs (built once per phase: per-plugin
 * wrapper objects were the largest item of our own code in the profile). `log` is tagged with
 * the plugin whose hook is running when it is read; hooks run one at a time, so only work a
 * plugin leaves running after its hook returned could be tagged with a later plugin.
 */
export function baseContext<P extends string>(src: ContextSource, phase: P): BaseContext & { phase: P } {
  const { state } = src;
  return {
    phase,
    get log() {
      return pluginLog(src);
    },
    request: state.request,
    get signal() {
      return src.signal;
    },
    route: state.route,
    setRoute: (hints) => src.setRoute(hints),
    vars: state.vars,
    models: src.runtime.catalog,
    respond: respondFrom,
    fail: (status, message, details) => src.fail(status, message, details),
  };
}

export function headersContext<P extends string>(src: ContextSource, phase: P, headers: HeaderMutator) {
  // Object.assign, not a spread: a spread would call the lazy `signal` getter.
  return Object.assign(baseContext(src, phase), { headers });
}

/** Adds the shared body to a context; `body` stays a getter so each read sees the latest replacement. */
export function withBody<T extends object>(ctx: T, body: BodyBuffer): T {
  Object.defineProperty(ctx, 'body', { get: () => body.body, enumerable: true });
  return Object.assign(ctx, {
    json: (schema?: Parameters<BodyBuffer['json']>[0]) => body.json(schema),
    replaceBody: (b: Buffer | string) => body.replaceBody(b),
    replaceJson: (v: unknown) => body.replaceJson(v),
  });
}

/** A logger tagged with the running plugin and hook, made only when a plugin logs. */
function pluginLog(src: ContextSource): Logger {
  const plugin = src.runner.runningPlugin;
  if (!plugin) return src.runner.log;
  // One child straight off the root (not a child of the request's child): plugins that only
  // debug-log on every request pay for one pino child, not two.
  return src.rootLog.child({ reqId: src.state.request.id, plugin: plugin.name, hook: src.runner.runningHook });
}
