import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import { ProcessingRequest, ProcessingResponse } from '../../gen/envoy/service/ext_proc/v3/external_processor.js';
import { encodeFrame, FrameDecoder } from '../frames.js';
import { GrpcStatus } from '../grpc-status.js';
import { PROCESS_PATH, type StreamHandler, type Transport } from '../types.js';
import { CLIENT_PREFACE, Flag, FrameType, frame, settingsFrame } from './frame.js';
import { encodeHeaders } from './hpack.js';
import { startH2Transport } from './server.js';

const log = createLogger('silent');
let transport: Transport | undefined;
afterEach(() => transport?.close());

interface Events {
  messages: ProcessingRequest[];
  halfClosed: number;
  aborted: number;
}

/** A transport whose streams answer every message with `answer` and end on half-close. */
async function start(answer: (msg: ProcessingRequest) => ProcessingResponse, events: Events) {
  transport = await startH2Transport({
    listen: { host: '127.0.0.1', port: 0 },
    maxMessageBytes: 4 * 1024 * 1024,
    log,
    openStream(sink): StreamHandler {
      return {
        message(msg) {
          events.messages.push(msg);
          sink.send(answer(msg));
        },
        halfClose() {
          events.halfClosed++;
          sink.end();
        },
        abort: () => events.aborted++,
      };
    },
  });
  return transport.port;
}

const events = (): Events => ({ messages: [], halfClosed: 0, aborted: 0 });
const bodyMessage = (bytes: number) => ProcessingRequest.encode(ProcessingRequest.fromPartial({ request: { $case: 'requestBody', value: { body: Buffer.alloc(bytes, 7), endOfStream: true } } })).finish();
const echoBody = (msg: ProcessingRequest): ProcessingResponse => {
  const body = msg.request?.$case === 'requestBody' ? msg.request.value.body : Buffer.alloc(0);
  return ProcessingResponse.fromPartial({ response: { $case: 'requestBody', value: { response: { bodyMutation: { mutation: { $case: 'body', value: body } } } } } });
};

/** One call from node:http2 (nghttp2's HPACK encoder and flow control): the messages back and the trailers. */
async function call(port: number, messages: Uint8Array[], opts: { end?: boolean } = {}) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
  const decoder = new FrameDecoder(64 * 1024 * 1024, { tooLarge: 8, compressed: 12 });
  const received: ProcessingResponse[] = [];
  stream.on('data', (chunk: Buffer) => decoder.push(chunk, (m) => received.push(ProcessingResponse.decode(m))));
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('trailers', resolve));
  const closed = new Promise<void>((resolve) => stream.on('close', resolve));
  for (const m of messages) stream.write(encodeFrame(m));
  if (opts.end !== false) stream.end();
  return { session, stream, received, trailers, closed };
}

describe('h2 transport (our HTTP/2 framing)', () => {
  it('carries messages larger than the initial flow-control windows both ways, in order', async () => {
    const ev = events();
    const port = await start(echoBody, ev);
    const sizes = [3 * 1024 * 1024, 10, 200 * 1024];
    const c = await call(port, sizes.map(bodyMessage));
    expect((await c.trailers)['grpc-status']).toBe('0');
    await c.closed;
    c.session.close();
    expect(c.received.map((r) => (r.response?.$case === 'requestBody' ? r.response.value.response?.bodyMutation?.mutation?.$case === 'body' && r.response.value.response.bodyMutation.mutation.value.length : -1))).toEqual(sizes);
    expect(ev.halfClosed).toBe(1);
  });

  it('many concurrent streams on one connection each get their own answers', async () => {
    const ev = events();
    const port = await start(echoBody, ev);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const stream = session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc' });
        const decoder = new FrameDecoder(1 << 20, { tooLarge: 8, compressed: 12 });
        let size = -1;
        stream.on('data', (chunk: Buffer) => decoder.push(chunk, (m) => {
          const r = ProcessingResponse.decode(m);
          size = r.response?.$case === 'requestBody' && r.response.value.response?.bodyMutation?.mutation?.$case === 'body' ? r.response.value.response.bodyMutation.mutation.value.length : -1;
        }));
        stream.end(encodeFrame(bodyMessage(100 + i)));
        return new Promise<number>((resolve) => stream.on('close', () => resolve(size)));
      }),
    );
    session.close();
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });

  it('a stream reset by the peer (RST_STREAM, no END_STREAM) is reported once as aborted, never half-closed', async () => {
    const ev = events();
    const port = await start(echoBody, ev);
    const socket = net.connect(port, '127.0.0.1');
    const headers = encodeHeaders([[':method', 'POST'], [':scheme', 'http'], [':path', PROCESS_PATH], [':authority', 'x'], ['content-type', 'application/grpc']]);
    socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.HEADERS, Flag.END_HEADERS, 1, headers), frame(FrameType.DATA, 0, 1, encodeFrame(bodyMessage(5)))]));
    await expect.poll(() => ev.messages.length).toBe(1);
    socket.write(frame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 8])));
    await expect.poll(() => ev.aborted).toBe(1);
    socket.destroy();
    expect(ev.halfClosed).toBe(0);
  });

  it('streams open on a connection that is lost are each reported as aborted', async () => {
    const ev = events();
    const port = await start(echoBody, ev);
    const a = await call(port, [bodyMessage(5)], { end: false });
    const b = a.session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc' });
    b.write(encodeFrame(bodyMessage(6)));
    await expect.poll(() => ev.messages.length).toBe(2);
    a.session.destroy();
    await expect.poll(() => ev.aborted).toBe(2);
    expect(ev.halfClosed).toBe(0);
  });

  it('refuses an unknown method and a non-gRPC request with a trailers-only status', async () => {
    const port = await start(echoBody, events());
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const status = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<string | undefined>((resolve) => {
        const s = session.request(headers);
        s.on('response', (h) => resolve(h['grpc-status'] as string | undefined));
        s.end();
      });
    expect(await status({ ':method': 'POST', ':path': '/x.Y/Z', 'content-type': 'application/grpc' })).toBe(String(GrpcStatus.UNIMPLEMENTED));
    expect(await status({ ':method': 'GET', ':path': PROCESS_PATH })).toBe(String(GrpcStatus.INTERNAL));
    session.close();
  });

  it.each([
    ['bytes that are not an HTTP/2 preface', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a frame over the 16 KiB frame size', Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.DATA, 0, 1, Buffer.alloc(20_000))])],
    ['a header block HPACK cannot decode', Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]))])],
    ['DATA on a stream never opened', Buffer.concat([CLIENT_PREFACE, settingsFrame([]), frame(FrameType.DATA, 0, 7, Buffer.alloc(3))])],
  ])('closes the connection on %s, and keeps serving others', async (_what, bytes) => {
    const ev = events();
    const port = await start(echoBody, ev);
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (b: Buffer) => received.push(b));
    socket.write(bytes);
    await new Promise((resolve) => socket.on('close', resolve));
    const all = Buffer.concat(received);
    // The last frame before the close is a GOAWAY (type 7), unless not even a preface came.
    if (bytes.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) expect(lastFrameType(all)).toBe(FrameType.GOAWAY);
    const c = await call(port, [bodyMessage(1)]);
    expect((await c.trailers)['grpc-status']).toBe('0');
    c.session.close();
  });

  it('drain sends GOAWAY and resolves once the stream in flight ended', async () => {
    const ev = events();
    const port = await start(echoBody, ev);
    const c = await call(port, [bodyMessage(5)], { end: false });
    await expect.poll(() => c.received.length).toBe(1);
    let drained = false;
    const draining = transport?.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(drained).toBe(false);
    c.stream.end();
    expect((await c.trailers)['grpc-status']).toBe('0');
    await draining;
    expect(drained).toBe(true);
  });
});

function lastFrameType(bytes: Buffer): number | undefined {
  let at = 0;
  let type: number | undefined;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    type = bytes[at + 3];
    at += 9 + length;
  }
  return type;
}
