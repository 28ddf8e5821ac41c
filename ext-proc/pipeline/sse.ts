import { StreamLimitError } from './request-guard.js';
import type { SseEvent } from '../../plugins/sdk/types.js';

export interface ParsedEvent {
  event: SseEvent;
  /** The event's bytes as received, separator included, so untouched events pass through unchanged. */
  raw: string;
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/g;

/**
 * Splits a text/event-stream into complete events. Chunks from Envoy do not align with
 * events, so the tail of a chunk waits for the chunk that completes it.
 */
export class SseParser {
  private pending = '';
  /** How much of `pending` has been searched for an event end already. */
  private scanned = 0;
  private readonly decoder = new TextDecoder('utf-8');

  /** `maxPending`: characters held for an incomplete event; a stream that goes past it is cut. */
  constructor(private readonly maxPending = Number.POSITIVE_INFINITY) {}

  feed(chunk: Buffer): ParsedEvent[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const events: ParsedEvent[] = [];
    let start = 0;
    // Only the new text (and the 3 characters before it, a separator may straddle chunks) is
    // searched: a long event dribbled in tiny chunks costs linear time, not quadratic.
    EVENT_END.lastIndex = Math.max(0, this.scanned - 3);
    let m: RegExpExecArray | null;
    while ((m = EVENT_END.exec(this.pending)) !== null) {
      const end = m.index + m[0].length;
      const raw = this.pending.slice(start, end);
      events.push({ raw, event: parseEvent(this.pending.slice(start, m.index)) });
      start = end;
    }
    this.pending = this.pending.slice(start);
    this.scanned = this.pending.length;
    if (this.pending.length > this.maxPending) {
      this.pending = '';
      this.scanned = 0;
      throw new StreamLimitError(`an SSE event grew past ${this.maxPending} characters without ending`);
    }
    return events;
  }

  /** Whatever is left at end of stream (an unterminated last event). */
  flush(): string {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    this.scanned = 0;
    return rest;
  }
}

function parseEvent(block: string): SseEvent {
  const event: SseEvent = { data: '' };
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
  }
  event.data = data.join('\n');
  return event;
}

export function serializeEvent(event: SseEvent): string {
  let out = '';
  if (event.event !== undefined) out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  for (const line of event.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}
