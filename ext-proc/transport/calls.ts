import { decodeProcessingRequest } from '../envoy-decode.js';
import { encodeProcessingResponse } from '../envoy-encode.js';
import { FrameDecoder, FrameError } from './frames.js';
import { GrpcStatus } from './grpc-status.js';
import { decodeHealthCheckRequest, encodeHealthCheckResponse, HEALTH_CHECK_PATH, type HealthState } from './health.js';
import { PROCESS_PATH, type StreamHandler, type StreamSink } from './types.js';

/**
 * The gRPC calls the ext-proc serves (ext_proc Process, health Check), whatever carries their
 * HTTP/2 streams: the h2 transport's own framing or node:http2 (http2-call.ts).
 */

/** What a call may do to its HTTP/2 stream. Both are no-ops once the call finished. */
export interface CallOutput {
  /** One gRPC message (the 5-byte prefix is added by the stream). */
  send(message: Uint8Array): void;
  /** Ends the call with a status: trailers, or a trailers-only response when nothing was sent. */
  finish(code: number, message?: string): void;
}

/** The gRPC call on one HTTP/2 stream, as the connection reports its events. */
export interface Call {
  data(chunk: Buffer): void;
  /** The peer's END_STREAM. */
  remoteEnd(): void;
  /** The stream is gone (reset, connection lost) before both sides ended. */
  abort(): void;
}

export interface CallServices {
  maxMessageBytes: number;
  health: HealthState;
  openStream(sink: StreamSink): StreamHandler;
}

const FRAME_CODES = { tooLarge: GrpcStatus.RESOURCE_EXHAUSTED, compressed: GrpcStatus.UNIMPLEMENTED };
const IGNORED: Call = { data: () => {}, remoteEnd: () => {}, abort: () => {} };

/** Routes a new stream by its request headers: ext_proc Process, health Check, or a refusal. */
export function openCall(headers: ReadonlyArray<readonly [string, string]>, out: CallOutput, services: CallServices): Call {
  let method: string | undefined;
  let path: string | undefined;
  let contentType: string | undefined;
  for (const [name, value] of headers) {
    if (name === ':method') method = value;
    else if (name === ':path') path = value;
    else if (name === 'content-type') contentType = value;
  }
  if (method !== 'POST' || !contentType?.startsWith('application/grpc')) {
    out.finish(GrpcStatus.INTERNAL, 'expected a gRPC request (POST, content-type application/grpc)');
    return IGNORED;
  }
  if (path === PROCESS_PATH) return processCall(out, services);
  if (path === HEALTH_CHECK_PATH) return healthCall(out, services.health);
  out.finish(GrpcStatus.UNIMPLEMENTED, `unknown method ${String(path)}`);
  return IGNORED;
}

/** envoy.service.ext_proc.v3.ExternalProcessor/Process: a bidi stream of ProcessingRequest → ProcessingResponse. */
export function processCall(out: CallOutput, services: CallServices): Call {
  const decoder = new FrameDecoder(services.maxMessageBytes, FRAME_CODES);
  let failed = false;
  const handler = services.openStream({
    send: (msg) => out.send(encodeProcessingResponse(msg)),
    end: () => out.finish(GrpcStatus.OK),
    fail: (code, message) => out.finish(code, message),
  });
  const onMessage = (bytes: Buffer) => handler.message(decodeProcessingRequest(bytes));
  const fail = (code: number, message: string) => {
    failed = true;
    out.finish(code, message);
    handler.abort();
  };
  return {
    data(chunk) {
      if (failed) return;
      try {
        decoder.push(chunk, onMessage);
      } catch (err) {
        if (err instanceof FrameError) fail(err.code, err.message);
        else fail(GrpcStatus.INTERNAL, 'could not decode the ProcessingRequest');
      }
    },
    remoteEnd() {
      if (failed) return;
      if (decoder.partial) fail(GrpcStatus.INTERNAL, 'stream ended inside a message');
      else handler.halfClose();
    },
    // The server loop's abort is idempotent: after a normal end it does nothing.
    abort: () => handler.abort(),
  };
}

/** grpc.health.v1.Health/Check, unary. */
export function healthCall(out: CallOutput, health: HealthState): Call {
  const decoder = new FrameDecoder(64 * 1024, FRAME_CODES);
  let service: string | undefined;
  let failed = false;
  return {
    data(chunk) {
      if (failed) return;
      try {
        decoder.push(chunk, (bytes) => (service = decodeHealthCheckRequest(bytes)));
      } catch (err) {
        failed = true;
        out.finish(err instanceof FrameError ? err.code : GrpcStatus.INTERNAL, err instanceof FrameError ? err.message : 'bad HealthCheckRequest');
      }
    },
    remoteEnd() {
      if (failed) return;
      if (service === undefined) return out.finish(GrpcStatus.INTERNAL, 'expected one HealthCheckRequest');
      const status = health.of(service);
      if (status === undefined) return out.finish(GrpcStatus.NOT_FOUND, `unknown service ${service}`);
      out.send(encodeHealthCheckResponse(status));
      out.finish(GrpcStatus.OK);
    },
    abort: () => {},
  };
}
