import type { Logger } from 'pino';
import type { EndContext, RequestOutcome } from '../plugins/sdk/types.js';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { INTERNAL_REQUEST_HEADERS, UPSTREAM_VERSION_HEADER } from '../plugins/sdk/wire.js';
import type { HttpBody, HttpHeaders, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import type { EnvoyRequest } from './envoy-decode.js';
import { BodyMode, FILTER_BODY_MODES, modeOverride } from './envoy-messages.js';
import { readHeaders } from './wire-headers.js';
import { loggableHeaders } from './logger.js';
import { PhaseOrder, type Phase } from './phase-order.js';
import { BodyBuffer } from './pipeline/body.js';
import type { HookName } from './pipeline/chain.js';
import type { MaybePromise } from './pipeline/hooks.js';
import type { ChainRunner } from './pipeline/chain-runner.js';
import { takeChanges } from './pipeline/answers.js';
import { bufferedResponseBody, streamedResponseBody } from './pipeline/response-body.js';
import { baseContext, requestBodyContext, requestHeadersContext, responseHeadersContext, type ContextSource } from './pipeline/context.js';
import { requestInfo } from './pipeline/request-info.js';
import { RequestSource } from './request-source.js';
import type { RequestObserver } from './pipeline/observer.js';
import { failResponse, stopResponse, type Stop } from './pipeline/respond.js';
import { bodyModelOf } from './routing/hints.js';
import { finishRouting, noteServedVersion } from './routing/upstream.js';
import { SseParser } from './pipeline/sse.js';
import { DEFAULT_STREAM_LIMITS, headersOverLimit, refuseRequestHeaders, type Refusal, type StreamLimits } from './pipeline/request-guard.js';
import { RequestState, type Responded } from './pipeline/state.js';
import { envoyReply, NO_ANSWERS, passChunk, PipelinedBodies, pipeliningOf, type Answers } from './pipeline/pipelined.js';
import type { Runtime } from './runtime.js';

export type { RequestObserver, RequestSummary } from './pipeline/observer.js';
export { respondFrom } from './pipeline/respond.js';
export type { PluginHooks } from '../plugins/sdk/types.js';

export interface ProcessorLimits extends StreamLimits {
  /** A pipelined body held whole (the largest body Envoy lets through: `envoy.maxRequestBytes`). */
  readonly maxHeldBodyBytes: number;
}

export const DEFAULT_PROCESSOR_LIMITS: ProcessorLimits = { ...DEFAULT_STREAM_LIMITS, maxHeldBodyBytes: 4 * 1024 * 1024 };

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
  private source: RequestSource | undefined;
  private readonly outcome: RequestOutcome = { cancelled: false };
  private responseBodyMode = BodyMode.NONE;
  private sse: SseParser | undefined;
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
  /** Set when Envoy pipelines this stream's bodies (pipeline/pipelined.ts). */
  private pipelined: PipelinedBodies | undefined;
  /** Work for right after the answer has left: hooks that only observe a response body. */
  private deferred: (() => MaybePromise<void>) | undefined;
  /** That work, while an async hook of it runs: `end` waits for it. */
  private observing: Promise<void> | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly rootLog: Logger,
    private readonly observer: RequestObserver = {},
    private readonly limits: ProcessorLimits = DEFAULT_PROCESSOR_LIMITS,
    /** Sends answers that are not a message's (a held headers' answer sent early); without it nothing is sent early. */
    private readonly late?: (answers: readonly ProcessingResponse[]) => void,
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
   * Handles one message: its answers, in order. One answer per message, except on a pipelined
   * stream, where a held body's headers and chunks are answered together at its end (none
   * before). The server calls it for one message at a time; `end` waits for the one running,
   * so no hook of this request runs after its `end` hooks.
   */
  handle(msg: EnvoyRequest): Promise<readonly ProcessingResponse[]> {
    // Nothing of this stream runs before the observers of the last answer (if the server has not run them yet).
    if (this.deferred) this.runDeferred();
    // The phase runs synchronously unless a hook is async: only then is there something to wait for.
    try {
      const out = this.dispatch(msg);
      this.running = out instanceof Promise ? out : undefined;
      return out instanceof Promise ? out : Promise.resolve(out);
    } catch (err) {
      this.running = undefined;
      return Promise.reject(err);
    }
  }

  /** Work a phase left for after its answer (bufferedResponseBody's observers): the server runs it once the answer is written. */
  get hasDeferred(): boolean {
    return this.deferred !== undefined;
  }

  defer(work: () => MaybePromise<void>): void {
    this.deferred = work;
  }

  /**
   * Runs the deferred work, once. The server calls it right after writing the answer, in the
   * same turn of the event loop as the write, so no later message (of this stream or another)
   * is handled before it; `end` waits for it.
   */
  runDeferred(): void {
    const work = this.deferred;
    if (!work) return;
    this.deferred = undefined;
    const observed = work();
    if (observed instanceof Promise) this.observing = observed;
  }

  private dispatch(msg: EnvoyRequest): MaybePromise<readonly ProcessingResponse[]> {
    if (msg.protocolConfig && !this.state) {
      this.order.configure(msg.protocolConfig);
      const directions = pipeliningOf(msg.protocolConfig);
      if (directions) this.pipelined = new PipelinedBodies(directions, this.limits.maxHeldBodyBytes);
    }
    if (this.order.stray(msg)) return NO_ANSWERS;
    // Before anything runs: a message out of Envoy's order never reaches a hook.
    this.order.accept(msg);
    const r = msg.request;
    if (this.pipelined && !this.state && r?.$case !== 'requestHeaders') {
      if (r && 'endOfStream' in r.value && r.value.endOfStream) this.completed = true;
      return envoyReply(msg);
    }
    const t0 = performance.now();
    let out: MaybePromise<Answers>;
    let phase: HookName | undefined;
    switch (r?.$case) {
      case 'requestHeaders':
        phase = 'requestHeaders';
        out = this.onRequestHeaders(r.value, bodyModelOf(msg.metadataContext));
        break;
      case 'requestBody':
        phase = 'requestBody';
        out = this.onRequestChunk(this.expectRequest(), r.value);
        break;
      case 'responseHeaders':
        phase = 'responseHeaders';
        out = this.onResponseHeaders(this.expectRequest(), r.value);
        break;
      case 'responseBody':
        phase = 'responseBody';
        out = this.onResponseBody(this.expectResponse(), r.value);
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
    const kind = r.$case;
    if (out instanceof Promise) return out.then((answer) => this.answered(kind, phase, t0, answer));
    return this.answered(kind, phase, t0, out);
  }

  /** Books the answers to one message: the order check, the processing time, the phase's metric. */
  private answered(kind: Phase, phase: HookName | undefined, t0: number, out: Answers): readonly ProcessingResponse[] {
    const answers = Array.isArray(out) ? out : [out as ProcessingResponse];
    for (const answer of answers) this.order.answered(kind, answer);
    const dt = performance.now() - t0;
    this.processingMs += dt;
    if (phase) this.observer.phase?.(phase, dt);
    return answers;
  }

  private expectRequest(): { state: RequestState; runner: ChainRunner; src: ContextSource } {
    const { state, source } = this;
    if (!state || !source) throw new Error('ext_proc message before the request headers');
    return { state, runner: source.runner, src: source };
  }

  private expectResponse(): { state: Responded; runner: ChainRunner; src: ContextSource } {
    const { responded, source } = this;
    if (!responded || !source) throw new Error('response body before the response headers');
    return { state: responded, runner: source.runner, src: source };
  }

  // ---- phases -------------------------------------------------------------------------------

  private onRequestHeaders(msg: HttpHeaders, bodyModel: string | undefined): MaybePromise<Answers> {
    const read = readHeaders(msg);
    const values = read.values;
    const headers = new HeaderSet(values);
    // The gateway's invariant, not a plugin's choice: clients never pick the cluster or the mirror.
    for (const name of INTERNAL_REQUEST_HEADERS) if (values.has(name)) headers.remove(name);
    const request = requestInfo(values, headers, !msg.endOfStream, this.runtime.catalog, bodyModel);
    const state = new RequestState(request, headers, this.outcome);
    this.state = state;
    // Refused before any plugin sees it (and before the chain exists: no end hooks either).
    const refusal = refuseRequestHeaders(read, request.pathname, this.limits);
    if (refusal) return this.refuse(state, refusal, 'request headers refused');
    const src = new RequestSource(state, this.runtime, this.rootLog, this.observer, this);
    this.source = src;
    const runner = src.runner;
    if (this.rootLog.isLevelEnabled('debug')) this.log.debug({ protocol: request.protocol, headers: loggableHeaders(values) }, 'request headers');
    const stop = runner.run('requestHeaders', () => requestHeadersContext(src, headers));
    if (stop instanceof Promise) return stop.then((s) => this.afterRequestHeaders(state, runner, msg.endOfStream, s));
    return this.afterRequestHeaders(state, runner, msg.endOfStream, stop);
  }

  private afterRequestHeaders(state: RequestState, runner: ChainRunner, endOfStream: boolean, stop: Stop | undefined): Answers {
    if (stop) return this.stopped(stop);
    const headers = state.requestHeaders;
    const wantsBody = !endOfStream && runner.wantsRequestBody(state.route, state.vars);
    if (wantsBody && this.pipelined?.directions.request) {
      // The body is on its way already: answer the headers with it (onRequestChunk).
      this.pipelined.hold('request');
      return NO_ANSWERS;
    }
    // Without a body phase this is the last request phase: route now.
    const clearRouteCache = !wantsBody && finishRouting(state.route, state.request, state.vars, this.runtime, headers);
    const response: ProcessingResponse = { response: { $case: 'requestHeaders', value: { response: takeChanges(headers, undefined, clearRouteCache) } } };
    // The filter's default is BUFFERED request bodies; skip that round trip when nobody reads the
    // body. (A pipelined stream's modes are its route's: Envoy ignores overrides there.)
    if (!this.pipelined) response.modeOverride = modeOverride(wantsBody ? FILTER_BODY_MODES.request : BodyMode.NONE, BodyMode.NONE);
    return response;
  }

  private onRequestChunk(at: ReturnType<StreamProcessor['expectRequest']>, msg: HttpBody): MaybePromise<Answers> {
    const p = this.pipelined;
    if (!p?.directions.request) return this.onRequestBody(at, msg);
    // Pipelined: held for the hooks until its end, or (nobody reads it) on its way as it came.
    return p.chunk('request', msg, (whole) => this.onRequestBody(at, whole), (r) => this.refuse(at.state, r, 'request body refused'));
  }

  private onRequestBody({ state, runner, src }: ReturnType<StreamProcessor['expectRequest']>, msg: HttpBody): MaybePromise<ProcessingResponse> {
    const headers = state.requestHeaders;
    const body = new BodyBuffer(msg.body, 'request');
    const stop = runner.run('requestBody', () => requestBodyContext(src, headers, body));
    if (stop instanceof Promise) return stop.then((s) => this.afterRequestBody(state, body, s));
    return this.afterRequestBody(state, body, stop);
  }

  private afterRequestBody(state: RequestState, body: BodyBuffer, stop: Stop | undefined): ProcessingResponse {
    if (stop) return this.stopped(stop);
    const headers = state.requestHeaders;
    const clearRouteCache = finishRouting(state.route, state.request, state.vars, this.runtime, headers);
    let newBody: Buffer | undefined;
    if (body.replaced) {
      newBody = body.body;
      headers.set('content-length', String(newBody.length));
    }
    return { response: { $case: 'requestBody', value: { response: takeChanges(headers, newBody, clearRouteCache) } } };
  }

  private onResponseHeaders({ state, runner, src }: ReturnType<StreamProcessor['expectRequest']>, msg: HttpHeaders): MaybePromise<Answers> {
    this.responseHeadersAt = performance.now();
    const read = readHeaders(msg);
    const over = headersOverLimit(read, this.limits);
    if (over !== undefined) {
      return this.refuse(state, { status: 502, code: 'bad_upstream_response', message: `The model server's response headers are too large: ${over}` }, 'response headers refused');
    }
    const values = read.values;
    const headers = new HeaderSet(values);
    noteServedVersion(state.route, headers, values.get(UPSTREAM_VERSION_HEADER));
    const response = {
      status: Number(values.get(':status') ?? 0),
      headers,
      streaming: (values.get('content-type') ?? '').includes('text/event-stream'),
    };
    const responded = state.responded(response, headers);
    this.responded = responded;
    if (this.rootLog.isLevelEnabled('debug')) this.log.debug({ headers: loggableHeaders(values) }, 'response headers');
    const stop = runner.run('responseHeaders', () => responseHeadersContext(src, headers, response));
    if (stop instanceof Promise) return stop.then((s) => this.afterResponseHeaders(responded, runner, msg.endOfStream, s));
    return this.afterResponseHeaders(responded, runner, msg.endOfStream, stop);
  }

  private afterResponseHeaders(state: Responded, runner: ChainRunner, endOfStream: boolean, stop: Stop | undefined): Answers {
    if (stop) return this.stopped(stop);
    const { response, responseHeaders: headers } = state;

    if (!endOfStream) this.responseBodyMode = runner.responseBodyMode(response, state.vars);
    const p = endOfStream ? undefined : this.pipelined;
    const pipelined = p?.directions.response === true;
    if (p && pipelined && this.responseBodyMode === BodyMode.BUFFERED) {
      // The body follows without waiting: the headers' edits (these and the body hooks') go with it.
      const held = p.hold('response');
      if (this.late) held.answerHeadersAfter(this.runtime.config.envoy.messageTimeoutMs / 2, () => this.answerHeldHeaders(state));
      return NO_ANSWERS;
    }
    // A pipelined body nobody reads still comes, chunk by chunk: the exchange ends with it.
    if (this.responseBodyMode === BodyMode.NONE && !pipelined) this.completed = true;
    if (this.responseBodyMode === BodyMode.STREAMED && response.streaming && runner.wantsEvents()) this.sse = new SseParser(this.limits.maxSseEventBytes);
    return {
      response: { $case: 'responseHeaders', value: { response: takeChanges(headers) } },
      modeOverride: this.responseBodyMode === BodyMode.NONE || this.pipelined ? undefined : modeOverride(BodyMode.NONE, this.responseBodyMode),
    };
  }

  private onResponseBody(at: ReturnType<StreamProcessor['expectResponse']>, msg: HttpBody): MaybePromise<Answers> {
    if (msg.endOfStream) this.completed = true;
    const p = this.pipelined;
    if (p?.directions.response) {
      if (p.holds('response')) {
        return p.chunk('response', msg, (whole) => bufferedResponseBody(this, at.src, at.state, at.runner, whole), (r) => this.refuse(at.state, r, 'response body refused'));
      }
      if (this.responseBodyMode === BodyMode.NONE) return passChunk('response');
    }
    if (this.responseBodyMode === BodyMode.BUFFERED) return bufferedResponseBody(this, at.src, at.state, at.runner, msg);
    // Only when the chain streams the body anyway: timing it never adds a round trip.
    this.firstChunkAt ??= performance.now();
    return streamedResponseBody(at.src, at.state.response, this.sse, msg);
  }

  /** A held response's headers, answered before its slow body ended (HeldBody.answerHeadersAfter). */
  private answerHeldHeaders(state: Responded): void {
    const answer: ProcessingResponse = { response: { $case: 'responseHeaders', value: { response: takeChanges(state.responseHeaders) } } };
    this.order.answered('responseHeaders', answer);
    this.log.warn(
      { waitedMs: this.runtime.config.envoy.messageTimeoutMs / 2 },
      "response body slower than half of envoy.messageTimeoutMs: its headers were answered without it (a body hook's header edits or rewrite of this body are dropped)",
    );
    this.late?.([answer]);
  }

  /** The core's own refusal of hostile input: the client's protocol, a log line, counted as a rejection by `gateway`. */
  private refuse(state: RequestState | Responded, refusal: Refusal, what: string): ProcessingResponse {
    this.log.warn({ status: refusal.status, code: refusal.code, reason: refusal.message }, what);
    return this.stopped({ respond: failResponse(state.request, refusal.status, refusal.message, { code: refusal.code }), by: 'gateway' });
  }

  /** The answer when a plugin (or the core) stopped the request: nothing more follows. */
  stopped(stop: Stop): ProcessingResponse {
    this.completed = true;
    return stopResponse(stop, this.outcome);
  }

  // ---- end ----------------------------------------------------------------------------------

  /** Runs every `end` hook exactly once, whatever happened. Never throws. */
  async end(cancelled: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.runDeferred();
    this.pipelined?.end();
    this.source?.runner.close();
    this.outcome.cancelled = cancelled;
    this.source?.endSignal();
    // The hook running now (bounded by its plugin's timeout, cut short by the signal) finishes
    // first. A message answered synchronously left nothing running.
    if (this.running) await this.running.catch(() => undefined);
    if (this.observing) await this.observing.catch(() => undefined);
    const elapsedMs = performance.now() - this.startedAt;
    const { state, source } = this;
    if (state && source) {
      const endCtx: EndContext = Object.assign(baseContext(source, 'end'), {
        response: state.response,
        outcome: this.outcome,
        elapsedMs,
      });
      const ended = source.runner.end(endCtx);
      if (ended instanceof Promise) await ended;
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
