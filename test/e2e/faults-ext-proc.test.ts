import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { postJson, useStack } from '../harness/e2e.js';
import { envoyStat, eventually, hostHealth, sleep } from '../harness/faults.js';
import { failures, isProtocolError, protocolOf, startLoad, summarize, type Sample } from '../harness/load.js';

// Two ext-proc replicas behind Envoy's ext_proc cluster, under a steady, bounded load that
// mixes the three protocols. `sentiment` is fail-open; `iris` and `tinylm` are fail-closed.
const MESSAGE_TIMEOUT_MS = 500;
const CONCURRENCY = 4;

const config: GatewayConfigInput = {
  envoy: {
    messageTimeoutMs: MESSAGE_TIMEOUT_MS,
    extProcHealthCheck: { intervalMs: 250, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 },
  },
  // Envoy notices NOT_SERVING within one interval + timeout (450 ms); keep serving a bit longer.
  extProc: { shutdownDelayMs: 800 },
  plugins: [{ type: 'model-router', name: 'router' }],
  models: {
    sentiment: { protocol: 'kserve-v2', failOpen: true, versions: { v1: { endpoints: ['127.0.0.1:1'] } } },
    iris: { protocol: 'tfserving', versions: { '1': { endpoints: ['127.0.0.1:1'] } } },
    tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1'], timeoutMs: 0, healthCheck: { path: '/health' } } } },
  },
};

const stack = useStack(config, { extProcReplicas: 2 });

type Protocol = 'kserve-v2' | 'tfserving' | 'openai';
const requests: { protocol: Protocol; send: () => Promise<Response> }[] = [
  {
    protocol: 'kserve-v2',
    send: () => postJson(`${stack().url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['good'] }] }),
  },
  { protocol: 'tfserving', send: () => postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] }) },
  // OpenAI names its model in the body: two ext_proc round trips before the model is called.
  {
    protocol: 'openai',
    send: () => postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 3 }),
  },
];
let turn = 0;
const mixedLoad = () =>
  startLoad({ concurrency: CONCURRENCY, pauseMs: 10, send: () => (requests[turn++ % requests.length] as (typeof requests)[number]).send() });

/** Both replicas healthy in Envoy's eyes. */
async function bothServing(): Promise<boolean> {
  const health = await hostHealth(stack().adminUrl, 'ext_proc');
  return health.size === 2 && [...health.values()].every((f) => f === 'healthy');
}

/** Streams a replica has handled (its own metrics), to show traffic really moved. */
async function streamsHandled(index: number): Promise<number> {
  const port = stack().extProcs[index]?.httpPort;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_ext_proc_phase_duration_seconds_count{phase="requestHeaders"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const isGatewayUnavailable = (s: Sample) => {
  if (s.status !== 503) return false;
  const body = JSON.parse(s.body) as { code?: string; error?: { code?: string } | string };
  return body.code === 'gateway_unavailable' || (typeof body.error === 'object' && body.error.code === 'gateway_unavailable');
};

afterEach(async () => {
  for (const [i, ext] of stack().extProcs.entries()) {
    const { proc } = ext.child;
    if (proc.exitCode !== null || proc.signalCode !== null) await stack().startExtProc(i);
    else proc.kill('SIGCONT'); // harmless unless a scenario froze it
  }
  await eventually('both ext-proc replicas are healthy in Envoy', bothServing, 20_000);
});

describe('ext-proc replicas failing under load', () => {
  it('kill -9 of one replica loses at most the requests in flight at that moment, as JSON 503s; its restart loses none', async () => {
    const run = mixedLoad();
    await sleep(500);
    const inFlightAtKill = run.inFlight();
    const killedAt = performance.now();
    await stack().extProcs[0]?.child.stop('SIGKILL');
    await sleep(1_000);
    const beforeRestart = run.samples.length;
    await stack().startExtProc(0);
    const restarted = await streamsHandled(0);
    await eventually('the restarted replica takes streams again', async () => (await streamsHandled(0)) > restarted);
    await sleep(300);
    const samples = await run.stop();

    const lost = failures(samples);
    expect(lost.length, summarize(samples)).toBeLessThanOrEqual(inFlightAtKill);
    // What was lost was in flight at the kill: started before it.
    for (const s of lost) expect(s.startedAt).toBeLessThan(killedAt);
    for (const s of lost) {
      expect(isGatewayUnavailable(s), s.body).toBe(true);
      expect(isProtocolError(s, protocolOf(s) as Protocol), s.body).toBe(true);
    }
    expect(failures(samples.slice(beforeRestart)), summarize(samples)).toEqual([]);
  });

  it('a rolling restart of both replicas, one at a time with graceful shutdown (SIGTERM), loses nothing', async () => {
    const run = mixedLoad();
    for (const i of [0, 1]) {
      await sleep(300);
      const ext = stack().extProcs[i];
      await ext?.child.stop('SIGTERM', 10_000);
      expect(ext?.child.proc.exitCode).toBe(0);
      await stack().startExtProc(i);
      await eventually(`replica ${i} is back in rotation`, bothServing);
    }
    await sleep(300);
    const samples = await run.stop();
    expect(samples.length).toBeGreaterThan(50);
    expect(failures(samples), summarize(samples)).toEqual([]);
  });
});

describe('the ext-proc down entirely', () => {
  it('fail-closed routes answer a JSON 503 at once; the fail-open model is served unprocessed, counted and logged', async () => {
    await Promise.all(stack().extProcs.map((e) => e.child.stop('SIGKILL')));
    const allowedBefore = await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.failure_mode_allowed');

    const t0 = performance.now();
    const tf = await requests[1]?.send();
    const tfMs = performance.now() - t0;
    expect(tf?.status).toBe(503);
    expect(tfMs).toBeLessThan(MESSAGE_TIMEOUT_MS);
    const tfBody = (await tf?.json()) as Record<string, unknown>;
    expect(tfBody).toEqual({
      error: "The gateway could not process this request (its request processor is unavailable); retry shortly",
      code: 'gateway_unavailable',
      request_id: tf?.headers.get('x-request-id'),
    });

    const openai = await requests[2]?.send();
    expect(openai?.status).toBe(503);
    expect(await openai?.json()).toMatchObject({ error: { type: 'server_error', code: 'gateway_unavailable', param: null } });

    const v2 = await postJson(`${stack().url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['good'] }] }, {
      'x-request-id': 'fail-open-probe',
    });
    expect(v2.status).toBe(200);
    expect(await v2.json()).toMatchObject({ model_name: 'sentiment', model_version: 'v1' });
    // Unprocessed: no plugin ran, so no gateway response headers.
    expect(v2.headers.get('x-gateway-model')).toBeNull();
    expect(await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.failure_mode_allowed')).toBe(allowedBefore + 1);
    await eventually('Envoy logs the fail-open request', async () => (await readFile(stack().envoy.logFile, 'utf8')).includes('"request_id":"fail-open-probe"'));
    const line = (await readFile(stack().envoy.logFile, 'utf8')).split('\n').find((l) => l.includes('"request_id":"fail-open-probe"')) as string;
    expect(JSON.parse(line)).toMatchObject({ event: 'ext_proc_fail_open', route: 'fail_open:sentiment@v1', cluster: 'sentiment@v1', status: 200 });

    // A client can't use the outage to pick a cluster: a forged routing header reaches no other model.
    const forged = await postJson(`${stack().url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['good'] }] }, {
      'x-gateway-cluster': 'iris@1',
    });
    await forged.arrayBuffer();
    expect(forged.headers.get('x-demo-instance') ?? '').not.toMatch(/^iris/);
    expect([200, 503]).toContain(forged.status);
  });

  it('a hung ext-proc: fail-closed routes answer a JSON 503 after the message timeout, never a hang; fail-open is served', async () => {
    for (const e of stack().extProcs) e.child.proc.kill('SIGSTOP');
    const t0 = performance.now();
    const [tf, v2] = await Promise.all([
      requests[1]?.send().then(async (r) => ({ status: r.status, body: await r.text(), ms: performance.now() - t0 })),
      requests[0]?.send().then(async (r) => ({ status: r.status, body: await r.text(), ms: performance.now() - t0 })),
    ]);
    expect(tf?.status).toBe(503);
    expect(JSON.parse(tf?.body ?? '')).toMatchObject({ code: 'gateway_unavailable' });
    expect(tf?.ms).toBeGreaterThanOrEqual(MESSAGE_TIMEOUT_MS * 0.9);
    expect(tf?.ms).toBeLessThan(MESSAGE_TIMEOUT_MS + 1_000);
    expect(v2?.status).toBe(200);
  });
});
