// Pipelined exchanges for the processor fuzzer (test/harness/fuzz.ts), played as Envoy's
// pipelined filter plays them: protocol_config on the first message (STREAMED bodies, sent
// without waiting for the headers' answer), each direction's messages back to back, and the
// answers expected at the body's end — the headers' first, then one per chunk — unless an
// immediate response comes first (the chunks already sent after it get none). Hostile variants:
// the fuzzer's usual changes to the order, a body that never ends, bodies over the held limit,
// and Envoy's own reply (a stream that starts with response headers).
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import type { ExternalProcessorClient, ProcessingResponse } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import type { Exchange, Played } from './fuzz.js';
import { closeAfterLast, eventsOf, message, mutate, PIPELINED_PROTOCOL_CONFIG, type Sent, type StreamEvent } from './fuzz-wire.js';

/** The servers' message limit, which is also the held-body limit (ext-proc/server.ts). */
export const FUZZ_MAX_MESSAGE_BYTES = 1024 * 1024;

type Direction = 'request' | 'response';

/** How a pipelined exchange is played (Exchange.pipelined). */
export interface Pipelined {
  /** The request body comes in this many chunks. */
  requestChunks: number;
  /** A body past the held-body limit in this direction (chunks of BIG before the real ones). */
  oversize: Direction | undefined;
  /** This direction's body never ends; the peer then goes quiet (the idle timeout must cut it), half-closes or cancels. */
  stall: { direction: Direction; then: 'quiet' | 'close' | 'cancel' } | undefined;
  /** Envoy's own reply to a request the processor never saw (the buffer filter's 413): the stream starts with response headers. */
  envoyReply: boolean;
}

export const pipelinedArb: fc.Arbitrary<Pipelined> = fc.record({
  requestChunks: fc.integer({ min: 1, max: 4 }),
  oversize: fc.oneof({ weight: 20, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom<Direction>('request', 'response') }),
  // Quiet stalls cost the idle timeout each: rare.
  stall: fc.oneof(
    { weight: 30, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.record({ direction: fc.constantFrom<Direction>('request', 'response'), then: fc.constantFrom('close' as const, 'cancel' as const) }) },
    { weight: 1, arbitrary: fc.record({ direction: fc.constantFrom<Direction>('request', 'response'), then: fc.constant('quiet' as const) }) },
  ),
  envoyReply: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** Shared by every oversize body (the pool of a long run holds flags, not megabytes). */
const BIG = Buffer.alloc(400 * 1024, 0x61);
/** Enough BIG chunks to cross the limit: the last one crosses it. */
const OVERSIZE_CHUNKS = Math.ceil((FUZZ_MAX_MESSAGE_BYTES + 1) / BIG.length);
const oversize = () => Array.from({ length: OVERSIZE_CHUNKS }, () => BIG);

function split(body: Buffer, n: number): Buffer[] {
  const size = Math.ceil(body.length / n) || 1;
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out.length > 0 ? out : [body];
}

/** One direction's messages: headers, then chunks, the last one ending the body unless it stalls. */
function direction(x: Exchange, p: Pipelined, d: Direction): Sent[] {
  const stalls = p.stall?.direction === d;
  const body = d === 'request' ? (x.body === undefined ? [] : split(x.body, p.requestChunks)) : x.chunks;
  // Past the limit, the body still ends with a chunk of its own (empty when it has none).
  const chunks = p.oversize === d ? [...oversize(), ...(body.length > 0 ? body : [Buffer.alloc(0)])] : body;
  const headersEnd = chunks.length === 0 && !stalls;
  const headers: Sent = { phase: `${d}Headers`, msg: message(`${d}Headers`, x, headersEnd) };
  return [headers, ...chunks.map((c, i): Sent => ({ phase: `${d}Body`, msg: message(`${d}Body`, x, !stalls && i === chunks.length - 1, c) }))];
}

const withConfig = (s: Sent): Sent => ({ phase: s.phase, msg: { ...s.msg, trailing: PIPELINED_PROTOCOL_CONFIG } });

/** The answer's CommonResponse, if it has one: none means the message leaves as it came. */
function changes(a: ProcessingResponse): unknown {
  const r = a.response;
  return r && r.$case !== 'immediateResponse' && 'response' in r.value ? r.value.response : undefined;
}

export async function playPipelined(client: ExternalProcessorClient, x: Exchange, p: Pipelined, opts: { hangMs: number }): Promise<Played> {
  const call = client.process();
  const next = eventsOf(call, opts.hangMs);
  const r: Played = { sent: 0, answers: 0, immediate: false, error: undefined, hang: false, cancelled: false, violations: [] };
  const faithful = x.hostility.kind === 'none';
  const send = (list: Sent[]) => {
    for (const s of list) call.write(s.msg);
    r.sent += list.length;
  };
  /** Stream errors a faithful exchange may end with. */
  const allowed = new Set<grpc.status>();

  /** Reads one answer per phase, in order; false when the exchange is over (immediate response, error, hang, cancel). */
  const expect = async (phases: readonly Sent['phase'][], what: { unchanged?: boolean } = {}): Promise<boolean> => {
    for (const phase of phases) {
      if (x.cancelAfter !== undefined && r.answers >= x.cancelAfter) {
        r.cancelled = true;
        call.cancel();
        return false;
      }
      const e = await next();
      if (!goesOn(e, phase)) return false;
      if (what.unchanged && changes(e) !== undefined) r.violations.push(`Envoy's own ${phase} changed`);
    }
    return true;
  };
  /** Books one event in place of `phase`'s answer; true when it was that answer and the exchange goes on. */
  const goesOn = (e: StreamEvent, phase: Sent['phase']): e is ProcessingResponse => {
    if (e === 'hang') {
      r.hang = true;
      r.violations.push(`no answer to pipelined ${phase}`);
      return false;
    }
    if (e === 'end') {
      r.violations.push(`stream closed without answering pipelined ${phase}`);
      return false;
    }
    if (e instanceof Error) {
      r.error = (e as grpc.ServiceError).code;
      return false;
    }
    r.answers++;
    if (e.modeOverride) r.violations.push(`a mode_override on a pipelined stream (${phase})`);
    const kind = e.response?.$case;
    if (kind === 'immediateResponse') {
      r.immediate = true;
      return false;
    }
    if (kind !== (phase === 'trailers' ? 'responseTrailers' : phase)) r.violations.push(`pipelined ${phase} answered with ${kind ?? 'nothing'}`);
    return true;
  };

  if (!faithful) {
    await hostile();
  } else if (p.envoyReply) {
    const list = direction(x, { ...p, stall: undefined, oversize: undefined }, 'response');
    list[0] = withConfig(list[0] as Sent);
    send(list);
    if (await expect(list.map((s) => s.phase), { unchanged: true })) await closeAfterLast(call, next, r);
  } else {
    await envoy();
  }
  if (r.hang) call.cancel();
  if (r.error !== undefined && faithful && !allowed.has(r.error)) r.violations.push(`Envoy's own pipelined order ended with gRPC status ${grpc.status[r.error]}`);
  if (r.error !== undefined && !faithful && r.error !== grpc.status.FAILED_PRECONDITION && r.error !== grpc.status.RESOURCE_EXHAUSTED) {
    r.violations.push(`stream ended with gRPC status ${grpc.status[r.error] ?? r.error}`);
  }
  return r;

  /** As Envoy: a direction's messages back to back, then all their answers; the response only once the request was answered. */
  async function envoy(): Promise<void> {
    // A response body over the limit whose headers went out early (a slow body) can only be cut.
    if (p.oversize === 'response') allowed.add(grpc.status.RESOURCE_EXHAUSTED);
    for (const d of ['request', 'response'] as const) {
      const list = direction(x, p, d);
      if (d === 'request') list[0] = withConfig(list[0] as Sent);
      if (p.stall?.direction === d) {
        send(list);
        return stalled(list, p.stall.then);
      }
      // Past the held-body limit the processor must answer without waiting for the body's end:
      // the rest goes out only once what came before it was answered (a held body without a
      // limit would hang here).
      const parts = p.oversize === d ? [list.slice(0, 1 + OVERSIZE_CHUNKS), list.slice(1 + OVERSIZE_CHUNKS)] : [list];
      let more = true;
      for (const part of parts) {
        send(part);
        more = await expect(part.map((s) => s.phase));
        if (!more) break;
      }
      if (!more) break;
    }
    if (!r.cancelled && r.error === undefined && !r.hang) await closeAfterLast(call, next, r);
  }

  /** A body that never ends: what was answered must be in order; the stream must still end. */
  async function stalled(list: Sent[], then: 'quiet' | 'close' | 'cancel'): Promise<void> {
    if (then === 'cancel') {
      r.cancelled = true;
      call.cancel();
      return;
    }
    if (then === 'close') call.end();
    // Quiet: only the processor's idle timeout ends it (DEADLINE_EXCEEDED).
    else allowed.add(grpc.status.DEADLINE_EXCEEDED);
    await inOrder(list);
  }

  /** Hostile: everything back to back (one change to Envoy's order), then half-close; answers must follow the messages' order. */
  async function hostile(): Promise<void> {
    const request = direction(x, { ...p, stall: undefined }, 'request');
    const h = x.hostility;
    // Near the stream's start, or around the end of the request: where its held answers fall due and the response starts.
    const around = h.kind === 'none' || h.at < 3 ? h : { ...h, at: Math.max(0, request.length - 5 + h.at) };
    const list = mutate([...request, ...direction(x, { ...p, stall: undefined }, 'response')], around, x);
    if (list.length > 0) list[0] = withConfig(list[0] as Sent);
    send(list);
    call.end();
    await inOrder(list);
  }

  /**
   * Reads until the stream ends: the answers must be those of a prefix of `list`, in order (an
   * immediate response may stand for the rest, and nothing follows it).
   */
  async function inOrder(list: Sent[]): Promise<void> {
    let i = 0;
    let over = false;
    for (;;) {
      const e = await next();
      if (e === 'end') return;
      if (e === 'hang') {
        r.hang = true;
        r.violations.push('a pipelined stream was never ended (by its end or the idle timeout)');
        return;
      }
      if (e instanceof Error) {
        r.error = (e as grpc.ServiceError).code;
        return;
      }
      r.answers++;
      const kind = e.response?.$case;
      const phase = list[i]?.phase;
      if (over) {
        r.violations.push(`an answer (${kind}) after the immediate response`);
      } else if (kind === 'immediateResponse') {
        over = true;
        r.immediate = true;
      } else if (phase === undefined) {
        r.violations.push(`an answer (${kind}) beyond the messages sent`);
      } else if (kind !== (phase === 'trailers' ? 'responseTrailers' : phase)) {
        r.violations.push(`answer ${i} is ${kind ?? 'nothing'}, message ${i} was ${phase}`);
      }
      if (e.modeOverride) r.violations.push('a mode_override on a pipelined stream');
      i++;
    }
  }
}
