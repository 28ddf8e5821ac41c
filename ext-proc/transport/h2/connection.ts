import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ChurnTable } from '../../churn-table.js';
import { openCall, type Call, type CallServices } from '../calls.js';
import {
  ConnectionError,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  Flag,
  FrameType,
  frame,
  goAwayFrame,
  H2Error,
  MAX_WINDOW,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from './frame.js';
import { HpackDecoder, HpackError } from './hpack.js';
import { Outbound, type FrameSink } from './outbound.js';
import { FrameReader } from './reader.js';
import { BatchWriter } from './writer.js';

/** What we announce. Envoy multiplexes every stream of a worker on one connection: no small cap. */
export const LOCAL = {
  maxConcurrentStreams: 10_000,
  streamWindow: 1024 * 1024,
  connectionWindow: 8 * 1024 * 1024,
  headerTableSize: 4096,
  maxHeaderListBytes: 64 * 1024,
} as const;

interface Stream {
  out: Outbound;
  call: Call;
  /** What the peer may still send before our next WINDOW_UPDATE, and what it sent since the last. */
  recvWindow: number;
  unacked: number;
}

/**
 * The server side of one HTTP/2 connection carrying gRPC calls (RFC 9113): frames in, flow
 * control both ways, HPACK decoding, and every frame we send written in one batch per turn of
 * the event loop. The gRPC meaning of a stream is call.ts's; this class knows only HTTP/2.
 */
export class H2Connection implements FrameSink {
  private readonly reader: FrameReader;
  private readonly writer: BatchWriter;
  /** Not a Map: see ChurnTable. */
  private readonly streams = new ChurnTable<Stream>();
  private lastStreamId = 0;
  private readonly hpack = new HpackDecoder(LOCAL.headerTableSize, LOCAL.maxHeaderListBytes);
  /** A header block still waiting for its CONTINUATION frames. */
  private block: { id: number; flags: number; parts: Buffer[]; bytes: number } | undefined;
  private peerInitialWindow = DEFAULT_WINDOW;
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  connectionWindow = DEFAULT_WINDOW;
  private readonly waiting = new Set<Outbound>();
  private recvWindow = LOCAL.connectionWindow;
  private unacked = 0;
  private goingAway = false;
  private ended = false;
  private readonly onEnd: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly services: CallServices,
    private readonly log: Logger,
  ) {
    socket.setNoDelay?.(true);
    this.reader = new FrameReader((type, flags, id, payload) => this.onFrame(type, flags, id, payload), () => !this.ended);
    this.writer = new BatchWriter(socket, () => {
      if (this.goingAway && this.streams.size === 0 && !this.ended) socket.end();
    });
    this.write(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, LOCAL.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, LOCAL.streamWindow],
        [Setting.MAX_HEADER_LIST_SIZE, LOCAL.maxHeaderListBytes],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    this.write(windowUpdateFrame(0, LOCAL.connectionWindow - DEFAULT_WINDOW));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => log.debug({ err }, 'ext_proc connection error'));
    socket.on('close', () => this.socketClosed());
  }

  /** Runs once the connection is gone. */
  whenEnded(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnd.push(fn);
  }

  /** GOAWAY: streams in flight finish, new ones go to another connection; closes once idle. */
  goAway(): void {
    if (this.goingAway || this.ended) return;
    this.goingAway = true;
    this.write(goAwayFrame(this.lastStreamId, H2Error.NO_ERROR));
    this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- receiving --------------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(chunk);
    } catch (err) {
      if (err instanceof ConnectionError) return this.fail(err.code, err.message);
      if (err instanceof HpackError) return this.fail(H2Error.COMPRESSION_ERROR, err.message);
      this.log.error({ err }, 'ext_proc connection: unexpected error');
      this.fail(H2Error.INTERNAL_ERROR, 'internal error');
    }
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.block && (type !== FrameType.CONTINUATION || id !== this.block.id)) {
      throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'a header block was interrupted');
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, id, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, id, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, id, payload);
      case FrameType.RST_STREAM:
        if (id === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (payload.length !== 4) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, 'RST_STREAM size');
        return this.drop(id, true);
      case FrameType.SETTINGS:
        return this.onSettings(flags, id, payload);
      case FrameType.PING:
        if (id !== 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'PING on a stream');
        if (payload.length !== 8) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, 'PING size');
        if (!(flags & Flag.ACK)) this.write(frame(FrameType.PING, Flag.ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        // The peer opens no new stream here; the ones in flight finish.
        this.goingAway = true;
        return this.endIfIdle();
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(id, payload);
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      default:
        return; // PRIORITY and unknown types: nothing to do (RFC 9113 §5.5).
    }
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'DATA on stream 0');
    this.recvWindow -= payload.length;
    if (this.recvWindow < 0) throw new ConnectionError(H2Error.FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.unacked += payload.length;
    if (this.unacked >= LOCAL.connectionWindow / 2) {
      this.write(windowUpdateFrame(0, this.unacked));
      this.recvWindow += this.unacked;
      this.unacked = 0;
    }
    const stream = this.streams.get(id);
    if (!stream) {
      if (id > this.lastStreamId) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'DATA on an idle stream');
      return; // a stream we already closed or reset: its late frames are dropped
    }
    if (stream.out.remoteEnded) return this.reset(id, H2Error.STREAM_CLOSED);
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) return this.reset(id, H2Error.FLOW_CONTROL_ERROR);
    stream.unacked += payload.length;
    if (stream.unacked >= LOCAL.streamWindow / 2 && !(flags & Flag.END_STREAM)) {
      this.write(windowUpdateFrame(id, stream.unacked));
      stream.recvWindow += stream.unacked;
      stream.unacked = 0;
    }
    const body = flags & Flag.PADDED ? unpad(payload) : payload;
    if (body.length > 0) stream.call.data(body);
    if (flags & Flag.END_STREAM) this.remoteEnd(id);
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0 || id % 2 === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, `HEADERS on stream ${id}`);
    let fragment = flags & Flag.PADDED ? unpad(payload) : payload;
    if (flags & Flag.PRIORITY) {
      if (fragment.length < 5) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'HEADERS priority size');
      fragment = fragment.subarray(5);
    }
    if (flags & Flag.END_HEADERS) return this.onHeaderBlock(id, flags, fragment);
    this.block = { id, flags, parts: [fragment], bytes: fragment.length };
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    const block = this.block;
    if (!block) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'CONTINUATION without HEADERS');
    block.parts.push(payload);
    block.bytes += payload.length;
    if (block.bytes > LOCAL.maxHeaderListBytes) throw new ConnectionError(H2Error.ENHANCE_YOUR_CALM, 'header block too large');
    if (!(flags & Flag.END_HEADERS)) return;
    this.block = undefined;
    this.onHeaderBlock(id, block.flags, Buffer.concat(block.parts));
  }

  private onHeaderBlock(id: number, flags: number, block: Buffer): void {
    // Decoded whatever becomes of the stream: the peer's table changes with every block.
    const fields = this.hpack.decode(block);
    const existing = this.streams.get(id);
    if (existing) {
      // Trailers: gRPC clients send none, and they must end the stream.
      if (flags & Flag.END_STREAM) return this.remoteEnd(id);
      return this.reset(id, H2Error.PROTOCOL_ERROR);
    }
    if (id <= this.lastStreamId) return; // a stream that is already closed
    this.lastStreamId = id;
    if (this.goingAway || this.streams.size >= LOCAL.maxConcurrentStreams) {
      this.write(rstStreamFrame(id, H2Error.REFUSED_STREAM));
      return;
    }
    const out = new Outbound(id, this.peerInitialWindow, this);
    // A call refused at once (unknown method, overload) answers here; the stream stays until the peer ends it.
    const call = openCall(fields, out, this.services);
    this.streams.set(id, { out, call, recvWindow: LOCAL.streamWindow, unacked: 0 });
    if (flags & Flag.END_STREAM) this.remoteEnd(id);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & Flag.ACK) return;
    if (payload.length % 6 !== 0) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, 'SETTINGS size');
    for (let at = 0; at < payload.length; at += 6) {
      const key = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (key === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new ConnectionError(H2Error.FLOW_CONTROL_ERROR, 'initial window too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.out.window += delta;
      } else if (key === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 2 ** 24 - 1) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'bad max frame size');
        this.maxFrameSize = value;
      }
      // HEADER_TABLE_SIZE concerns an encoder table we never use; the others ask nothing of a server.
    }
    this.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
    for (const s of this.streams.values()) s.out.pump();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(H2Error.FRAME_SIZE_ERROR, 'WINDOW_UPDATE size');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.connectionWindow += increment;
      if (this.connectionWindow > MAX_WINDOW) throw new ConnectionError(H2Error.FLOW_CONTROL_ERROR, 'connection window overflow');
      const waiting = [...this.waiting];
      this.waiting.clear();
      for (const out of waiting) out.pump();
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    if (increment === 0) return this.reset(id, H2Error.PROTOCOL_ERROR);
    stream.out.window += increment;
    if (stream.out.window > MAX_WINDOW) return this.reset(id, H2Error.FLOW_CONTROL_ERROR);
    stream.out.pump();
  }

  // ---- streams ----------------------------------------------------------------------------------

  private remoteEnd(id: number): void {
    const stream = this.streams.get(id);
    if (!stream || stream.out.remoteEnded) return;
    stream.out.remoteEnded = true;
    stream.call.remoteEnd();
    if (stream.out.localEnded) this.drop(id, false);
  }

  private reset(id: number, code: number): void {
    this.write(rstStreamFrame(id, code));
    this.drop(id, true);
  }

  /** The stream is gone; a call that had not ended is told (its `end` runs once either way). */
  private drop(id: number, aborted: boolean): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    this.waiting.delete(stream.out);
    stream.out.finishing = true;
    if (aborted) stream.call.abort();
    this.endIfIdle();
  }

  // FrameSink, for Outbound
  blocked(out: Outbound): void {
    this.waiting.add(out);
  }

  closed(out: Outbound): void {
    this.drop(out.id, false);
  }

  // ---- sending ----------------------------------------------------------------------------------

  write(buf: Buffer): void {
    if (!this.ended) this.writer.write(buf);
  }

  private endIfIdle(): void {
    if (this.goingAway && this.streams.size === 0 && !this.writer.pending && !this.ended) this.socket.end();
  }

  /** A connection error: GOAWAY with the code, then the connection closes; its streams are aborted. */
  private fail(code: number, reason: string): void {
    this.log.warn({ code, reason }, 'ext_proc connection refused: HTTP/2 protocol error');
    this.write(goAwayFrame(this.lastStreamId, code, reason));
    this.writer.flush();
    this.socket.end();
    this.socketClosed();
  }

  private socketClosed(): void {
    if (this.ended) return;
    this.ended = true;
    for (const id of this.streams.ids()) this.drop(id, true);
    for (const fn of this.onEnd.splice(0)) fn();
  }
}

/** The payload of a PADDED frame without its pad length byte and padding. */
function unpad(payload: Buffer): Buffer {
  if (payload.length === 0) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'PADDED frame without a pad length');
  const pad = payload[0] as number;
  if (pad >= payload.length) throw new ConnectionError(H2Error.PROTOCOL_ERROR, 'padding longer than the frame');
  return payload.subarray(1, payload.length - pad);
}
