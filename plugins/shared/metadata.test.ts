import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollMetadata, type MetadataReader } from './metadata.js';

/** A model server whose metadata answer the test switches: a signature (`inputs`), or an error. */
let answer: { status: number; inputs?: string[] } = { status: 503 };
/** Requests per path: a test counts only its own (a closed poll's last refresh may still land). */
const requests = new Map<string, number>();
const requestsTo = (path: string) => requests.get(path) ?? 0;
let server: Server;
let endpoint = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.set(req.url ?? '', requestsTo(req.url ?? '') + 1);
    if (req.url !== '/meta/m/1' && req.url !== '/meta/shared/1') return res.writeHead(404).end();
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ inputs: answer.inputs }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const reader: MetadataReader<string[]> = {
  path: (model, version) => `/meta/${model}/${version}`,
  parse(json) {
    const inputs = (json as { inputs?: unknown }).inputs;
    if (!Array.isArray(inputs)) throw new Error('no inputs');
    return inputs as string[];
  },
};

/** Polls until `ok` holds (the refresh runs every 20 ms), or fails after a second. */
async function eventually(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 1_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 1 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pollMetadata', () => {
  it('fails open, refreshes, keeps the last signature read through an outage, and logs each change once', async () => {
    const lines: { level: number; msg: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString('utf8')) as { level: number; msg: string });
          done();
        },
      }),
    );
    const source = await pollMetadata([{ model: 'm', version: '1', endpoint }], { timeoutMs: 500, refreshMs: 20 }, log, reader);
    try {
      expect(source.get('m', '1')).toBeUndefined();
      await new Promise((r) => setTimeout(r, 100)); // several failed refreshes
      expect(lines.map((l) => l.msg)).toEqual(['model metadata unavailable; signature not checked']);

      answer = { status: 200, inputs: ['x'] };
      await eventually(() => source.get('m', '1') !== undefined);
      expect(source.get('m', '1')).toEqual(['x']);

      answer = { status: 200, inputs: ['x', 'y'] };
      await eventually(() => source.get('m', '1')?.length === 2);

      answer = { status: 200 }; // an answer that is not a signature counts as a failure
      await eventually(() => lines.length === 3);
      await new Promise((r) => setTimeout(r, 100));
      expect(source.get('m', '1')).toEqual(['x', 'y']);
      expect(lines.map((l) => [l.level, l.msg])).toEqual([
        [40, 'model metadata unavailable; signature not checked'],
        [30, 'model metadata available again'],
        [40, 'model metadata unavailable; checking against the last signature read'],
      ]);
    } finally {
      source.close();
    }
  });
});

describe('pollMetadata shared between instances', () => {
  it('fetches a version once for every instance that asks, logs its warning once, and stops when the last closes', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString('utf8')), done()) }));
    answer = { status: 503 };
    const before = requestsTo('/meta/shared/1');
    const sources = await Promise.all([1, 2, 3].map(() => pollMetadata([{ model: 'shared', version: '1', endpoint }], { timeoutMs: 500, refreshMs: 60_000 }, log, reader)));
    expect(requestsTo('/meta/shared/1') - before).toBe(1);
    expect(lines.filter((l) => l.includes('model metadata unavailable'))).toHaveLength(1);
    sources.forEach((s) => s.close());
    // A later instance starts a fresh poll (the old one stopped with its last user).
    const again = await pollMetadata([{ model: 'shared', version: '1', endpoint }], { timeoutMs: 500, refreshMs: 60_000 }, log, reader);
    expect(requestsTo('/meta/shared/1') - before).toBe(2);
    again.close();
  });
});
