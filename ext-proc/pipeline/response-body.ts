import type { HeaderSet } from '../../plugins/sdk/headers.js';
import type { ResponseInfo } from '../../plugins/sdk/types.js';
import { common } from '../envoy-messages.js';
import type { HttpBody, ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import { takeChanges } from './answers.js';
import { BodyBuffer } from './body.js';
import type { ChainRunner } from './chain-runner.js';
import { responseBodyContext, type ContextSource } from './context.js';
import type { MaybePromise } from './hooks.js';
import type { Stop } from './respond.js';
import type { SseParser } from './sse.js';
import type { Responded } from './state.js';
import { runChunkHooks, transformStreamedChunk } from './streamed.js';

/** The processor's answer when the chain stopped the request. */
export interface StopHost {
  stopped(stop: Stop): ProcessingResponse;
}

/** A whole (BUFFERED) response body through the `responseBody` hooks, then the chunk hooks once. */
export function bufferedResponseBody(host: StopHost, src: ContextSource, state: Responded, runner: ChainRunner, msg: HttpBody): MaybePromise<ProcessingResponse> {
  const { response, responseHeaders: headers } = state;
  const body = new BodyBuffer(msg.body, 'response');
  const stop = runner.run('responseBody', () => responseBodyContext(src, headers, body, response));
  if (stop instanceof Promise) return stop.then((s) => afterResponseBody(host, state, src, body, s));
  return afterResponseBody(host, state, src, body, stop);
}

function afterResponseBody(host: StopHost, state: Responded, src: ContextSource, body: BodyBuffer, stop: Stop | undefined): MaybePromise<ProcessingResponse> {
  if (stop) return host.stopped(stop);
  // Chunk hooks see every byte that reaches the client; here that is the whole body, once.
  const chunk = runChunkHooks(src, state.response, body.body, true);
  if (chunk instanceof Promise) return chunk.then((c) => bufferedAnswer(state.responseHeaders, body, c));
  return bufferedAnswer(state.responseHeaders, body, chunk);
}

/** One chunk of a STREAMED response body through the chunk (and, on SSE, event) hooks. */
export function streamedResponseBody(src: ContextSource, response: ResponseInfo, sse: SseParser | undefined, msg: HttpBody): MaybePromise<ProcessingResponse> {
  const chunk = transformStreamedChunk(src, response, sse, msg);
  if (chunk instanceof Promise) return chunk.then(streamedAnswer);
  return streamedAnswer(chunk);
}

/** The answer to a buffered response body: the chain's header edits, and the body if a hook replaced it. */
export function bufferedAnswer(headers: HeaderSet, body: BodyBuffer, chunk: Buffer | undefined): ProcessingResponse {
  let newBody: Buffer | undefined;
  if (body.replaced || chunk) {
    newBody = chunk ?? body.body;
    headers.set('content-length', String(newBody.length));
  }
  return { response: { $case: 'responseBody', value: { response: takeChanges(headers, newBody) } } };
}

/** The answer to a streamed chunk: the chunk as it leaves (undefined: untouched). */
export function streamedAnswer(chunk: Buffer | undefined): ProcessingResponse {
  return { response: { $case: 'responseBody', value: { response: common(NO_CHANGES, { body: chunk }) } } };
}

const NO_CHANGES: ReadonlyMap<string, string | null> = new Map();
