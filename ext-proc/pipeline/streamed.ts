import type { ResponseInfo, SseEvent } from '../../plugins/sdk/types.js';
import type { HttpBody } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import type { HookName } from './chain.js';
import { baseContext, type ContextSource } from './context.js';
import type { Stop } from './respond.js';
import { serializeEvent, type SseParser } from './sse.js';

/** What the streamed-body hooks need from the stream processor: its state and its chain walk. */
export interface StreamedHost extends ContextSource {
  readonly response: ResponseInfo | undefined;
  runHook(hook: HookName, makeCtx: () => object, opts?: { streamed?: boolean; until?: () => boolean }): Promise<Stop | undefined>;
}

/**
 * One streamed response chunk through the `responseChunk` hooks and, on SSE, the
 * `responseEvent` hooks. Returns the replacement for this chunk, or undefined to pass it
 * through untouched.
 */
export async function transformStreamedChunk(host: StreamedHost, sse: SseParser | undefined, msg: HttpBody): Promise<Buffer | undefined> {
  const replacedChunk = await runChunkHooks(host, msg.body, msg.endOfStream);
  const chunk = replacedChunk ?? msg.body;
  if (!sse) return replacedChunk;

  // Events leave in whole: the tail of a chunk waits for the chunk that completes its event.
  let out = '';
  for (const { event, raw } of sse.feed(chunk)) {
    const next = await runEventHooks(host, event);
    if (next === undefined) out += raw;
    else if (next !== null) out += serializeEvent(next);
  }
  if (msg.endOfStream) out += sse.flush();
  const input = chunk.toString('utf8');
  if (replacedChunk === undefined && out === input) return undefined;
  return Buffer.from(out);
}

/** Runs `responseChunk` hooks; returns the replacement chunk if any hook replaced it. */
export async function runChunkHooks(host: StreamedHost, original: Buffer, endOfStream: boolean): Promise<Buffer | undefined> {
  const response = host.response as ResponseInfo;
  let chunk = original;
  let replaced = false;
  await host.runHook(
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
    { streamed: true },
  );
  return replaced ? chunk : undefined;
}

/** Runs `responseEvent` hooks on one event: undefined = unchanged, null = dropped, else the replacement. */
async function runEventHooks(host: StreamedHost, original: SseEvent): Promise<SseEvent | null | undefined> {
  const response = host.response as ResponseInfo;
  let current: SseEvent | null = original;
  let changed = false;
  const done = original.data === '[DONE]';
  await host.runHook(
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
