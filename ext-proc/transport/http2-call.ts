import { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { decodeProcessingRequest } from '../envoy-decode.js';
import { encodeProcessingResponse } from '../envoy-encode.js';
import { encodeFrame, FrameDecoder, FrameError } from './frames.js';
import { GrpcStatus } from './grpc-status.js';
import { decodeHealthCheckRequest, encodeHealthCheckResponse, type HealthState } from './health.js';
import type { StreamHandler, StreamSink } from './types.js';

const RESPONSE_HEADERS: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' };
const FRAME_CODES = { tooLarge: GrpcStatus.RESOURCE_EXHAUSTED, compressed: GrpcStatus.UNIMPLEMENTED };

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

/** envoy.service.ext_proc.v3.ExternalProcessor/Process: a bidi stream of ProcessingRequest → ProcessingResponse. */
export function serveProcess(stream: ServerHttp2Stream, maxMessageBytes: number, open: (sink: StreamSink) => StreamHandler, onReset: () => void): void {
  const call = new GrpcCall(stream);
  const decoder = new FrameDecoder(maxMessageBytes, FRAME_CODES);
  const handler = open({
    send: (msg) => call.send(encodeProcessingResponse(msg)),
    end: () => call.finish(GrpcStatus.OK),
    fail: (code, message) => call.finish(code, message),
  });
  let aborted = false;
  const abort = () => {
    if (aborted) return;
    aborted = true;
    handler.abort();
  };
  const onMessage = (bytes: Buffer) => handler.message(decodeProcessingRequest(bytes));
  stream.on('data', (chunk: Buffer) => {
    if (call.ended) return;
    try {
      decoder.push(chunk, onMessage);
    } catch (err) {
      if (err instanceof FrameError) call.finish(err.code, err.message);
      else call.finish(GrpcStatus.INTERNAL, 'could not decode the ProcessingRequest');
      abort();
    }
  });
  // A reset (RST_STREAM) also ends the readable side, just before the stream closes: decide
  // once the close, if any, has been seen.
  stream.on('end', () =>
    setImmediate(() => {
      if (call.ended || stream.destroyed) return;
      if (decoder.partial) {
        call.finish(GrpcStatus.INTERNAL, 'stream ended inside a message');
        abort();
      } else handler.halfClose();
    }),
  );
  // Envoy resets streams as a matter of course: a normal end, reported by 'close', not an error.
  stream.on('error', () => {});
  stream.on('close', () => {
    if (stream.rstCode) onReset();
    if (!call.ended) {
      call.ended = true;
      abort();
    }
  });
}

/** grpc.health.v1.Health/Check, unary. */
export function serveHealthCheck(stream: ServerHttp2Stream, health: HealthState): void {
  const call = new GrpcCall(stream);
  const decoder = new FrameDecoder(64 * 1024, FRAME_CODES);
  let service: string | undefined;
  stream.on('error', () => {});
  stream.on('data', (chunk: Buffer) => {
    if (call.ended) return;
    try {
      decoder.push(chunk, (bytes) => (service = decodeHealthCheckRequest(bytes)));
    } catch (err) {
      call.finish(err instanceof FrameError ? err.code : GrpcStatus.INTERNAL, err instanceof FrameError ? err.message : 'bad HealthCheckRequest');
    }
  });
  stream.on('end', () => {
    if (call.ended) return;
    if (service === undefined) return call.finish(GrpcStatus.INTERNAL, 'expected one HealthCheckRequest');
    const status = health.of(service);
    if (status === undefined) return call.finish(GrpcStatus.NOT_FOUND, `unknown service ${service}`);
    call.send(encodeHealthCheckResponse(status));
    call.finish(GrpcStatus.OK);
  });
}
