import type { Logger } from 'pino';
import type {
  BaseContext,
  BodyAccess,
  ErrorDetails,
  HeaderMutator,
  ModelCatalog,
  RequestBodyContext,
  RequestHeadersContext,
  RequestInfo,
  RequestVars,
  Respond,
  ResponseBodyContext,
  ResponseHeadersContext,
  ResponseInfo,
  RouteHints,
  RouteUpdate,
} from '../../plugins/sdk/types.js';
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
  // Functions, not methods: every context hands these very functions to plugins (once per
  // request, not a wrapper per phase), and a plugin may call them detached (`const { fail } = ctx`).
  readonly setRoute: (hints: RouteUpdate) => void;
  readonly fail: (status: number, message: string, details?: ErrorDetails) => Respond;
}

/**
 * The context of one phase, shared by the plugins it runs (built once per phase: per-plugin
 * wrapper objects were the largest item of our own code in the profile). A class, so a context
 * is one object: its getters live on the prototype, and its functions are the request's own
 * (an object literal made a getter pair and two closures per phase). `log` is tagged with the
 * plugin whose hook is running when it is read; hooks run one at a time, so only work a plugin
 * leaves running after its hook returned could be tagged with a later plugin.
 */
class HookContext<P extends string> implements BaseContext {
  // `declare`d, assigned in the constructor: field declarations would define every property
  // once more before the constructor runs ([[Define]] semantics), which showed in the profile.
  declare readonly phase: P;
  declare readonly request: RequestInfo;
  declare readonly route: Readonly<RouteHints>;
  declare readonly vars: RequestVars;
  declare readonly models: ModelCatalog;
  declare readonly respond: typeof respondFrom;
  declare readonly setRoute: ContextSource['setRoute'];
  declare readonly fail: ContextSource['fail'];
  readonly #src: ContextSource;

  constructor(src: ContextSource, phase: P) {
    this.#src = src;
    const { state } = src;
    this.phase = phase;
    this.request = state.request;
    this.route = state.route;
    this.vars = state.vars;
    this.models = src.runtime.catalog;
    this.respond = respondFrom;
    this.setRoute = src.setRoute;
    this.fail = src.fail;
  }

  get log(): Logger {
    return pluginLog(this.#src);
  }

  get signal(): AbortSignal {
    return this.#src.signal;
  }
}

class HeadersContext<P extends string> extends HookContext<P> {
  declare readonly headers: HeaderMutator;

  constructor(src: ContextSource, phase: P, headers: HeaderMutator) {
    super(src, phase);
    this.headers = headers;
  }
}

class ResponseHeadersPhase extends HeadersContext<'responseHeaders'> implements ResponseHeadersContext {
  declare readonly response: ResponseInfo;

  constructor(src: ContextSource, headers: HeaderMutator, response: ResponseInfo) {
    super(src, 'responseHeaders', headers);
    this.response = response;
  }
}

/** A body phase: `body` is a getter so each read sees the latest replacement. */
class BodyContext<P extends 'requestBody' | 'responseBody'> extends HeadersContext<P> implements BodyAccess {
  declare readonly json: BodyAccess['json'];
  declare readonly replaceBody: (b: Buffer | string) => void;
  declare readonly replaceJson: (v: unknown) => void;
  readonly #body: BodyBuffer;

  constructor(src: ContextSource, phase: P, headers: HeaderMutator, body: BodyBuffer) {
    super(src, phase, headers);
    this.#body = body;
    this.json = ((schema?: Parameters<BodyBuffer['json']>[0]) => body.json(schema)) as BodyAccess['json'];
    this.replaceBody = (b) => body.replaceBody(b);
    this.replaceJson = (v) => body.replaceJson(v);
  }

  get body(): Buffer {
    return this.#body.body;
  }
}

class ResponseBodyPhase extends BodyContext<'responseBody'> implements ResponseBodyContext {
  declare readonly response: ResponseInfo;

  constructor(src: ContextSource, headers: HeaderMutator, body: BodyBuffer, response: ResponseInfo) {
    super(src, 'responseBody', headers, body);
    this.response = response;
  }
}

/** The fields every phase's context has; the phase's own ones are added by the caller. */
export function baseContext<P extends string>(src: ContextSource, phase: P): BaseContext & { phase: P } {
  return new HookContext(src, phase);
}

export function requestHeadersContext(src: ContextSource, headers: HeaderMutator): RequestHeadersContext {
  return new HeadersContext(src, 'requestHeaders', headers);
}

export function requestBodyContext(src: ContextSource, headers: HeaderMutator, body: BodyBuffer): RequestBodyContext {
  return new BodyContext(src, 'requestBody', headers, body);
}

export function responseHeadersContext(src: ContextSource, headers: HeaderMutator, response: ResponseInfo): ResponseHeadersContext {
  return new ResponseHeadersPhase(src, headers, response);
}

export function responseBodyContext(src: ContextSource, headers: HeaderMutator, body: BodyBuffer, response: ResponseInfo): ResponseBodyContext {
  return new ResponseBodyPhase(src, headers, body, response);
}

/** A logger tagged with the running plugin and hook, made only when a plugin logs. */
function pluginLog(src: ContextSource): Logger {
  const plugin = src.runner.runningPlugin;
  if (!plugin) return src.runner.log;
  // One child straight off the root (not a child of the request's child): plugins that only
  // debug-log on every request pay for one pino child, not two.
  return src.rootLog.child({ reqId: src.state.request.id, plugin: plugin.name, hook: src.runner.runningHook });
}
