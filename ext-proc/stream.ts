import type { Logger } from 'pino';
import type { EndContext, RequestOutcome } from '../plugins/sdk/types.js';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { INTERNAL_REQUEST_HEADERS } from '../plugins/sdk/wire.js';
import type { HttpBody, HttpHeaders, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import type { EnvoyRequest } from './envoy-decode.js';
import { BodyMode, FILTER_BODY_MODES, modeOverride } from './envoy-messages.js';
import { readHeaders } from './wire-headers.js';
import { loggableHeaders } from './logger.js';
import { PhaseOrder, type Phase } from './phase-order.js';
import type { HookName } from './pipeline/chain.js';
import type { MaybePromise } from './pipeline/hooks.js';
import type { ChainRunner } from './pipeline/chain-runner.js';
import { takeChanges } from './pipeline/answers.js';
import { baseContext, requestHeadersContext } from './pipeline/context.js';
import { requestInfo } from './pipeline/request-info.js';
import { RequestSource } from './request-source.js';
import type { RequestObserver } from './pipeline/observer.js';
import { failResponse, stopResponse, type Stop } from './pipeline/respond.js';
import { bodyModelOf } from './routing/hints.js';
import { finishRouting } from './routing/upstream.js';
import { DEFAULT_STREAM_LIMITS, refuseRequestHeaders, type Refusal, type StreamLimits } from './pipeline/request-guard.js';
import { RequestState, type Responded } from './pipeline/state.js';
import { envoyReply, NO_ANSWERS, PipelinedBodies, pipeliningOf, type Answers } from './pipeline/pipelined.js';
import type { Runtime } from './runtime.js';
import { ResponseSide, type ResponseHost } from './response-side.js';
import { requestBodyAnswer, type RequestSide } from './request-body.js';
import { AfterAnswer } from './pipeline/after-answer.js';

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
export class StreamProcessor implements ResponseHost {
  private state: RequestState | undefined;
  private source: RequestSource | undefined;
  private readonly outcome: RequestOutcome = { cancelled: false };
  private readonly startedAt = performance.now();
  private processingMs = 0;
  private ended = false;
  private completed = false;
  private logger: Logger | undefined;
  private readonly order = new PhaseOrder();
  /** The message being handled, if any: `end` waits for it. */
  private running: Promise<unknown> | undefined;
  /** Set when Envoy pipelines this stream's bodies (pipeline/pipelined.ts). */
  pipelined: PipelinedBodies | undefined;
  /** The response's phases (response-side.ts), with this processor as their host. */
  private readonly response: ResponseSide;
  /** Hooks that only observe a response body, run once its answer has left. */
  private readonly afterAnswer = new AfterAnswer();

  constructor(
    private readonly runtime: Runtime,
    private readonly rootLog: Logger,
    private readonly observer: RequestObserver = {},
    readonly limits: ProcessorLimits = DEFAULT_PROCESSOR_LIMITS,
    /** Sends answers that are not a message's (a held headers' answer sent early); without it nothing is sent early. */
    private readonly late?: (answers: readonly ProcessingResponse[]) => void,
  ) {
    this.response = new ResponseSide(this);
  }

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
    try {
      return Promise.resolve(this.handleNow(msg));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `handle`, synchronous when the phase was (the server loop's): throws what `handle` rejects with. */
  handleNow(msg: EnvoyRequest): MaybePromise<readonly ProcessingResponse[]> {
    // Nothing of this stream runs before the observers of the last answer (if the server has not run them yet).
    this.afterAnswer.run();
    // The phase runs synchronously unless a hook is async: only then is there something to wait for.
    try {
      const out = this.dispatch(msg);
      this.running = out instanceof Promise ? out : undefined;
      return out;
    } catch (err) {
      this.running = undefined;
      throw err;
    }
  }

  /** Work a phase left for after its answer (AfterAnswer): the server runs it once the answer is written. */
  get hasDeferred(): boolean {
    return this.afterAnswer.pending;
  }

  defer(work: () => MaybePromise<void>): void {
    this.afterAnswer.set(work);
  }

  /** Called right after the answer is written, in the same turn of the event loop: no later message is handled before it. */
  runDeferred(): void {
    this.afterAnswer.run();
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
        out = this.response.onHeaders(this.expectRequest(), r.value);
        break;
      case 'responseBody': {
        phase = 'responseBody';
        const { src, runner } = this.expectRequest();
        out = this.response.onBody(src, runner, r.value);
        break;
      }
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

  private expectRequest(): RequestSide {
    const { state, source } = this;
    if (!state || !source) throw new Error('ext_proc message before the request headers');
    return { state, runner: source.runner, src: source };
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

  private onRequestChunk(at: RequestSide, msg: HttpBody): MaybePromise<Answers> {
    const p = this.pipelined;
    if (!p?.directions.request) return requestBodyAnswer(this, this.runtime, at, msg);
    // Pipelined: held for the hooks until its end, or (nobody reads it) on its way as it came.
    return p.chunk('request', msg, (whole) => requestBodyAnswer(this, this.runtime, at, whole), (r) => this.refuse(at.state, r, 'request body refused'));
  }

  // ---- what the response side reads (ResponseHost) ------------------------------------------

  get debug(): boolean {
    return this.rootLog.isLevelEnabled('debug');
  }

  get messageTimeoutMs(): number {
    return this.runtime.config.envoy.messageTimeoutMs;
  }

  get sendsEarly(): boolean {
    return this.late !== undefined;
  }

  sendEarly(answer: ProcessingResponse): void {
    this.order.answered('responseHeaders', answer);
    this.late?.([answer]);
  }

  markComplete(): void {
    this.completed = true;
  }

  /** The core's own refusal of hostile input: the client's protocol, a log line, counted as a rejection by `gateway`. */
  refuse(state: RequestState | Responded, refusal: Refusal, what: string): ProcessingResponse {
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
    // Before the runner closes: the observers of the last answer run in full.
    const observed = this.afterAnswer.settled();
    this.pipelined?.end();
    this.source?.runner.close();
    this.outcome.cancelled = cancelled;
    this.source?.endSignal();
    // The hook running now (bounded by its plugin's timeout, cut short by the signal) finishes
    // first. A message answered synchronously left nothing running.
    if (this.running) await this.running.catch(() => undefined);
    await observed;
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
      responseHeadersMs: this.response.headersAt === undefined ? undefined : this.response.headersAt - this.startedAt,
      firstChunkMs: this.response.firstChunkAt === undefined ? undefined : this.response.firstChunkAt - this.startedAt,
      processingMs: this.processingMs,
    });
  }
}
