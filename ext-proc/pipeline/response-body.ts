import type { HeaderSet } from '../../plugins/sdk/headers.js';
import type { ResponseInfo } from '../../plugins/sdk/types.js';
import { common } from '../envoy-messages.js';
import type { HttpBody, ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import { takeChanges } from './answers.js';
import { BodyBuffer } from './body.js';
import type { ChainRunner, RunOptions } from './chain-runner.js';
import { responseBodyContext, type ContextSource } from './context.js';
import type { MaybePromise } from './hooks.js';
import type { Stop } from './respond.js';
import type { SseParser } from './sse.js';
import type { Responded } from './state.js';
import { runChunkHooks, transformStreamedChunk } from './streamed.js';

/** What a buffered response body needs from the stream processor. */
export interface StopHost {
  /** The answer when the chain stopped the request. */
  stopped(stop: Stop): ProcessingResponse;
  /** Runs `work` right after this message's answer has left (StreamProcessor.runDeferred). */
  defer(work: () => MaybePromise<void>): void;
}

/** A whole (BUFFERED) response body through the `responseBody` hooks, then the chunk hooks once. */
export function bufferedResponseBody(host: StopHost, src: ContextSource, state: Responded, runner: ChainRunner, msg: HttpBody): MaybePromise<ProcessingResponse> {
  const { response, responseHeaders: headers } = state;
  const body = new BodyBuffer(msg.body, 'response');
  if (runner.observesResponseBodyOnly) {
    // Nothing that reads this body can change its answer (PluginHooks.observesResponseBody): it
    // leaves now, and the hooks read it after, off the client's latency.
    const answer = bufferedAnswer(headers, body, undefined);
    host.defer(() => observeResponseBody(src, state, runner, body));
    return answer;
  }
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

const OBSERVED: RunOptions = Object.freeze({ streamed: true });

/**
 * The hooks of a body already answered: run as streamed hooks (a response they return is
 * ignored with a warning, a failure is logged and skipped), and a change they make is reported,
 * not applied: the body has left.
 */
function observeResponseBody(src: ContextSource, state: Responded, runner: ChainRunner, body: BodyBuffer): MaybePromise<void> {
  const { response, responseHeaders: headers } = state;
  const changed = (chunk: Buffer | undefined) => {
    if (chunk === undefined && !body.replaced && headers.changes.size === 0) return;
    runner.log.warn('a plugin declared observesResponseBody but changed the response body or headers after the answer left; ignored');
  };
  const ran = runner.run('responseBody', () => responseBodyContext(src, headers, body, response), OBSERVED);
  const chunks = () => {
    const chunk = runChunkHooks(src, response, body.body, true);
    return chunk instanceof Promise ? chunk.then(changed) : changed(chunk);
  };
  return ran instanceof Promise ? ran.then(chunks) : chunks();
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
