import type { Logger } from 'pino';
import type { EndContext, Protocol, RequestInfo, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import type { BodyMode } from '../envoy-messages.js';
import { chooseResponseBodyMode, needsRequestBody } from './body-modes.js';
import type { Chains, HookName, PluginInstance } from './chain.js';
import { invokeHook, runEndHooks, type HookHost, type MaybePromise } from './hooks.js';
import type { RequestObserver } from './observer.js';
import type { Stop } from './respond.js';

export interface RunOptions {
  /** Hooks on a streamed body: the status is out, so nothing stops and a failure is skipped. */
  streamed?: boolean;
  /** Stop walking the chain once this says so (a dropped SSE event). */
  until?: () => boolean;
}

const NO_OPTIONS: RunOptions = Object.freeze({});
// Shared empties: most requests have no late joiners and skip nobody; a runner costs no sets.
const NOBODY: readonly PluginInstance[] = Object.freeze([]);
const NO_PLUGINS: ReadonlySet<PluginInstance> = new Set();

/** One phase's walk through the chain: what `resume` needs to carry on after an async hook. */
interface PhaseWalk {
  readonly hook: HookName;
  readonly makeCtx: () => object;
  readonly opts: RunOptions;
  readonly skip: ReadonlySet<PluginInstance> | undefined;
  /** The phase's context, made when the first plugin with this hook runs. */
  shared: object | undefined;
}

/**
 * The plugin chain of one request, run privately: its order (global chain, then the model's
 * once the model is known), model plugins that join late and still owe their requestHeaders
 * call, plugins that `needs` kept out of a body phase, the plugin running now (for `ctx.log`),
 * and — through hooks.ts — timeouts and fail-open.
 */
export class ChainRunner implements HookHost {
  runningPlugin: PluginInstance | undefined;
  runningHook: HookName | 'end' | undefined;
  private chain: readonly PluginInstance[];
  private joinedModel: string | undefined;
  private lateJoiners: readonly PluginInstance[] = NOBODY;
  private phaseReached: HookName = 'requestHeaders';
  private skipRequestBody: ReadonlySet<PluginInstance> = NO_PLUGINS;
  private skipResponseBody: ReadonlySet<PluginInstance> = NO_PLUGINS;
  private responseBodyObservedOnly = false;
  private closed = false;

  constructor(
    private readonly runtime: Chains,
    readonly request: RequestInfo,
    readonly observer: RequestObserver,
    /** Whose `log` is the request's (read only when a line is written: the child logger is made on first use). */
    private readonly logHost: { readonly log: Logger },
    /** The requestHeaders context for a model plugin joining after that phase. */
    private readonly requestHeadersContext: () => object,
  ) {
    this.chain = runtime.requestChain(request.protocol);
  }

  get log(): Logger {
    return this.logHost.log;
  }

  /** The model whose chain joined; it cannot change any more. */
  get model(): string | undefined {
    return this.joinedModel;
  }

  get protocol(): Protocol | undefined {
    return this.request.protocol;
  }

  /**
   * Calls `hook` on each plugin of the chain, in order, until one stops the request.
   * `streamed` hooks run after the status went out: they cannot stop anything, and a failure
   * is logged and skipped so the rest of the chain still sees the chunk. Synchronous while the
   * hooks are: the first one that returns a promise hands the rest of the walk to `resume`.
   */
  run(hook: HookName, makeCtx: () => object, opts: RunOptions = NO_OPTIONS): MaybePromise<Stop | undefined> {
    this.phaseReached = hook;
    const skip = hook === 'requestBody' ? this.skipRequestBody : hook.startsWith('response') && hook !== 'responseHeaders' ? this.skipResponseBody : undefined;
    return this.walk({ hook, makeCtx, opts, skip, shared: undefined }, 0);
  }

  /** The walk of one phase from plugin `from` on; returns a promise only once a hook did. */
  private walk(phase: PhaseWalk, from: number): MaybePromise<Stop | undefined> {
    const { hook, opts, skip } = phase;
    // The chain can grow while it runs (the model's plugins join once a plugin names the model).
    for (let i = from; i < this.chain.length; i++) {
      // The stream ended (cancelled, refused, cut) while this phase ran: no hook starts after it,
      // or one could take a resource (a limits slot) that the `end` hooks already gave back.
      if (this.closed) break;
      const plugin = this.chain[i] as PluginInstance;
      if (this.lateJoiners.length > 0 && this.lateJoiners.includes(plugin)) {
        this.lateJoiners = this.lateJoiners.filter((p) => p !== plugin);
        if (plugin.hooks.requestHeaders && hook !== 'requestHeaders') {
          const stop = invokeHook(this, plugin, 'requestHeaders', this.requestHeadersContext());
          // Still this plugin's turn once it settles (it left the late joiners): its own hook follows.
          if (stop instanceof Promise) return this.resume(phase, stop, i, false);
          if (stop) return stop;
        }
      }
      if (!plugin.hooks[hook] || skip?.has(plugin)) continue;
      // One context per phase, shared by the plugins (it reads through to live state); streamed
      // hooks get a fresh one per plugin because it carries the (maybe replaced) chunk or event.
      const ctx = opts.streamed ? phase.makeCtx() : (phase.shared ??= phase.makeCtx());
      const stop = invokeHook(this, plugin, hook, ctx, opts.streamed ?? false);
      if (stop instanceof Promise) return this.resume(phase, stop, i + 1, true);
      if (stop && !opts.streamed) return stop;
      if (opts.until?.()) break;
    }
    return undefined;
  }

  /** Waits for an async hook, then walks on from `next`; `ownHook`: it was the phase's hook, not a late joiner's requestHeaders. */
  private async resume(phase: PhaseWalk, pending: Promise<Stop | undefined>, next: number, ownHook: boolean): Promise<Stop | undefined> {
    const stop = await pending;
    if (ownHook) {
      if (stop && !phase.opts.streamed) return stop;
      if (phase.opts.until?.()) return undefined;
    } else if (stop) {
      return stop;
    }
    return this.walk(phase, next);
  }

  /** The stream ended: hooks of the phase still running are not started any more (end hooks still run). */
  close(): void {
    this.closed = true;
  }

  /** Once the model is known its own chain runs after the global one. */
  joinModel(model: string): void {
    if (this.joinedModel !== undefined) return;
    this.joinedModel = model;
    const extra = this.runtime.modelChain(model, this.request.protocol);
    if (extra.length === 0) return;
    this.chain = [...this.chain, ...extra];
    if (this.phaseReached !== 'requestHeaders') this.lateJoiners = extra;
  }

  /** Whether a plugin needs this request's body; the ones whose `needs` said no are skipped. */
  wantsRequestBody(route: RouteHints, vars: RequestVars): boolean {
    const { needed, skipped } = needsRequestBody(this.chain, this.request, route, vars, this);
    this.skipRequestBody = skipped;
    return needed;
  }

  /** The body mode the response hooks still wanted need; the others are skipped. */
  responseBodyMode(response: ResponseInfo, vars: RequestVars): BodyMode {
    const { mode, skipped, observedOnly } = chooseResponseBodyMode(this.chain, response, this.request, vars, this);
    this.skipResponseBody = skipped;
    this.responseBodyObservedOnly = observedOnly;
    return mode;
  }

  /** Every hook that reads this response's whole body only observes it: they may run after the answer. */
  get observesResponseBodyOnly(): boolean {
    return this.responseBodyObservedOnly;
  }

  /** Whether SSE events need parsing: a `responseEvent` hook will run. */
  wantsEvents(): boolean {
    return this.chain.some((p) => p.hooks.responseEvent && !this.skipResponseBody.has(p));
  }

  /** Every `end` hook once, in order; never throws. A promise only if an end hook returned one. */
  end(endCtx: EndContext): MaybePromise<void> {
    return runEndHooks(this, this.chain, endCtx);
  }
}
