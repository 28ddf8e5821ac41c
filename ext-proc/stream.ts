import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EndContext, ErrorDetails, RequestInfo, RequestOutcome, RequestVars, Respond, ResponseInfo, RouteHints, RouteUpdate } from '../plugins/sdk/types.js';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { detectProtocol } from '../plugins/sdk/protocol.js';
import type { HttpBody, HttpHeaders, ProcessingRequest, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { BodyMode, common, FILTER_BODY_MODES, headersToMap, modeOverride } from './envoy-messages.js';
import { BodyBuffer } from './pipeline/body.js';
import { chooseResponseBodyMode, needsRequestBody } from './pipeline/body-modes.js';
import { appliesTo, type HookName, type PluginInstance } from './pipeline/chain.js';
import { baseContext, headersContext, withBody, type ContextSource } from './pipeline/context.js';
import { INTERNAL_REQUEST_HEADERS, UPSTREAM_VERSION_HEADER } from '../plugins/sdk/wire.js';
import { invokeHook, runEndHooks } from './pipeline/hooks.js';
import type { RequestObserver } from './pipeline/observer.js';
import { failResponse, stopResponse, type Stop } from './pipeline/respond.js';
import { applyRouteHints, finishRouting, noteServedVersion } from './pipeline/route.js';
import { SseParser } from './pipeline/sse.js';
import { runChunkHooks, transformStreamedChunk, type StreamedHost } from './pipeline/streamed.js';
import { loggableHeaders } from './logger.js';
import { PhaseOrder } from './phase-order.js';
import { DEFAULT_STREAM_LIMITS, headersOverLimit, refuseRequestHeaders, usableRequestId, type Refusal, type StreamLimits } from './pipeline/request-guard.js';
import type { Runtime } from './runtime.js';

export type { RequestObserver, RequestSummary } from './pipeline/observer.js';
export { respondFrom } from './pipeline/respond.js';
export type { PluginHooks } from '../plugins/sdk/types.js';

/**
 * All state of one HTTP request, alive as long as its ext_proc stream. One method per phase;
 * the server loop only decodes a message and calls `handle`. The work of each phase lives in
 * `pipeline/`: hook calls and failures (hooks.ts), contexts (context.ts), routing (route.ts),
 * body modes (body-modes.ts), streamed chunks and SSE events (streamed.ts). Those modules read
 * the state through the public fields below; nothing outside ext-proc/pipeline should write them.
 */
export class StreamProcessor implements ContextSource, StreamedHost {
  request: RequestInfo | undefined;
  response: ResponseInfo | undefined;
  readonly route: RouteHints = {};
  readonly vars: RequestVars = {};
  /** The plugin and hook running now (tags `ctx.log`). */
  runningPlugin: PluginInstance | undefined;
  runningHook: HookName | 'end' | undefined;
  private requestHeaders = new HeaderSet();
  private responseHeaders = new HeaderSet();
  private chain: PluginInstance[] = [];
  private joinedModel: string | undefined;
  /** Model plugins that joined after request headers and still owe their requestHeaders call. */
  private lateJoiners: PluginInstance[] = [];
  private phaseReached: HookName = 'requestHeaders';
  private responseBodyMode = BodyMode.NONE;
  /** Plugins whose `needs` said no for this request: their body hooks are not called. */
  private readonly skipRequestBody = new Set<PluginInstance>();
  private readonly skipResponseBody = new Set<PluginInstance>();
  private sse: SseParser | undefined;
  private readonly outcome: RequestOutcome = { cancelled: false };
  /** Created on first use: most requests never look at `ctx.signal`, and abort() costs a DOMException. */
  private abortController: AbortController | undefined;
  private readonly startedAt = performance.now();
  private processingMs = 0;
  private responseHeadersAt: number | undefined;
  private firstChunkAt: number | undefined;
  private ended = false;
  /** The exchange reached its last message (or we answered it ourselves). */
  complete = false;
  private logger: Logger | undefined;
  private readonly order = new PhaseOrder();
  /** The message being handled, if any: `end` waits for it. */
  private running: Promise<unknown> | undefined;

  constructor(
    readonly runtime: Runtime,
    readonly rootLog: Logger,
    readonly observer: RequestObserver = {},
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  /** The stream's logger, tagged with the request id once the request headers arrived. */
  get log(): Logger {
    if (this.logger) return this.logger;
    if (!this.request) return this.rootLog;
    this.logger = this.rootLog.child({ reqId: this.request.id });
    return this.logger;
  }

  /**
   * Handles one message. The server calls it for one message at a time; `end` waits for the
   * one running, so no hook of this request runs after its `end` hooks.
   */
  handle(msg: ProcessingRequest): Promise<ProcessingResponse> {
    const work = this.dispatch(msg);
    this.running = work;
    return work;
  }

  private async dispatch(msg: ProcessingRequest): Promise<ProcessingResponse> {
    // Before anything runs: a message out of Envoy's order never reaches a hook.
    this.order.accept(msg);
    const t0 = performance.now();
    const r = msg.request;
    let out: ProcessingResponse;
    let phase: HookName | undefined;
    switch (r?.$case) {
      case 'requestHeaders':
        phase = 'requestHeaders';
        out = await this.onRequestHeaders(r.value);
        break;
      case 'requestBody':
        phase = 'requestBody';
        out = await this.onRequestBody(r.value);
        break;
      case 'responseHeaders':
        phase = 'responseHeaders';
        out = await this.onResponseHeaders(r.value);
        break;
      case 'responseBody':
        phase = 'responseBody';
        out = await this.onResponseBody(r.value);
        break;
      case 'requestTrailers':
        out = { response: { $case: 'requestTrailers', value: {} } };
        break;
      case 'responseTrailers':
        out = { response: { $case: 'responseTrailers', value: {} } };
        break;
      default:
        throw new Error('ProcessingRequest without a known phase');
    }
    this.order.answered(r.$case, out);
    const dt = performance.now() - t0;
    this.processingMs += dt;
    if (phase) this.observer.phase?.(phase, dt);
    return out;
  }

  // ---- phases -------------------------------------------------------------------------------

  private async onRequestHeaders(msg: HttpHeaders): Promise<ProcessingResponse> {
    const values = headersToMap(msg);
    this.requestHeaders = new HeaderSet(values);
    // The gateway's invariant, not a plugin's choice: clients never pick the cluster or the mirror.
    for (const name of INTERNAL_REQUEST_HEADERS) if (values.has(name)) this.requestHeaders.remove(name);
    const path = values.get(':path') ?? '/';
    const q = path.indexOf('?');
    const pathname = q === -1 ? path : path.slice(0, q);
    const catalog = this.runtime.catalog;
    this.request = {
      id: usableRequestId(values.get('x-request-id')) ?? randomUUID(),
      method: values.get(':method') ?? 'GET',
      path,
      pathname,
      authority: values.get(':authority') ?? '',
      hasBody: !msg.endOfStream,
      headers: this.requestHeaders,
      protocol: detectProtocol(pathname, (name) => catalog.get(name)?.protocol),
    };
    // Refused before any plugin sees it (and before the chain exists: no end hooks either).
    const refusal = refuseRequestHeaders(msg, pathname, this.limits);
    if (refusal) return this.refuse(refusal, 'request headers refused');
    this.chain = this.runtime.globalChain.filter((p) => appliesTo(p, this.request?.protocol));
    if (this.rootLog.isLevelEnabled('debug')) {
      this.log.debug({ protocol: this.request.protocol, headers: loggableHeaders(values) }, 'request headers');
    }

    const stop = await this.runHook('requestHeaders', () => headersContext(this, 'requestHeaders', this.requestHeaders));
    if (stop) return this.stop(stop);

    const wantsBody = !msg.endOfStream && needsRequestBody(this.chain, this.request, this.route, this.vars, this.skipRequestBody, this);
    // Without a body phase this is the last request phase: route now.
    const clearRouteCache = !wantsBody && finishRouting(this.route, this.runtime, this.requestHeaders);
    const changes = takeChanges(this.requestHeaders);
    return {
      response: { $case: 'requestHeaders', value: { response: common(changes, { clearRouteCache }) } },
      // The filter's default is BUFFERED request bodies; skip that round trip when nobody reads the body.
      modeOverride: modeOverride(wantsBody ? FILTER_BODY_MODES.request : BodyMode.NONE, BodyMode.NONE),
    };
  }

  private async onRequestBody(msg: HttpBody): Promise<ProcessingResponse> {
    const body = new BodyBuffer(msg.body, 'request');
    const stop = await this.runHook('requestBody', () => withBody(headersContext(this, 'requestBody', this.requestHeaders), body));
    if (stop) return this.stop(stop);
    const clearRouteCache = finishRouting(this.route, this.runtime, this.requestHeaders);
    let newBody: Buffer | undefined;
    if (body.replaced) {
      newBody = body.body;
      this.requestHeaders.set('content-length', String(newBody.length));
    }
    const changes = takeChanges(this.requestHeaders);
    return {
      response: {
        $case: 'requestBody',
        value: { response: common(changes, { body: newBody, clearRouteCache }) },
      },
    };
  }

  private async onResponseHeaders(msg: HttpHeaders): Promise<ProcessingResponse> {
    this.responseHeadersAt = performance.now();
    const over = headersOverLimit(msg, this.limits);
    if (over !== undefined) {
      return this.refuse({ status: 502, code: 'bad_upstream_response', message: `The model server's response headers are too large: ${over}` }, 'response headers refused');
    }
    const values = headersToMap(msg);
    this.responseHeaders = new HeaderSet(values);
    noteServedVersion(this.route, this.responseHeaders, values.get(UPSTREAM_VERSION_HEADER));
    const status = Number(values.get(':status') ?? 0);
    this.outcome.status = status;
    this.response = {
      status,
      headers: this.responseHeaders,
      streaming: (values.get('content-type') ?? '').includes('text/event-stream'),
    };
    const response = this.response;
    if (this.rootLog.isLevelEnabled('debug')) this.log.debug({ headers: loggableHeaders(values) }, 'response headers');
    const stop = await this.runHook('responseHeaders', () => Object.assign(headersContext(this, 'responseHeaders', this.responseHeaders), { response }));
    if (stop) return this.stop(stop);

    if (!msg.endOfStream) {
      this.responseBodyMode = chooseResponseBodyMode(this.chain, response, this.request as RequestInfo, this.vars, this.skipResponseBody, this);
    }
    if (this.responseBodyMode === BodyMode.NONE) this.complete = true;
    if (this.responseBodyMode === BodyMode.STREAMED && response.streaming && this.chain.some((p) => p.hooks.responseEvent && !this.skipResponseBody.has(p))) {
      this.sse = new SseParser(this.limits.maxSseEventBytes);
    }
    const changes = takeChanges(this.responseHeaders);
    return {
      response: { $case: 'responseHeaders', value: { response: common(changes) } },
      modeOverride: this.responseBodyMode === BodyMode.NONE ? undefined : modeOverride(BodyMode.NONE, this.responseBodyMode),
    };
  }

  private async onResponseBody(msg: HttpBody): Promise<ProcessingResponse> {
    if (msg.endOfStream) this.complete = true;
    if (this.responseBodyMode === BodyMode.BUFFERED) return this.onBufferedResponseBody(msg);
    // Only when the chain streams the body anyway: timing it never adds a round trip.
    this.firstChunkAt ??= performance.now();
    const chunk = await transformStreamedChunk(this, this.sse, msg);
    return { response: { $case: 'responseBody', value: { response: common(new Map(), { body: chunk }) } } };
  }

  private async onBufferedResponseBody(msg: HttpBody): Promise<ProcessingResponse> {
    const body = new BodyBuffer(msg.body, 'response');
    const response = this.response as ResponseInfo;
    const stop = await this.runHook('responseBody', () =>
      withBody(Object.assign(headersContext(this, 'responseBody', this.responseHeaders), { response }), body),
    );
    if (stop) return this.stop(stop);
    // Chunk hooks see every byte that reaches the client; here that is the whole body, once.
    const chunk = await runChunkHooks(this, body.body, true);
    let newBody: Buffer | undefined;
    if (body.replaced || chunk) {
      newBody = chunk ?? body.body;
      this.responseHeaders.set('content-length', String(newBody.length));
    }
    const changes = takeChanges(this.responseHeaders);
    return { response: { $case: 'responseBody', value: { response: common(changes, { body: newBody }) } } };
  }

  // ---- chain --------------------------------------------------------------------------------

  /**
   * Calls `hook` on each plugin of the chain, in order, until one stops the request.
   * `streamed` hooks run after the status went out: they cannot stop anything, and a failure
   * is logged and skipped so the rest of the chain still sees the chunk.
   */
  async runHook(hook: HookName, makeCtx: () => object, opts: { streamed?: boolean; until?: () => boolean } = {}): Promise<Stop | undefined> {
    // One context per phase, shared by the plugins (it reads through to live state); streamed
    // hooks get a fresh one per plugin because it carries the (maybe replaced) chunk or event.
    let shared: object | undefined;
    this.phaseReached = hook;
    const skip = hook === 'requestBody' ? this.skipRequestBody : hook.startsWith('response') && hook !== 'responseHeaders' ? this.skipResponseBody : undefined;
    // The chain can grow while it runs (the model's plugins join once a plugin names the model).
    for (let i = 0; i < this.chain.length; i++) {
      // The stream ended (cancelled, refused, cut) while this phase ran: no hook starts after it,
      // or one could take a resource (a limits slot) that the `end` hooks already gave back.
      if (this.ended) break;
      const plugin = this.chain[i] as PluginInstance;
      if (this.lateJoiners.includes(plugin)) {
        this.lateJoiners = this.lateJoiners.filter((p) => p !== plugin);
        if (plugin.hooks.requestHeaders && hook !== 'requestHeaders') {
          const stop = await invokeHook(this, plugin, 'requestHeaders', headersContext(this, 'requestHeaders', this.requestHeaders));
          if (stop) return stop;
        }
      }
      if (!plugin.hooks[hook] || skip?.has(plugin)) continue;
      const ctx = opts.streamed ? makeCtx() : (shared ??= makeCtx());
      const stop = await invokeHook(this, plugin, hook, ctx, opts.streamed ?? false);
      if (stop && !opts.streamed) return stop;
      if (opts.until?.()) break;
    }
    return undefined;
  }

  /** `ctx.setRoute`: validate and record the hints, then let the model's chain join. */
  setRoute(hints: RouteUpdate): void {
    applyRouteHints(this.route, hints, this.runtime.catalog, this.joinedModel, this.request?.protocol);
    this.joinModelChain();
  }

  /** Once the model is known its own chain runs after the global one. */
  private joinModelChain(): void {
    const model = this.route.model;
    if (model === undefined || this.joinedModel !== undefined) return;
    this.joinedModel = model;
    const extra = (this.runtime.modelChains.get(model) ?? []).filter((p) => appliesTo(p, this.request?.protocol));
    if (extra.length === 0) return;
    this.chain = [...this.chain, ...extra];
    if (this.phaseReached !== 'requestHeaders') this.lateJoiners = extra;
  }

  /** The core's own refusal of hostile input: the client's protocol, a log line, counted as a rejection by `gateway`. */
  private refuse(refusal: Refusal, what: string): ProcessingResponse {
    this.log.warn({ status: refusal.status, code: refusal.code, reason: refusal.message }, what);
    return this.stop({ respond: this.fail(refusal.status, refusal.message, { code: refusal.code }), by: 'gateway' });
  }

  private stop(stop: Stop): ProcessingResponse {
    this.complete = true;
    return stopResponse(stop, this.outcome);
  }

  // ---- what contexts read -------------------------------------------------------------------

  get signal(): AbortSignal {
    this.abortController ??= new AbortController();
    if (this.ended) this.abortController.abort();
    return this.abortController.signal;
  }

  fail(status: number, message: string, details?: ErrorDetails): Respond {
    return failResponse(this.request, status, message, details);
  }

  // ---- end ----------------------------------------------------------------------------------

  /** Runs every `end` hook exactly once, whatever happened. Never throws. */
  async end(cancelled: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome.cancelled = cancelled;
    this.abortController?.abort();
    // The hook running now (bounded by its plugin's timeout, cut short by the signal) finishes first.
    await this.running?.catch(() => undefined);
    const elapsedMs = performance.now() - this.startedAt;
    if (this.request) {
      const endCtx: EndContext = Object.assign(baseContext(this, 'end'), {
        response: this.response,
        outcome: this.outcome,
        elapsedMs,
      });
      await runEndHooks(this, this.chain, endCtx);
    }
    this.observer.finished?.({
      request: this.request,
      route: this.route,
      vars: this.vars,
      response: this.response,
      outcome: this.outcome,
      elapsedMs,
      responseHeadersMs: this.responseHeadersAt === undefined ? undefined : this.responseHeadersAt - this.startedAt,
      firstChunkMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.startedAt,
      processingMs: this.processingMs,
    });
  }
}

/** The header edits made since the last phase; the set starts over for the next one. */
function takeChanges(headers: HeaderSet): Map<string, string | null> {
  const changes = new Map(headers.changes);
  headers.changes.clear();
  return changes;
}
