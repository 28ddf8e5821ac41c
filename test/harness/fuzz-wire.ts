// The fuzzer's side of the wire (test/harness/fuzz.ts): ext_proc messages built from a generated
// exchange, a grpc-js client that can send what our generated stubs lack (protocol_config), and
// a stream's answers read one at a time, each within the hang bound.
import * as grpc from '@grpc/grpc-js';
import { ExternalProcessorService, ProcessingRequest, type ExternalProcessorClient, type ProcessingResponse } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import type { Exchange, Phase, Played } from './fuzz.js';

/** What the fuzzer sends: the exchange's phases, trailers (Envoy never sends them here), or a message without a phase. */
export type WirePhase = Phase | 'trailers' | 'nophase';

/**
 * ProcessingRequest.protocol_config (field 11) as Envoy's pipelined filter sends it on a
 * stream's first message: request and response bodies STREAMED, and
 * send_body_without_waiting_for_header_response.
 */
export const PIPELINED_PROTOCOL_CONFIG: Buffer = Buffer.from([0x5a, 0x06, 0x08, 0x01, 0x10, 0x01, 0x18, 0x01]);

/** A message to send; `trailing` is appended to its encoding (protobuf fields may come in any order). */
export type WireRequest = ProcessingRequest & { trailing?: Buffer };

/** One message of an exchange, with the phase the fuzzer meant it for. */
export interface Sent {
  phase: WirePhase;
  msg: WireRequest;
}

const encode = (value: WireRequest): Buffer => {
  const bytes = Buffer.from(ProcessingRequest.encode(value).finish());
  return value.trailing ? Buffer.concat([bytes, value.trailing]) : bytes;
};

/** A client of the ext_proc service whose messages may carry fields newer than the stubs (WireRequest.trailing). */
export function fuzzClient(address: string): ExternalProcessorClient {
  const service = { process: { ...ExternalProcessorService.process, requestSerialize: encode } };
  const Client = grpc.makeGenericClientConstructor(service, 'envoy.service.ext_proc.v3.ExternalProcessor');
  return new Client(address, grpc.credentials.createInsecure()) as unknown as ExternalProcessorClient;
}

export const bytes = (s: string) => Buffer.from(s, 'latin1');
const header = (entries: [string, Buffer][]) => ({ headers: entries.map(([key, rawValue]) => ({ key, value: '', rawValue })) });

export function message(phase: WirePhase, x: Exchange, endOfStream: boolean, chunk?: Buffer): WireRequest {
  const request = ((): ProcessingRequest['request'] => {
    switch (phase) {
      case 'requestHeaders':
        return { $case: phase, value: { headers: header([[':method', bytes(x.method)], [':path', bytes(x.path)], [':authority', bytes('gw')], ...x.headers]), attributes: {}, endOfStream } };
      case 'responseHeaders':
        return { $case: phase, value: { headers: header([[':status', bytes(x.status)], ...x.responseHeaders]), attributes: {}, endOfStream } };
      case 'requestBody':
      case 'responseBody':
        return { $case: phase, value: { body: chunk ?? x.body ?? Buffer.alloc(0), endOfStream } };
      case 'trailers':
        return { $case: 'responseTrailers', value: { trailers: { headers: [] } } };
      case 'nophase':
        return undefined;
    }
  })();
  return ProcessingRequest.fromPartial({ request });
}

/** How the peer departs from Envoy's order; `none` plays Envoy faithfully. */
export type Hostility =
  | { kind: 'none' }
  | { kind: 'duplicate' | 'drop' | 'swap'; at: number }
  | { kind: 'insert'; at: number; phase: WirePhase };

/** The messages with one hostile change (a copy; `none` leaves them as they are). */
export function mutate(list: readonly Sent[], h: Hostility, x: Exchange): Sent[] {
  const out = [...list];
  if (h.kind === 'none' || out.length === 0) return out;
  const at = Math.min(h.at, out.length - 1);
  if (h.kind === 'duplicate') out.splice(at, 0, out[at] as Sent);
  else if (h.kind === 'drop') out.splice(at, 1);
  else if (h.kind === 'swap' && at + 1 < out.length) [out[at], out[at + 1]] = [out[at + 1] as Sent, out[at] as Sent];
  else if (h.kind === 'insert') out.splice(at, 0, { phase: h.phase, msg: message(h.phase, x, false, bytes('x')) });
  return out;
}

export type StreamEvent = ProcessingResponse | grpc.ServiceError | 'end' | 'hang';

/** The stream's events in order; `hang` when none came within `hangMs`. */
export function eventsOf(call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>, hangMs: number): () => Promise<StreamEvent> {
  const events: Exclude<StreamEvent, 'hang'>[] = [];
  let wake: (() => void) | undefined;
  const push = (e: Exclude<StreamEvent, 'hang'>) => {
    events.push(e);
    wake?.();
  };
  call.on('data', push);
  call.on('error', push);
  call.on('end', () => push('end'));
  return async () => {
    if (events.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, hangMs);
      });
      clearTimeout(timer);
      wake = undefined;
    }
    return events.shift() ?? 'hang';
  };
}

/** Half-closes, then waits for the server to close its side: every message was answered, so any answer now is a violation. */
export async function closeAfterLast(call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>, next: () => Promise<StreamEvent>, r: Played): Promise<void> {
  call.end();
  for (;;) {
    const e = await next();
    if (e === 'end') return;
    if (e === 'hang') {
      r.hang = true;
      r.violations.push('stream never closed after the client ended it');
      return;
    }
    if (e instanceof Error) return;
    r.violations.push(`an answer (${e.response?.$case ?? 'nothing'}) after the last message was answered`);
  }
}
