import type { Logger } from 'pino';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { UPSTREAM_VERSION_HEADER } from '../plugins/sdk/wire.js';
import type { HttpBody, HttpHeaders, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { BodyMode, modeOverride } from './envoy-messages.js';
import { readHeaders } from './wire-headers.js';
import { loggableHeaders } from './logger.js';
import type { ChainRunner } from './pipeline/chain-runner.js';
import type { MaybePromise } from './pipeline/hooks.js';
import { takeChanges } from './pipeline/answers.js';
import { bufferedResponseBody, streamedResponseBody, type StopHost } from './pipeline/response-body.js';
import { responseHeadersContext, type ContextSource } from './pipeline/context.js';
import { noteServedVersion } from './routing/upstream.js';
import { SseParser } from './pipeline/sse.js';
import { headersOverLimit, type Refusal, type StreamLimits } from './pipeline/request-guard.js';
import type { RequestState, Responded } from './pipeline/state.js';
import type { RequestSide } from './request-body.js';
import { NO_ANSWERS, passChunk, type Answers, type PipelinedBodies } from './pipeline/pipelined.js';
import type { Stop } from './pipeline/respond.js';

/** What the response side needs from its stream's processor. */
export interface ResponseHost extends StopHost {
  readonly log: Logger;
  readonly debug: boolean;
  readonly limits: StreamLimits;
  /** Set when Envoy pipelines this stream's bodies. */
  readonly pipelined: PipelinedBodies | undefined;
  /** Half of it is how long a held response's headers wait for their body. */
  readonly messageTimeoutMs: number;
  /** Whether held headers can be answered early (a slow body): only with a way to send outside a message's answer. */
  readonly sendsEarly: boolean;
  sendEarly(answer: ProcessingResponse): void;
  refuse(state: RequestState | Responded, refusal: Refusal, what: string): ProcessingResponse;
  /** The exchange reached its last message. */
  markComplete(): void;
}

/**
 * The response's phases of one stream: its headers (the body mode the chain needs, held when
 * Envoy pipelines a body someone reads) and its body (buffered, streamed, or passed on), with
 * the response's timings for the request summary.
 */
export class ResponseSide {
  responded: Responded | undefined;
  /** When the response headers arrived, and the first streamed chunk (performance.now()). */
  headersAt: number | undefined;
  firstChunkAt: number | undefined;
  private bodyMode = BodyMode.NONE;
  private sse: SseParser | undefined;

  constructor(private readonly host: ResponseHost) {}

  onHeaders({ state, runner, src }: RequestSide, msg: HttpHeaders): MaybePromise<Answers> {
    this.headersAt = performance.now();
    const read = readHeaders(msg);
    const over = headersOverLimit(read, this.host.limits);
    if (over !== undefined) {
      return this.host.refuse(state, { status: 502, code: 'bad_upstream_response', message: `The model server's response headers are too large: ${over}` }, 'response headers refused');
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
    if (this.host.debug) this.host.log.debug({ headers: loggableHeaders(values) }, 'response headers');
    const stop = runner.run('responseHeaders', () => responseHeadersContext(src, headers, response));
    if (stop instanceof Promise) return stop.then((s) => this.afterHeaders(responded, runner, msg.endOfStream, s));
    return this.afterHeaders(responded, runner, msg.endOfStream, stop);
  }

  private afterHeaders(state: Responded, runner: ChainRunner, endOfStream: boolean, stop: Stop | undefined): Answers {
    const host = this.host;
    if (stop) return host.stopped(stop);
    const { response, responseHeaders: headers } = state;

    if (!endOfStream) this.bodyMode = runner.responseBodyMode(response, state.vars);
    const p = endOfStream ? undefined : host.pipelined;
    const pipelined = p?.directions.response === true;
    if (p && pipelined && this.bodyMode === BodyMode.BUFFERED) {
      // The body follows without waiting: the headers' edits (these and the body hooks') go with it.
      const held = p.hold('response');
      if (host.sendsEarly) held.answerHeadersAfter(host.messageTimeoutMs / 2, () => this.answerHeldHeaders(state));
      return NO_ANSWERS;
    }
    // A pipelined body nobody reads still comes, chunk by chunk: the exchange ends with it.
    if (this.bodyMode === BodyMode.NONE && !pipelined) host.markComplete();
    if (this.bodyMode === BodyMode.STREAMED && response.streaming && runner.wantsEvents()) this.sse = new SseParser(host.limits.maxSseEventBytes);
    return {
      response: { $case: 'responseHeaders', value: { response: takeChanges(headers) } },
      modeOverride: this.bodyMode === BodyMode.NONE || host.pipelined ? undefined : modeOverride(BodyMode.NONE, this.bodyMode),
    };
  }

  onBody(src: ContextSource, runner: ChainRunner, msg: HttpBody): MaybePromise<Answers> {
    const state = this.responded;
    if (!state) throw new Error('response body before the response headers');
    if (msg.endOfStream) this.host.markComplete();
    const p = this.host.pipelined;
    if (p?.directions.response) {
      if (p.holds('response')) {
        return p.chunk(
          'response',
          msg,
          (whole) => bufferedResponseBody(this.host, src, state, runner, whole),
          (r) => this.host.refuse(state, r, 'response body refused'),
        );
      }
      if (this.bodyMode === BodyMode.NONE) return passChunk('response');
    }
    if (this.bodyMode === BodyMode.BUFFERED) return bufferedResponseBody(this.host, src, state, runner, msg);
    // Only when the chain streams the body anyway: timing it never adds a round trip.
    this.firstChunkAt ??= performance.now();
    return streamedResponseBody(src, state.response, this.sse, msg);
  }

  /** A held response's headers, answered before its slow body ended (HeldBody.answerHeadersAfter). */
  private answerHeldHeaders(state: Responded): void {
    const answer: ProcessingResponse = { response: { $case: 'responseHeaders', value: { response: takeChanges(state.responseHeaders) } } };
    this.host.log.warn(
      { waitedMs: this.host.messageTimeoutMs / 2 },
      "response body slower than half of envoy.messageTimeoutMs: its headers were answered without it (a body hook's header edits or rewrite of this body are dropped)",
    );
    this.host.sendEarly(answer);
  }
}
