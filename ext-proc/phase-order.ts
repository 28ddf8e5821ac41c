import type { ProcessingRequest, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { ProcessingMode_HeaderSendMode as HeaderMode, type ProcessingMode } from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { BodyMode, FILTER_BODY_MODES, FILTER_RESPONSE_HEADER_MODE } from './envoy-messages.js';
import type { ProtocolConfig } from './envoy-decode.js';

/** One ext_proc message kind, as Envoy sends them. */
export type Phase = NonNullable<ProcessingRequest['request']>['$case'];

/** What Envoy sends for each phase: the filter's `processing_mode`, then each `mode_override` on top. */
export interface PhaseModes {
  requestBody: BodyMode;
  requestTrailers: HeaderMode;
  responseHeaders: HeaderMode;
  responseBody: BodyMode;
  responseTrailers: HeaderMode;
}

/** The filter config's modes (envoy/render.ts renders the same values); request headers are always sent. */
export const FILTER_MODES: Readonly<PhaseModes> = {
  requestBody: FILTER_BODY_MODES.request,
  requestTrailers: HeaderMode.SKIP,
  responseHeaders: FILTER_RESPONSE_HEADER_MODE,
  responseBody: FILTER_BODY_MODES.response,
  responseTrailers: HeaderMode.SKIP,
};

/** A message Envoy would not send at this point of the exchange: the stream ends with FAILED_PRECONDITION. */
export class PhaseOrderError extends Error {
  constructor(
    readonly phase: Phase | undefined,
    reason: string,
  ) {
    super(`${phase ?? 'message without a phase'}: ${reason}`);
    this.name = 'PhaseOrderError';
  }
}

/** One direction (request or response) of the exchange. */
interface Direction {
  headers: boolean;
  bodyMessages: number;
  /** End of stream seen (on headers, a body chunk or trailers): nothing more may come this way. */
  ended: boolean;
}

/**
 * Modes where Envoy sends the body in several messages (the rest send it whole, once). The
 * generated protos predate FULL_DUPLEX_STREAMED, which the gateway never asks for.
 */
const streamedModes: ReadonlySet<BodyMode> = new Set([BodyMode.STREAMED]);

/**
 * Which message may come next on one ext_proc stream, from what came before and the modes in
 * force. `accept` is called before a message is handled (and throws for one Envoy would not
 * send); `answered` after, with the answer, so mode overrides and immediate responses count.
 * The processor answers strictly in order, so every earlier answer is known when a message is
 * checked.
 */
export class PhaseOrder {
  private readonly modes: PhaseModes;
  private readonly request: Direction = { headers: false, bodyMessages: 0, ended: false };
  private readonly response: Direction = { headers: false, bodyMessages: 0, ended: false };
  /** An immediate response was sent: Envoy closes the stream, nothing more may come. */
  private finished = false;
  /** Envoy sends bodies without waiting for the headers' answer (and then ignores every override). */
  private pipelined = false;
  /** The request headers' answer went out (on a pipelined stream it waits for the body's end). */
  private requestHeadersAnswered = false;

  constructor(
    modes: Readonly<PhaseModes> = FILTER_MODES,
    /** The filter's `allow_mode_override`: when false, Envoy ignores every override. */
    private allowModeOverride = true,
  ) {
    this.modes = { ...modes };
  }

  /**
   * The stream's own modes, from the first message's `protocol_config` (per-route overrides
   * included). A pipelined stream comes from the gateway's pipelined filter, which also sends
   * response headers (envoy/render.ts); Envoy ignores `mode_override` there.
   */
  configure(config: ProtocolConfig): void {
    this.modes.requestBody = config.requestBodyMode;
    this.modes.responseBody = config.responseBodyMode;
    if (!config.sendBodyWithoutWaitingForHeaderResponse) return;
    this.pipelined = true;
    this.allowModeOverride = false;
    this.modes.responseHeaders = HeaderMode.SEND;
  }

  /**
   * A body chunk Envoy had already sent, without waiting, when the exchange was answered with
   * an immediate response: expected on a pipelined stream, and dropped unanswered.
   */
  stray(msg: ProcessingRequest): boolean {
    const phase = msg.request?.$case;
    return this.finished && this.pipelined && (phase === 'requestBody' || phase === 'responseBody');
  }

  accept(msg: ProcessingRequest): void {
    const phase = msg.request?.$case;
    if (phase === undefined) throw new PhaseOrderError(undefined, 'no phase set');
    const refuse = this.refusal(phase);
    if (refuse !== undefined) throw new PhaseOrderError(phase, refuse);
    const value = msg.request?.value;
    const endOfStream = value !== undefined && 'endOfStream' in value && value.endOfStream;
    switch (phase) {
      case 'requestHeaders':
      case 'responseHeaders':
        this.direction(phase).headers = true;
        this.direction(phase).ended = endOfStream;
        return;
      case 'requestBody':
      case 'responseBody':
        this.direction(phase).bodyMessages += 1;
        if (endOfStream) this.direction(phase).ended = true;
        return;
      case 'requestTrailers':
      case 'responseTrailers':
        this.direction(phase).ended = true;
        return;
    }
  }

  answered(phase: Phase, out: ProcessingResponse): void {
    // By its kind, not `phase`: a held request's headers are answered with its last chunk.
    if (out.response?.$case === 'requestHeaders') this.requestHeadersAnswered = true;
    if (out.response?.$case === 'immediateResponse') {
      this.finished = true;
      return;
    }
    // Envoy reads an override only in the answer to a headers message.
    if (out.modeOverride && this.allowModeOverride && (phase === 'requestHeaders' || phase === 'responseHeaders')) {
      this.override(out.modeOverride);
    }
  }

  /** Why Envoy would not send `phase` now, or undefined when it may. */
  private refusal(phase: Phase): string | undefined {
    if (this.finished) return 'the exchange was already answered with an immediate response';
    const req = this.request;
    const res = this.response;
    switch (phase) {
      case 'requestHeaders':
        if (req.headers) return 'request headers were already sent';
        // After Envoy's own reply on a pipelined stream (response headers first): that request is over.
        return res.headers ? 'request headers after the response headers' : undefined;
      case 'requestBody':
        if (!req.headers) return 'no request headers yet';
        if (req.ended) return 'the request already ended';
        if (this.modes.requestBody === BodyMode.NONE) return 'the request body mode is NONE';
        if (!streamedModes.has(this.modes.requestBody)) {
          if (req.bodyMessages > 0) return 'a buffered request body comes in one message';
          // A buffered body is sent before the request moves on: no answer can have started.
          if (res.headers) return 'a buffered request body after response headers';
        }
        return undefined;
      case 'requestTrailers':
        if (!req.headers) return 'no request headers yet';
        if (req.ended) return 'the request already ended';
        return this.modes.requestTrailers === HeaderMode.SEND ? undefined : 'the request trailer mode is SKIP';
      case 'responseHeaders':
        // On a pipelined stream: Envoy's own reply to a request the processor never saw (StreamProcessor.envoyReply).
        if (!req.headers && !this.pipelined) return 'no request headers yet';
        if (res.headers) return 'response headers were already sent';
        // Envoy forwards the request only once its headers are answered, so no response can come
        // while a pipelined request is held: its hooks would run after the response's, and its
        // answers after theirs.
        if (this.pipelined && req.headers && !this.requestHeadersAnswered) return 'the request headers are not answered yet';
        // SEND is the proto's default for response headers (DEFAULT means SEND here).
        return this.modes.responseHeaders === HeaderMode.SKIP ? 'the response header mode is SKIP' : undefined;
      case 'responseBody':
        if (!res.headers) return 'no response headers yet';
        if (res.ended) return 'the response already ended';
        if (this.modes.responseBody === BodyMode.NONE) return 'the response body mode is NONE';
        if (!streamedModes.has(this.modes.responseBody) && res.bodyMessages > 0) return 'a buffered response body comes in one message';
        return undefined;
      case 'responseTrailers':
        if (!res.headers) return 'no response headers yet';
        if (res.ended) return 'the response already ended';
        return this.modes.responseTrailers === HeaderMode.SEND ? undefined : 'the response trailer mode is SKIP';
    }
  }

  private direction(phase: Phase): Direction {
    return phase.startsWith('request') ? this.request : this.response;
  }

  /** The request-header mode cannot be overridden (its message has already come). */
  private override(mode: ProcessingMode): void {
    this.modes.requestBody = mode.requestBodyMode;
    this.modes.requestTrailers = mode.requestTrailerMode;
    this.modes.responseHeaders = mode.responseHeaderMode;
    this.modes.responseBody = mode.responseBodyMode;
    this.modes.responseTrailers = mode.responseTrailerMode;
  }
}
