import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { ExternalProcessorClient, ProcessingRequest, ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import { encodeFrame } from './frames.js';
import { decodeHealthCheckRequest, encodeHealthCheckResponse } from './health.js';
import { startHttp2Transport } from './http2.js';
import { EXT_PROC_SERVICE, PROCESS_PATH, type StreamHandler, type Transport } from './types.js';

// The http2 transport alone, driven by a real grpc-js client (and raw HTTP/2 for framing
// edge cases). Its handler answers every request body with a body response echoing the
// body's size, so a test sees which messages arrived whole and in order.

const MAX = 256 * 1024;
let transport: Transport;
let client: ExternalProcessorClient;
let address: string;
const aborted: string[] = [];

const bodyMessage = (bytes: number, tag = 'x'): ProcessingRequest => ({
  request: { $case: 'requestBody', value: { body: Buffer.alloc(bytes, tag), endOfStream: false } },
  attributes: {},
  observabilityMode: false,
});

function echoSize(msg: ProcessingRequest): ProcessingResponse {
  const size = msg.request?.$case === 'requestBody' ? msg.request.value.body.length : -1;
  return { response: { $case: 'requestBody', value: { response: { status: 0, headerMutation: { setHeaders: [{ header: { key: 'size', value: String(size), rawValue: Buffer.alloc(0) }, appendAction: 0, keepEmptyValue: false }], removeHeaders: [] }, clearRouteCache: false } } } } as ProcessingResponse;
}

const sizeOf = (r: ProcessingResponse): string | undefined =>
  r.response?.$case === 'requestBody' ? r.response.value.response?.headerMutation?.setHeaders[0]?.header?.value : undefined;

beforeAll(async () => {
  transport = await startHttp2Transport({
    listen: { host: '127.0.0.1', port: 0 },
    maxMessageBytes: MAX,
    log: createLogger('silent'),
    openStream: (sink): StreamHandler => {
      let first: string | undefined;
      return {
        message: (msg) => {
          if (msg.request?.$case === 'requestBody') first ??= Buffer.from(msg.request.value.body.subarray(0, 1)).toString();
          sink.send(echoSize(msg));
        },
        halfClose: () => sink.end(),
        abort: () => void aborted.push(first ?? '?'),
      };
    },
  });
  address = `127.0.0.1:${transport.port}`;
  client = new ExternalProcessorClient(address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  transport?.close();
});

/** One bidi call: writes `messages`, half-closes, returns the answers or the error status. */
async function exchange(messages: ProcessingRequest[]): Promise<{ answers: string[]; code: number; details?: string }> {
  const call = client.process();
  const answers: string[] = [];
  call.on('data', (r: ProcessingResponse) => answers.push(sizeOf(r) ?? '?'));
  const done = new Promise<{ code: number; details?: string }>((resolve) => {
    call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    call.on('error', () => {});
  });
  for (const m of messages) call.write(m);
  call.end();
  return { answers, ...(await done) };
}

/** Raw HTTP/2: the request body is written chunk by chunk exactly as given. */
async function rawCall(path: string, chunks: Buffer[]): Promise<{ status?: string; message?: string; frames: Buffer }> {
  const session = http2.connect(`http://${address}`);
  try {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const data: Buffer[] = [];
    req.on('data', (c: Buffer) => data.push(c));
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
      req.on('trailers', resolve);
      req.on('response', (h) => (h['grpc-status'] !== undefined ? resolve(h) : undefined));
    });
    for (const chunk of chunks) {
      req.write(chunk);
      await new Promise((r) => setImmediate(r));
    }
    req.end();
    const t = await trailers;
    await new Promise((r) => req.on('close', r));
    return { status: t['grpc-status'] as string, message: t['grpc-message'] as string | undefined, frames: Buffer.concat(data) };
  } finally {
    session.close();
  }
}

const frameOf = (m: ProcessingRequest) => encodeFrame(ProcessingRequest.encode(m).finish());

describe('http2 transport', () => {
  it('answers every message of a bidi stream in order, then OK', async () => {
    const r = await exchange([bodyMessage(1), bodyMessage(10), bodyMessage(100)]);
    expect(r).toMatchObject({ answers: ['1', '10', '100'], code: grpc.status.OK });
  });

  it('reassembles a message split across DATA frames (byte by byte) and splits several sent in one frame', async () => {
    const one = frameOf(bodyMessage(3));
    const split = [...one].map((b) => Buffer.from([b]));
    const r1 = await rawCall(PROCESS_PATH, split);
    expect(r1.status).toBe('0');
    const two = Buffer.concat([frameOf(bodyMessage(5)), frameOf(bodyMessage(7)), frameOf(bodyMessage(0))]);
    const r2 = await rawCall(PROCESS_PATH, [two.subarray(0, 8), two.subarray(8)]);
    expect(r2.status).toBe('0');
    // Three answers, each one frame: flag 0, length, message.
    const answers: string[] = [];
    for (let off = 0; off < r2.frames.length; ) {
      const len = r2.frames.readUInt32BE(off + 1);
      answers.push(sizeOf(ProcessingResponse.decode(r2.frames.subarray(off + 5, off + 5 + len))) ?? '?');
      off += 5 + len;
    }
    expect(answers).toEqual(['5', '7', '0']);
  });

  it('takes a message near the size limit and refuses a larger one with RESOURCE_EXHAUSTED', async () => {
    expect(await exchange([bodyMessage(MAX - 64)])).toMatchObject({ answers: [String(MAX - 64)], code: grpc.status.OK });
    const r = await exchange([bodyMessage(MAX + 1)]);
    expect(r.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(r.answers).toEqual([]);
  });

  it('fails a stream that ends inside a message, a compressed message or undecodable bytes, without answering', async () => {
    const frame = frameOf(bodyMessage(50));
    expect((await rawCall(PROCESS_PATH, [frame.subarray(0, 20)])).status).toBe(String(grpc.status.INTERNAL));
    const compressed = Buffer.from(frame);
    compressed[0] = 1;
    expect((await rawCall(PROCESS_PATH, [compressed])).status).toBe(String(grpc.status.UNIMPLEMENTED));
    const garbage = encodeFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    const bad = await rawCall(PROCESS_PATH, [garbage]);
    expect(bad.status).toBe(String(grpc.status.INTERNAL));
    expect(bad.frames.length).toBe(0);
  });

  it('reports a cancelled stream to its handler', async () => {
    const call = client.process();
    call.on('error', () => {});
    const answered = new Promise((r) => call.once('data', r));
    call.write(bodyMessage(4, 'c'));
    await answered;
    call.cancel();
    for (let i = 0; i < 100 && !aborted.includes('c'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(aborted).toContain('c');
  });

  it('closes a connection gracefully (GOAWAY NO_ERROR) under a storm of cancelled streams, before flood protection cuts it', async () => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => {});
    const goaway = new Promise<number>((resolve) => session.on('goaway', (code) => resolve(code)));
    let sent = 0;
    let open = true;
    void goaway.then(() => (open = false));
    while (open && sent < 1100) {
      await new Promise<void>((resolve) => {
        const req = session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc' });
        req.on('error', () => {});
        req.on('close', () => resolve());
        req.on('data', () => req.close(http2.constants.NGHTTP2_CANCEL));
        req.write(frameOf(bodyMessage(1)));
      });
      sent++;
    }
    const code = await goaway;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(sent).toBeLessThan(1000);
    session.destroy();
  });

  it('answers unknown methods with UNIMPLEMENTED', async () => {
    const r = await rawCall('/some.Service/Method', [encodeFrame(Buffer.alloc(0))]);
    expect(r.status).toBe(String(grpc.status.UNIMPLEMENTED));
  });

  it('serves grpc.health.v1 Check: SERVING, NOT_SERVING once told, NOT_FOUND for other services', async () => {
    const Health = grpc.makeGenericClientConstructor(
      {
        check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: (service: string) => Buffer.from(encodeHealthCheckResponseLike(service)),
          requestDeserialize: (b: Buffer) => decodeHealthCheckRequest(b),
          responseSerialize: (s: number) => Buffer.from(encodeHealthCheckResponse(s)),
          responseDeserialize: (b: Buffer) => (b.length === 0 ? 0 : (b[1] as number)),
        },
      },
      'grpc.health.v1.Health',
    );
    const health = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(service: string, cb: (err: grpc.ServiceError | null, status?: number) => void): void;
    };
    const check = (service: string) =>
      new Promise<number>((resolve) => health.check(service, (err, status) => resolve(err ? -err.code : (status as number))));
    expect(await check(EXT_PROC_SERVICE)).toBe(1);
    expect(await check('')).toBe(1);
    expect(await check('other.Service')).toBe(-grpc.status.NOT_FOUND);
    transport.setServing(false);
    expect(await check(EXT_PROC_SERVICE)).toBe(2);
    transport.setServing(true);
    health.close();
  });
});

/** HealthCheckRequest { string service = 1; } */
function encodeHealthCheckResponseLike(service: string): Uint8Array {
  const bytes = Buffer.from(service);
  return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
}
