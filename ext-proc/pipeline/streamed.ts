import type { ResponseInfo, SseEvent } from '../../plugins/sdk/types.js';
import { baseContext, type ContextSource } from './context.js';
import type { RunOptions } from './chain-runner.js';
import type { MaybePromise } from './hooks.js';
import { serializeEvent, type SseParser } from './sse.js';

/**
 * One streamed response chunk through the `responseChunk` hooks and, on SSE, the
 * `responseEvent` hooks. Returns the replacement for this chunk, or undefined to pass it
 * through untouched. Synchronous when the chunk hooks are and the stream is not parsed as SSE.
 */
export function transformStreamedChunk(
  host: ContextSource,
  response: ResponseInfo,
  sse: SseParser | undefined,
  msg: { body: Buffer; endOfStream: boolean },
): MaybePromise<Buffer | undefined> {
  const replacedChunk = runChunkHooks(host, response, msg.body, msg.endOfStream);
  if (!sse) return replacedChunk;
  return transformEvents(host, response, sse, msg, replacedChunk);
}

/** Events leave in whole: the tail of a chunk waits for the chunk that completes its event. */
async function transformEvents(
  host: ContextSource,
  response: ResponseInfo,
  sse: SseParser,
  msg: { body: Buffer; endOfStream: boolean },
  chunkHooks: MaybePromise<Buffer | undefined>,
): Promise<Buffer | undefined> {
  const replacedChunk = await chunkHooks;
  const chunk = replacedChunk ?? msg.body;
  let out = '';
  for (const { event, raw } of sse.feed(chunk)) {
    const next = await runEventHooks(host, response, event);
    if (next === undefined) out += raw;
    else if (next !== null) out += serializeEvent(next);
  }
  if (msg.endOfStream) out += sse.flush();
  const input = chunk.toString('utf8');
  if (replacedChunk === undefined && out === input) return undefined;
  return Buffer.from(out);
}

const STREAMED: RunOptions = Object.freeze({ streamed: true });

/** Runs `responseChunk` hooks; returns the replacement chunk if any hook replaced it. */
export function runChunkHooks(host: ContextSource, response: ResponseInfo, original: Buffer, endOfStream: boolean): MaybePromise<Buffer | undefined> {
  let chunk = original;
  let replaced = false;
  const ran = host.runner.run(
    'responseChunk',
    () =>
      Object.assign(baseContext(host, 'responseChunk'), {
        response,
        chunk,
        endOfStream,
        replaceChunk(next: Buffer | string) {
          chunk = typeof next === 'string' ? Buffer.from(next) : next;
          replaced = true;
        },
      }),
    STREAMED,
  );
  if (ran instanceof Promise) return ran.then(() => (replaced ? chunk : undefined));
  return replaced ? chunk : undefined;
}

/** Runs `responseEvent` hooks on one event: undefined = unchanged, null = dropped, else the replacement. */
async function runEventHooks(host: ContextSource, response: ResponseInfo, original: SseEvent): Promise<SseEvent | null | undefined> {
  let current: SseEvent | null = original;
  let changed = false;
  const done = original.data === '[DONE]';
  await host.runner.run(
    'responseEvent',
    () => {
      const event = current as SseEvent;
      return Object.assign(baseContext(host, 'responseEvent'), {
        response,
        event,
        done,
        json<T>(): T | undefined {
          if (event.data === '[DONE]') return undefined;
          try {
            return JSON.parse(event.data) as T;
          } catch {
            return undefined;
          }
        },
        replaceEvent(next: SseEvent | null) {
          current = next === null ? null : { ...next };
          changed = true;
        },
      });
    },
    // A dropped event is gone: later plugins have nothing to look at.
    { streamed: true, until: () => current === null },
  );
  return changed ? current : undefined;
}
