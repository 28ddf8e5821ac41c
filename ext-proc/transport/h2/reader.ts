import { CLIENT_PREFACE, ConnectionError, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_BYTES, H2Error } from './frame.js';

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

const EMPTY = Buffer.alloc(0);

/**
 * Cuts a connection's bytes into frames: the client preface first, then 9-byte headers and their
 * payloads, handed on as views on the chunk they came in (a frame split across chunks costs one
 * copy of what was left over). Throws ConnectionError on a bad preface or an oversized frame.
 */
export class FrameReader {
  private buffered: Buffer = EMPTY;
  private prefaceSeen = false;

  constructor(
    private readonly onFrame: FrameHandler,
    /** Stop handing frames on once this is false (the connection failed inside a frame). */
    private readonly open: () => boolean,
  ) {}

  push(chunk: Buffer): void {
    const data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    let at = 0;
    if (!this.prefaceSeen) {
      const seen = Math.min(data.length, CLIENT_PREFACE.length);
      if (!data.subarray(0, seen).equals(CLIENT_PREFACE.subarray(0, seen))) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'not an HTTP/2 client preface');
      if (seen < CLIENT_PREFACE.length) {
        this.buffered = data;
        return;
      }
      this.prefaceSeen = true;
      at = CLIENT_PREFACE.length;
    }
    while (data.length - at >= FRAME_HEADER_BYTES) {
      const length = (data[at] as number) * 65536 + (data[at + 1] as number) * 256 + (data[at + 2] as number);
      // Ours is the default 16 KiB: we never raise SETTINGS_MAX_FRAME_SIZE.
      if (length > DEFAULT_MAX_FRAME_SIZE) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
      if (data.length - at - FRAME_HEADER_BYTES < length) break;
      const type = data[at + 3] as number;
      const flags = data[at + 4] as number;
      const id = data.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, id, payload);
      if (!this.open()) return;
    }
    this.buffered = at === data.length ? EMPTY : data.subarray(at);
  }
}
