/**
 * gRPC's length-prefixed message framing over HTTP/2 DATA: one flag byte (1 = compressed),
 * a 4-byte big-endian length, then the message. A message may span several DATA frames and a
 * DATA frame may hold several messages, so the decoder keeps what it has not used yet.
 */
export const FRAME_HEADER_BYTES = 5;

export class FrameError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the message being read, or -1 while its header is incomplete. */
  private expected = -1;

  /**
   * @param maxMessageBytes larger messages are refused from their header, before buffering them
   * @param tooLarge status code for a message over the limit
   */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly codes: { tooLarge: number; compressed: number },
  ) {}

  /** Whether part of a message is buffered (a stream ending now ends mid-message). */
  get partial(): boolean {
    return this.buffered > 0 || this.expected >= 0;
  }

  /** Feeds one DATA chunk; calls `onMessage` for every complete message. Throws FrameError on a bad frame. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const header = this.take(FRAME_HEADER_BYTES);
        const length = header.readUInt32BE(1);
        if (header[0] !== 0) throw new FrameError(this.codes.compressed, 'compressed messages are not supported (no grpc-encoding negotiated)');
        if (length > this.maxMessageBytes) {
          throw new FrameError(this.codes.tooLarge, `Received message larger than max (${length} vs. ${this.maxMessageBytes})`);
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) return;
      const message = this.take(this.expected);
      this.expected = -1;
      onMessage(message);
    }
  }

  /** The next `n` buffered bytes; copies only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0] as Buffer | undefined;
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0] as Buffer;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** One framed, uncompressed message. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}
