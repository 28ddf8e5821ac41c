import type { EnvoyRequest, ProtocolConfig } from '../envoy-decode.js';
import { BODY_LENGTH_HEADER } from '../../plugins/sdk/wire.js';
import { BodyMode, headerOption } from '../envoy-messages.js';
import type { CommonResponse, HeaderMutation, HttpBody, ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import type { MaybePromise } from './hooks.js';
import { StreamLimitError, type Refusal } from './request-guard.js';

// Pipelined streams: on the routes where the gateway reads both bodies anyway, Envoy's
// pipelined ext_proc filter sends the headers and then the body's chunks without waiting for the
// headers' answer (send_body_without_waiting_for_header_response, STREAMED bodies; see
// envoy/render.ts). The processor holds the headers' answer until the body has ended, runs the
// headers' and the body's hooks, and answers the headers and every chunk at once: one round
// trip per direction instead of two, with the same header edits, routing and body rewrites as
// a buffered body.

/** Which directions of a stream Envoy pipelines, from the first message's protocol_config. */
export interface Pipelining {
  readonly request: boolean;
  readonly response: boolean;
}

export function pipeliningOf(config: ProtocolConfig | undefined): Pipelining | undefined {
  if (!config?.sendBodyWithoutWaitingForHeaderResponse) return undefined;
  const request = config.requestBodyMode === BodyMode.STREAMED;
  const response = config.responseBodyMode === BodyMode.STREAMED;
  return request || response ? { request, response } : undefined;
}

/** One body's chunks, held with their answers until the end of the body. */
export class HeldBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  /** The headers' answer went out before the body ended (see answerHeadersAfter). */
  headersAnswered = false;

  constructor(private readonly maxBytes: number) {}

  /**
   * Envoy's message_timeout runs for the held headers' answer while the body comes: a body
   * slower than `ms` (e.g. a model server that sends its headers, then computes) gets its
   * headers answered without it, by `answer`, so the request does not fail on the timeout.
   */
  answerHeadersAfter(ms: number, answer: () => void): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.ended) return;
      this.headersAnswered = true;
      answer();
    }, ms);
    this.timer.unref();
  }

  /** The body ended (or the stream did): the headers are answered with it, not early. */
  end(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** False once the body grew past the limit: the caller answers for the whole request. */
  add(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return this.size <= this.maxBytes;
  }

  get count(): number {
    return this.chunks.length;
  }

  get bytes(): number {
    return this.size;
  }

  whole(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
  }
}

export type Direction = 'request' | 'response';

/** What a phase answers: one answer, or (pipelined streams) none yet or several at once. */
export type Answers = ProcessingResponse | readonly ProcessingResponse[];

export const NO_ANSWERS: readonly ProcessingResponse[] = Object.freeze([]);

/** A held body past the limit: the client's request is too large, or the model server's answer is. */
export function tooLarge(direction: Direction, maxBytes: number): Refusal {
  return direction === 'request'
    ? { status: 413, code: 'request_too_large', message: `The request body is larger than ${maxBytes} bytes` }
    : { status: 502, code: 'bad_upstream_response', message: `The model server's response body is larger than ${maxBytes} bytes` };
}

/** A held body's buffered answer as the headers' answer and one per chunk (or the immediate response that stopped it). */
export function answerHeld(direction: Direction, answer: ProcessingResponse, held: HeldBody): Answers {
  const r = answer.response;
  if (r?.$case !== 'requestBody' && r?.$case !== 'responseBody') return answer;
  return splitBodyAnswer(direction, r.value.response, held);
}

const HEADERS = { request: 'requestHeaders', response: 'responseHeaders' } as const;
const BODY = { request: 'requestBody', response: 'responseBody' } as const;
type Kind = (typeof HEADERS)[Direction] | (typeof BODY)[Direction];

/** The answer to one headers or body message: `common` (undefined: it leaves as it came). */
function answer(kind: Kind, common: CommonResponse | undefined): ProcessingResponse {
  return { response: { $case: kind, value: { response: common } } } as ProcessingResponse;
}

/** The answer to a chunk that leaves as it came. */
export function passChunk(direction: Direction): ProcessingResponse {
  return answer(BODY[direction], undefined);
}

/** The length of the body a buffered answer replaced the whole body with (undefined: not replaced). */
function replacedLength(body: CommonResponse | undefined): number | undefined {
  const m = body?.bodyMutation?.mutation;
  return m?.$case === 'body' ? m.value.length : undefined;
}

/**
 * The response's length, known before its headers are answered: Envoy drops `content-length`
 * from a STREAMED body's headers and ignores it from the processor, so without this the answer
 * leaves chunked, and Envoy's compressor, which applies `minResponseBytes` only to a response
 * with a length, compresses every small answer. An Envoy filter makes BODY_LENGTH_HEADER the
 * `content-length` (envoy/pipelined.ts bodyLengthFilter).
 */
function withBodyLength(mutation: HeaderMutation | undefined, length: number): HeaderMutation {
  const option = headerOption(BODY_LENGTH_HEADER, String(length));
  return mutation ? { setHeaders: [...mutation.setHeaders, option], removeHeaders: mutation.removeHeaders } : { setHeaders: [option], removeHeaders: [] };
}

const CLEAR_CHUNK: NonNullable<CommonResponse['bodyMutation']> = { mutation: { $case: 'clearBody', value: true } };

/**
 * A buffered body's answer (its header edits, clear_route_cache and a replaced body) split into
 * the held headers' answer and one answer per chunk: header edits can only go with the headers
 * (Envoy applies none from a streamed chunk's answer), a replaced body goes out with the last
 * chunk and every earlier chunk is cleared.
 */
export function splitBodyAnswer(direction: Direction, body: CommonResponse | undefined, held: HeldBody): ProcessingResponse[] {
  const chunks = held.count;
  const out: ProcessingResponse[] = [];
  if (!held.headersAnswered) {
    const headerMutation = direction === 'response' ? withBodyLength(body?.headerMutation, replacedLength(body) ?? held.bytes) : body?.headerMutation;
    const headers: CommonResponse | undefined =
      headerMutation || body?.clearRouteCache
        ? { status: body?.status ?? 0, headerMutation, bodyMutation: undefined, clearRouteCache: body?.clearRouteCache ?? false }
        : undefined;
    out.push(answer(HEADERS[direction], headers));
  }
  // Headers already sent (a slow body): a rewritten body would contradict their content-length, so the body leaves as it came.
  const replaced = held.headersAnswered ? undefined : body?.bodyMutation;
  for (let i = 0; i < chunks; i++) {
    const mutation = !replaced ? undefined : i === chunks - 1 ? replaced : CLEAR_CHUNK;
    out.push(answer(BODY[direction], mutation && { status: body?.status ?? 0, headerMutation: undefined, bodyMutation: mutation, clearRouteCache: false }));
  }
  return out;
}

/**
 * A pipelined stream's bodies: which directions are held (their headers' answer with them) and
 * what each chunk is answered, so the processor only decides when to hold and what a whole body
 * runs through.
 */
export class PipelinedBodies {
  private readonly held: { request?: HeldBody; response?: HeldBody } = {};

  constructor(
    readonly directions: Pipelining,
    private readonly maxBytes: number,
  ) {}

  /** Holds this direction's headers' answer until its body has ended. */
  hold(direction: Direction): HeldBody {
    const held = new HeldBody(this.maxBytes);
    this.held[direction] = held;
    return held;
  }

  holds(direction: Direction): boolean {
    return this.held[direction] !== undefined;
  }

  /**
   * One chunk of this direction's body: passed on when nobody holds the body; otherwise no answer
   * until the body's end, then `whole` runs on the whole body and its answer is split into the
   * headers' and every chunk's. A body past the limit is refused (`refuse`), or the stream cut
   * when its headers already went out.
   */
  chunk(direction: Direction, msg: HttpBody, whole: (body: HttpBody) => MaybePromise<ProcessingResponse>, refuse: (refusal: Refusal) => ProcessingResponse): MaybePromise<Answers> {
    const held = this.held[direction];
    if (!held) return passChunk(direction);
    if (!held.add(msg.body)) {
      held.end();
      // Headers already answered: too late for a status of our own.
      if (held.headersAnswered) throw new StreamLimitError(`${direction} body over ${this.maxBytes} bytes`);
      return refuse(tooLarge(direction, this.maxBytes));
    }
    if (!msg.endOfStream) return NO_ANSWERS;
    held.end();
    const out = whole({ body: held.whole(), endOfStream: true });
    return out instanceof Promise ? out.then((answer) => answerHeld(direction, answer, held)) : answerHeld(direction, out, held);
  }

  end(): void {
    this.held.request?.end();
    this.held.response?.end();
  }
}

/**
 * A pipelined stream that starts with response headers: Envoy's own reply to a request that
 * never reached the processor (the buffer filter's 413 before the pipelined filter, which sends
 * every response's headers). It leaves as Envoy made it.
 */
export function envoyReply(msg: EnvoyRequest): readonly ProcessingResponse[] {
  return [answer(msg.request?.$case === 'responseHeaders' ? 'responseHeaders' : 'responseBody', undefined)];
}
