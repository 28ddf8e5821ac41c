import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EndContext, ErrorDetails, RequestOutcome, Respond, RouteUpdate } from '../plugins/sdk/types.js';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { parseTarget } from '../plugins/sdk/paths.js';
import { detectProtocol } from '../plugins/sdk/protocol.js';
import { INTERNAL_REQUEST_HEADERS, UPSTREAM_VERSION_HEADER } from '../plugins/sdk/wire.js';
import type { HttpBody, HttpHeaders, ProcessingRequest, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { BodyMode, common, FILTER_BODY_MODES, headersToMap, modeOverride } from './envoy-messages.js';
import { loggableHeaders } from './logger.js';
import { PhaseOrder } from './phase-order.js';
import { BodyBuffer } from './pipeline/body.js';
import type { HookName } from './pipeline/chain.js';
import { ChainRunner } from './pipeline/chain-runner.js';
import { baseContext, headersContext, withBody, type ContextSource } from './pipeline/context.js';
import type { RequestObserver } from './pipeline/observer.js';
import { failResponse, stopResponse, type Stop } from './pipeline/respond.js';
import { applyRouteHints, bodyModelOf } from './routing/hints.js';
import { finishRouting, noteServedVersion } from './routing/upstream.js';
import { SseParser } from './pipeline/sse.js';
import { DEFAULT_STREAM_LIMITS, headersOverLimit, refuseRequestHeaders, usableRequestId, type Refusal, type StreamLimits } from './pipeline/request-guard.js';
import { RequestState, type Responded } from './pipeline/state.js';
import { runChunkHooks, transformStreamedChunk } from './pipeline/streamed.js';
import type { Runtime } from './runtime.js';

export type { RequestObserver, RequestSummary } from './pipeline/observer.js';
export { respondFrom } from './pipeline/respond.js';
export type { PluginHooks } from '../plugins/sdk/types.js';

/**
 * One ext_proc stream = one HTTP request. Translates each Envoy message into a gateway phase
 * and the phase's result back into Envoy's answer, one method per phase; the server loop only
 * decodes a message and calls `handle`. The request's state is a RequestState record, its
 * plugin chain a ChainRunner (order, late joiners, `needs`, timeouts, fail-open), routing
 * routing/ (the core's routing step runs in the chain); this class owns neither, it wires them per phase.
 */
export class StreamProcessor {
  private state: RequestState | undefined;
  private responded: Responded | undefined;
  private runner: ChainRunner | undefined;
  private source: ContextSource | undefined;
  private readonly outcome: RequestOutcome = { cancelled: false };
  private responseBodyMode = BodyMode.NONE;
  private sse: SseParser | undefined;
  /** Created on first use: most requests never look at `ctx.signal`, and abort() costs a DOMException. */
  private abortController: AbortController | undefined;
  private readonly startedAt = performance.now();
  private processingMs = 0;
  private responseHeadersAt: number | undefined;
  private firstChunkAt: number | undefined;
  private ended = false;
  private completed = false;
  private logger: Logger | undefined;
  private readonly order = new PhaseOrder();
  /** The message being handled, if any: `end` waits for it. */
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly rootLog: Logger,
    private readonly observer: RequestObserver = {},
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  /** The exchange reached its last message (or the gateway answered it itself). */
  get complete(): boolean {
    return this.completed;
  }

  /** The stream's logger, tagged with the request id once the request headers arrived. */
  get log(): Logger {
    if (this.logger) return this.logger;
    if (!this.state) return this.rootLog;
    this.logger = this.rootLog.child({ reqId: this.state.request.id });
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
        out = await this.onRequestHeaders(r.value, bodyModelOf(msg.metadataContext));
        break;
      case 'requestBody':
        phase = 'requestBody';
        out = await this.onRequestBody(this.expectRequest(), r.value);
        break;
      case 'responseHeaders':
        phase = 'responseHeaders';
        out = await this.onResponseHeaders(this.expectRequest(), r.value);
        break;
      case 'responseBody':
        phase = 'responseBody';
        out = await this.onResponseBody(this.expectResponse(), r.value);
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

  private expectRequest(): { state: RequestState; runner: ChainRunner; src: ContextSource } {
    const { state, runner, source } = this;
    if (!state || !runner || !source) throw new Error('ext_proc message before the request headers');
    return { state, runner, src: source };
  }

  private expectResponse(): { state: Responded; runner: ChainRunner; src: ContextSource } {
    const { responded, runner, source } = this;
    if (!responded || !runner || !source) throw new Error('response body before the response headers');
    return { state: responded, runner, src: source };
  }

  // ---- phases -------------------------------------------------------------------------------

  private async onRequestHeaders(msg: HttpHeaders, bodyModel: string | undefined): Promise<ProcessingResponse> {
    const values = headersToMap(msg);
    const headers = new HeaderSet(values);
    // The gateway's invariant, not a plugin's choice: clients never pick the cluster or the mirror.
    for (const name of INTERNAL_REQUEST_HEADERS) if (values.has(name)) headers.remove(name);
    const path = values.get(':path') ?? '/';
    const q = path.indexOf('?');
    const pathname = q === -1 ? path : path.slice(0, q);
    const catalog = this.runtime.catalog;
    const protocol = detectProtocol(pathname, (name) => catalog.get(name)?.protocol);
    const request = {
      id: usableRequestId(values.get('x-request-id')) ?? randomUUID(),
      method: values.get(':method') ?? 'GET',
      path,
      pathname,
      authority: values.get(':authority') ?? '',
      hasBody: !msg.endOfStream,
      headers,
      protocol,
      // Parsed once here: routing and every plugin read it instead of re-parsing the path.
      target: protocol === undefined ? undefined : parseTarget(protocol, pathname),
      ...(bodyModel !== undefined && protocol === 'openai' && { bodyModel }),
    };
    const state = new RequestState(request, headers, this.outcome);
    this.state = state;
    // Refused before any plugin sees it (and before the chain exists: no end hooks either).
    const refusal = refuseRequestHeaders(msg, pathname, this.limits);
    if (refusal) return this.refuse(state, refusal, 'request headers refused');
    const src = this.contextSource(state);
    const runner = src.runner;
    if (this.rootLog.isLevelEnabled('debug')) {
      this.log.debug({ protocol: request.protocol, headers: loggableHeaders(values) }, 'request headers');
    }

    const stop = await runner.run('requestHeaders', () => headersContext(src, 'requestHeaders', headers));
    if (stop) return this.stop(stop);

    const wantsBody = !msg.endOfStream && runner.wantsRequestBody(state.route, state.vars);
    // Without a body phase this is the last request phase: route now.
    const clearRouteCache = !wantsBody && finishRouting(state.route, state.request, state.vars, this.runtime, headers);
    return {
      response: { $case: 'requestHeaders', value: { response: common(takeChanges(headers), { clearRouteCache }) } },
      // The filter's default is BUFFERED request bodies; skip that round trip when nobody reads the body.
      modeOverride: modeOverride(wantsBody ? FILTER_BODY_MODES.request : BodyMode.NONE, BodyMode.NONE),
    };
  }

  private async onRequestBody({ state, runner, src }: ReturnType<StreamProcessor['expectRequest']>, msg: HttpBody): Promise<ProcessingResponse> {
    const headers = state.requestHeaders;
    const body = new BodyBuffer(msg.body, 'request');
    const stop = await runner.run('requestBody', () => withBody(headersContext(src, 'requestBody', headers), body));
    if (stop) return this.stop(stop);
    const clearRouteCache = finishRouting(state.route, state.request, state.vars, this.runtime, headers);
    let newBody: Buffer | undefined;
    if (body.replaced) {
      newBody = body.body;
      headers.set('content-length', String(newBody.length));
    }
    return { response: { $case: 'requestBody', value: { response: common(takeChanges(headers), { body: newBody, clearRouteCache }) } } };
  }

  private async onResponseHeaders({ state, runner, src }: ReturnType<StreamProcessor['expectRequest']>, msg: HttpHeaders): Promise<ProcessingResponse> {
    this.responseHeadersAt = performance.now();
    const over = headersOverLimit(msg, this.limits);
    if (over !== undefined) {
      return this.refuse(state, { status: 502, code: 'bad_upstream_response', message: `The model server's response headers are too large: ${over}` }, 'response headers refused');
    }
    const values = headersToMap(msg);
    const headers = new HeaderSet(values);
    noteServedVersion(state.route, headers, values.get(UPSTREAM_VERSION_HEADER));
    const response = {
      status: Number(values.get(':status') ?? 0),
      headers,
      streaming: (values.get('content-type') ?? '').includes('text/event-stream'),
    };
    this.responded = state.responded(response, headers);
    if (this.rootLog.isLevelEnabled('debug')) this.log.debug({ headers: loggableHeaders(values) }, 'response headers');
    const stop = await runner.run('responseHeaders', () => Object.assign(headersContext(src, 'responseHeaders', headers), { response }));
    if (stop) return this.stop(stop);

    if (!msg.endOfStream) this.responseBodyMode = runner.responseBodyMode(response, state.vars);
    if (this.responseBodyMode === BodyMode.NONE) this.completed = true;
    if (this.responseBodyMode === BodyMode.STREAMED && response.streaming && runner.wantsEvents()) this.sse = new SseParser(this.limits.maxSseEventBytes);
    return {
      response: { $case: 'responseHeaders', value: { response: common(takeChanges(headers)) } },
      modeOverride: this.responseBodyMode === BodyMode.NONE ? undefined : modeOverride(BodyMode.NONE, this.responseBodyMode),
    };
  }

  private async onResponseBody(at: ReturnType<StreamProcessor['expectResponse']>, msg: HttpBody): Promise<ProcessingResponse> {
    if (msg.endOfStream) this.completed = true;
    if (this.responseBodyMode === BodyMode.BUFFERED) return this.onBufferedResponseBody(at, msg);
    // Only when the chain streams the body anyway: timing it never adds a round trip.
    this.firstChunkAt ??= performance.now();
    const chunk = await transformStreamedChunk(at.src, at.state.response, this.sse, msg);
    return { response: { $case: 'responseBody', value: { response: common(new Map(), { body: chunk }) } } };
  }

  private async onBufferedResponseBody({ state, runner, src }: ReturnType<StreamProcessor['expectResponse']>, msg: HttpBody): Promise<ProcessingResponse> {
    const { response, responseHeaders: headers } = state;
    const body = new BodyBuffer(msg.body, 'response');
    const stop = await runner.run('responseBody', () => withBody(Object.assign(headersContext(src, 'responseBody', headers), { response }), body));
    if (stop) return this.stop(stop);
    // Chunk hooks see every byte that reaches the client; here that is the whole body, once.
    const chunk = await runChunkHooks(src, response, body.body, true);
    let newBody: Buffer | undefined;
    if (body.replaced || chunk) {
      newBody = chunk ?? body.body;
      headers.set('content-length', String(newBody.length));
    }
    return { response: { $case: 'responseBody', value: { response: common(takeChanges(headers), { body: newBody }) } } };
  }

  /** The core's own refusal of hostile input: the client's protocol, a log line, counted as a rejection by `gateway`. */
  private refuse(state: RequestState, refusal: Refusal, what: string): ProcessingResponse {
    this.log.warn({ status: refusal.status, code: refusal.code, reason: refusal.message }, what);
    return this.stop({ respond: failResponse(state.request, refusal.status, refusal.message, { code: refusal.code }), by: 'gateway' });
  }

  private stop(stop: Stop): ProcessingResponse {
    this.completed = true;
    return stopResponse(stop, this.outcome);
  }

  // ---- what contexts read -------------------------------------------------------------------

  /** The request's chain and the view its hook contexts read through, made once per request. */
  private contextSource(state: RequestState): ContextSource {
    const runner = new ChainRunner(this.runtime, state.request, this.observer, () => this.log, () =>
      headersContext(src, 'requestHeaders', state.requestHeaders),
    );
    this.runner = runner;
    const self = this;
    const src: ContextSource = {
      state,
      runner,
      runtime: this.runtime,
      rootLog: this.rootLog,
      get signal() {
        return self.signal;
      },
      // `ctx.setRoute`: validate and record the hints, then let the model's chain join.
      setRoute: (hints: RouteUpdate) => {
        applyRouteHints(state.route, hints, this.runtime.catalog, runner.model, state.request.protocol);
        if (state.route.model !== undefined) runner.joinModel(state.route.model);
      },
      fail: (status: number, message: string, details?: ErrorDetails): Respond => failResponse(state.request, status, message, details),
    };
    this.source = src;
    return src;
  }

  private get signal(): AbortSignal {
    this.abortController ??= new AbortController();
    if (this.ended) this.abortController.abort(STREAM_ENDED);
    return this.abortController.signal;
  }

  // ---- end ----------------------------------------------------------------------------------

  /** Runs every `end` hook exactly once, whatever happened. Never throws. */
  async end(cancelled: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.runner?.close();
    this.outcome.cancelled = cancelled;
    this.abortController?.abort(STREAM_ENDED);
    // The hook running now (bounded by its plugin's timeout, cut short by the signal) finishes first.
    await this.running?.catch(() => undefined);
    const elapsedMs = performance.now() - this.startedAt;
    const { state, runner, source } = this;
    if (state && runner && source) {
      const endCtx: EndContext = Object.assign(baseContext(source, 'end'), {
        response: state.response,
        outcome: this.outcome,
        elapsedMs,
      });
      await runner.end(endCtx);
    }
    this.observer.finished?.({
      request: state?.request,
      route: state?.route ?? {},
      vars: state?.vars ?? {},
      response: state?.response,
      outcome: this.outcome,
      elapsedMs,
      responseHeadersMs: this.responseHeadersAt === undefined ? undefined : this.responseHeadersAt - this.startedAt,
      firstChunkMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.startedAt,
      processingMs: this.processingMs,
    });
  }
}

/**
 * The reason every request's signal aborts with: one shared error, because `abort()` without a
 * reason builds a DOMException (with its stack) per request, which showed in the profile.
 */
const STREAM_ENDED = Object.freeze(new Error('the request ended'));

/** The header edits made since the last phase; the set starts over for the next one. */
function takeChanges(headers: HeaderSet): Map<string, string | null> {
  const changes = new Map(headers.changes);
  headers.changes.clear();
  return changes;
}
