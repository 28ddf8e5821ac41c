import { FRAME_HEADER_BYTES as GRPC_PREFIX_BYTES } from '../frames.js';
import { encodeHeaders } from './hpack.js';
import { Flag, FrameType, frame, FRAME_HEADER_BYTES, writeFrameHeader } from './frame.js';

// Our header blocks never change and never touch the peer's HPACK table: encoded once.
const RESPONSE_HEADERS = encodeHeaders([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0']]);

function statusFields(code: number, message?: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [['grpc-status', String(code)]];
  // Bounded: a status line is no place for a long text, and it must fit one frame.
  if (message) fields.push(['grpc-message', encodeURIComponent(message.slice(0, 1024))]);
  return fields;
}

/** Where a stream's frames go, and the connection's share of the flow-control window. */
export interface FrameSink {
  write(buf: Buffer): void;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly maxFrameSize: number;
  /** The connection's send window, shared by every stream. */
  connectionWindow: number;
  /** This stream waits for the connection window to grow. */
  blocked(stream: Outbound): void;
  /** Both sides of the stream ended. */
  closed(stream: Outbound): void;
}

/**
 * The sending half of one gRPC call on an HTTP/2 stream: response headers before the first
 * message, messages as DATA within the peer's flow-control windows (what does not fit waits
 * for WINDOW_UPDATE), then the status as trailers, or alone (trailers-only) when nothing was sent.
 */
export class Outbound {
  private headersSent = false;
  private readonly pending: Buffer[] = [];
  private trailers: Buffer | undefined;
  /** finish() was called: nothing more is sent after the status. */
  finishing = false;
  /** END_STREAM went out. */
  localEnded = false;
  remoteEnded = false;

  constructor(
    readonly id: number,
    public window: number,
    private readonly sink: FrameSink,
  ) {}

  send(message: Uint8Array): void {
    if (this.finishing) return;
    this.sendHeaders();
    const framed = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    framed.set(message, GRPC_PREFIX_BYTES);
    this.pending.push(framed);
    this.pump();
  }

  finish(code: number, message?: string): void {
    if (this.finishing) return;
    this.finishing = true;
    if (!this.headersSent) {
      // Trailers-only: one HEADERS frame with the status and END_STREAM.
      this.headersSent = true;
      this.endWith(Buffer.concat([RESPONSE_HEADERS, encodeHeaders(statusFields(code, message))]));
      return;
    }
    this.trailers = code === 0 && !message ? OK_TRAILERS : encodeHeaders(statusFields(code, message));
    this.pump();
  }

  /** Sends what the windows allow; the trailers once every message is out. */
  pump(): void {
    const sink = this.sink;
    while (this.pending.length > 0) {
      const chunk = this.pending[0] as Buffer;
      const n = Math.min(chunk.length, this.window, sink.connectionWindow, sink.maxFrameSize);
      if (n <= 0) {
        if (sink.connectionWindow <= 0) sink.blocked(this);
        return;
      }
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(header, 0, n, FrameType.DATA, 0, this.id);
      sink.write(header);
      sink.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      this.window -= n;
      sink.connectionWindow -= n;
      if (n === chunk.length) this.pending.shift();
      else this.pending[0] = chunk.subarray(n);
    }
    if (this.trailers) {
      const block = this.trailers;
      this.trailers = undefined;
      this.endWith(block);
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.sink.write(frame(FrameType.HEADERS, Flag.END_HEADERS, this.id, RESPONSE_HEADERS));
  }

  private endWith(block: Buffer): void {
    // Our blocks are far below any SETTINGS_MAX_FRAME_SIZE (16 KiB at least): no CONTINUATION.
    this.sink.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, this.id, block));
    this.localEnded = true;
    if (this.remoteEnded) this.sink.closed(this);
  }
}
