import type { Logger } from 'pino';
import type { ErrorDetails, ModelCatalog, Respond, RouteUpdate } from '../plugins/sdk/types.js';
import { applyRouteHints } from './routing/hints.js';
import { ChainRunner } from './pipeline/chain-runner.js';
import type { Chains } from './pipeline/chain.js';
import { requestHeadersContext, type ContextSource } from './pipeline/context.js';
import type { RequestObserver } from './pipeline/observer.js';
import { failResponse } from './pipeline/respond.js';
import type { RequestState } from './pipeline/state.js';

/** The stream processor: its `log` is the request's logger, made on first use. */
export interface StreamHost {
  readonly log: Logger;
}

/**
 * The reason every request's signal aborts with: one shared error, because `abort()` without a
 * reason builds a DOMException (with its stack) per request, which showed in the profile.
 */
const STREAM_ENDED = Object.freeze(new Error('the request ended'));

/**
 * The request's chain and the view its hook contexts read through, made once per request. A
 * class, so `signal` is a getter on the prototype rather than a getter pair per request;
 * `setRoute` and `fail` are the request's own functions (plugins may call them detached).
 * The abort signal is made when a plugin first reads `ctx.signal` (most never do).
 */
export class RequestSource implements ContextSource {
  declare readonly state: RequestState;
  declare readonly runner: ChainRunner;
  declare readonly runtime: Chains & { readonly catalog: ModelCatalog };
  declare readonly rootLog: Logger;
  declare readonly setRoute: (hints: RouteUpdate) => void;
  declare readonly fail: (status: number, message: string, details?: ErrorDetails) => Respond;
  #abort: AbortController | undefined;
  #ended = false;

  constructor(state: RequestState, runtime: Chains & { readonly catalog: ModelCatalog }, rootLog: Logger, observer: RequestObserver, host: StreamHost) {
    this.state = state;
    this.runtime = runtime;
    this.rootLog = rootLog;
    const runner = new ChainRunner(runtime, state.request, observer, host, () => requestHeadersContext(this, state.requestHeaders));
    this.runner = runner;
    // `ctx.setRoute`: validate and record the hints, then let the model's chain join.
    this.setRoute = (hints) => {
      applyRouteHints(state.route, hints, runtime.catalog, runner.model, state.request.protocol);
      if (state.route.model !== undefined) runner.joinModel(state.route.model);
    };
    this.fail = (status, message, details) => failResponse(state.request, status, message, details);
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#ended) this.#abort.abort(STREAM_ENDED);
    return this.#abort.signal;
  }

  /** The stream ended: the signal aborts (now, or when first read). */
  endSignal(): void {
    this.#ended = true;
    this.#abort?.abort(STREAM_ENDED);
  }
}
