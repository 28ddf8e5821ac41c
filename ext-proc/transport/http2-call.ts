import { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { healthCall, processCall, type Call, type CallServices } from './calls.js';
import { encodeFrame } from './frames.js';
import type { HealthState } from './health.js';

const RESPONSE_HEADERS: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' };

/**
 * The server side of one gRPC call on an HTTP/2 stream: response headers on the first message,
 * then framed messages, then grpc-status trailers; or, when nothing was sent, a trailers-only
 * response. Once ended, later sends are dropped.
 */
class GrpcCall {
  private headersSent = false;
  private paused = false;
  ended = false;
  private trailers: OutgoingHttpHeaders = {};

  constructor(private readonly stream: ServerHttp2Stream) {
    stream.on('wantTrailers', () => stream.sendTrailers(this.trailers));
  }

  send(message: Uint8Array): void {
    if (this.ended || this.stream.destroyed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    }
    // Backpressure: Envoy reads slower than we answer (a large body): stop reading its messages until it catches up.
    if (!this.stream.write(encodeFrame(message)) && !this.paused) {
      this.paused = true;
      this.stream.pause();
      this.stream.once('drain', () => {
        this.paused = false;
        this.stream.resume();
      });
    }
  }

  finish(code: number, message?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stream.destroyed || this.stream.closed) return;
    const status: OutgoingHttpHeaders = { 'grpc-status': String(code) };
    if (message) status['grpc-message'] = encodeURIComponent(message);
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond({ ...RESPONSE_HEADERS, ...status }, { endStream: true });
    } else {
      this.trailers = status;
      this.stream.end();
    }
    // A client still sending after our status is not reset: a reset right behind the trailers can
    // overtake them (the client then sees a reset, not our status). What it sends is dropped.
  }
}

/** Whether a request is a gRPC call at all; anything else gets a trailers-only error. */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return headers[':method'] === 'POST' && typeof type === 'string' && type.startsWith('application/grpc');
}

export function refuseCall(stream: ServerHttp2Stream, code: number, message: string): void {
  new GrpcCall(stream).finish(code, message);
}

/** envoy.service.ext_proc.v3.ExternalProcessor/Process on a node:http2 stream (the call itself: calls.ts). */
export function serveProcess(stream: ServerHttp2Stream, services: CallServices, onReset: () => void): void {
  const out = new GrpcCall(stream);
  follow(stream, out, processCall(out, services), onReset);
}

/** grpc.health.v1.Health/Check, unary, on a node:http2 stream. */
export function serveHealthCheck(stream: ServerHttp2Stream, health: HealthState): void {
  const out = new GrpcCall(stream);
  follow(stream, out, healthCall(out, health), () => {});
}

/** Reports a node:http2 stream's events to its call. */
function follow(stream: ServerHttp2Stream, out: GrpcCall, call: Call, onReset: () => void): void {
  stream.on('data', (chunk: Buffer) => {
    if (!out.ended) call.data(chunk);
  });
  // A reset (RST_STREAM) also ends the readable side, just before the stream closes: decide
  // once the close, if any, has been seen.
  stream.on('end', () =>
    setImmediate(() => {
      if (!out.ended && !stream.destroyed) call.remoteEnd();
    }),
  );
  // Envoy resets streams as a matter of course: a normal end, reported by 'close', not an error.
  stream.on('error', () => {});
  stream.on('close', () => {
    if (stream.rstCode) onReset();
    if (!out.ended) {
      out.ended = true;
      call.abort();
    }
  });
}
