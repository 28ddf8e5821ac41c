import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { postJson } from '../harness/e2e.js';
import { eventually, hostHealth, sleep } from '../harness/faults.js';
import { pidsWith, startLauncher, type Launcher } from '../harness/launcher.js';
import { failures, isProtocolError, startLoad, summarize, type Sample } from '../harness/load.js';

// The real launcher (`npm start`) supervising its children: whatever dies is started again,
// clients meanwhile get JSON errors from Envoy (never a refused connection while Envoy lives),
// and restarts are counted on the launcher's /status and /metrics.
const config: GatewayConfigInput = {
  envoy: { extProcHealthCheck: { intervalMs: 250, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 } },
  extProc: { shutdownDelayMs: 0 },
  plugins: [{ type: 'model-router', name: 'router' }],
  models: { sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] } } } },
};

const infer = (url: string) => postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['good'] }] });
const load = (l: Launcher) => startLoad({ concurrency: 4, pauseMs: 20, send: () => infer(l.url) });

const isGatewayUnavailable = (s: Sample) => s.status === 503 && isProtocolError(s, 'kserve-v2') && (JSON.parse(s.body) as { code?: string }).code === 'gateway_unavailable';

async function servedAgain(l: Launcher): Promise<boolean> {
  const res = await infer(l.url);
  await res.arrayBuffer();
  return res.status === 200;
}

/** Kills `name` and, as soon as the launcher has spawned its replacement, kills that too (mid-start). */
async function killTwice(l: Launcher, name: string, cmdlineMark: string[], atFirstKill: () => void = () => {}): Promise<void> {
  const before = await l.childStatus(name);
  atFirstKill();
  process.kill(before.pid as number, 'SIGKILL');
  let second: number | undefined;
  await eventually(`the launcher spawns a new ${name}`, async () => {
    second = (await pidsWith(...cmdlineMark)).find((p) => p !== before.pid);
    return second !== undefined;
  }, 20_000, 20);
  process.kill(second as number, 'SIGKILL');
}

describe('the launcher with one ext-proc', () => {
  let l: Launcher;
  beforeAll(async () => {
    l = await startLauncher(config, { maxStartFailures: 3 });
  }, 180_000);
  afterAll(async () => {
    await l?.stop();
  });

  it('restarts the only ext-proc after kill -9; meanwhile clients get fast JSON 503s, never a refused connection', async () => {
    const before = await l.childStatus('ext-proc-0');
    const run = load(l);
    await sleep(400);
    const killedAt = performance.now();
    process.kill(before.pid as number, 'SIGKILL');
    await eventually('the launcher restarted ext-proc-0', async () => (await l.childStatus('ext-proc-0')).restarts === 1 && (await l.childStatus('ext-proc-0')).state === 'running', 60_000);
    await eventually('the gateway serves again', () => servedAgain(l), 30_000);
    const recoveredAt = performance.now();
    await sleep(300);
    const samples = await run.stop();

    const lost = failures(samples);
    console.log(`one ext-proc killed: ${summarize(samples)}; recovered ${Math.round(recoveredAt - killedAt)} ms after the kill`);
    for (const s of lost) expect(isGatewayUnavailable(s), `${s.status} ${s.error ?? ''} ${s.body}`).toBe(true);
    // After recovery, nothing fails.
    expect(failures(samples.filter((s) => s.startedAt > recoveredAt))).toEqual([]);
    const status = await l.childStatus('ext-proc-0');
    expect(status.pid).not.toBe(before.pid);
    expect(status.lastExit?.how).toBe('signal SIGKILL');
    expect(await l.output()).toMatch(/\[launcher\] ext-proc-0 exited \(signal SIGKILL\); restarting in \d+ ms/);
    const metrics = await (await fetch(`${l.statusUrl}/metrics`)).text();
    expect(metrics).toContain('gateway_launcher_child_restarts_total{child="ext-proc-0"} 1');
    expect(metrics).toContain('gateway_launcher_child_up{child="ext-proc-0"} 1');
  }, 120_000);

  it('restarts a model server and Envoy itself', async () => {
    const demo = await l.childStatus('sentiment@v1');
    process.kill(demo.pid as number, 'SIGKILL');
    await eventually('the model server is back', async () => (await l.childStatus('sentiment@v1')).restarts === 1, 30_000);
    await eventually('the gateway serves from it again', () => servedAgain(l), 20_000);

    const envoy = await l.childStatus('envoy');
    process.kill(envoy.pid as number, 'SIGKILL');
    await eventually('Envoy is back', async () => (await l.childStatus('envoy')).restarts === 1, 30_000);
    await eventually('the gateway serves through the new Envoy', () => servedAgain(l), 20_000);
    expect(l.child.running()).toBe(true);
  }, 120_000);

  it('stops the stack (exit 1, saying why) when a child fails to start N times in a row', async () => {
    // The model server's port taken by someone else: each restart exits at once.
    const demo = await l.childStatus('sentiment@v1');
    const text = await (await fetch(`${l.adminUrl}/clusters`)).text();
    const port = Number(/sentiment@v1::127\.0\.0\.1:(\d+)::/.exec(text)?.[1]);
    process.kill(demo.pid as number, 'SIGKILL');
    const squatter = createServer();
    await eventually('the port is ours', () => new Promise((res) => squatter.once('error', () => res(false)).listen(port, '127.0.0.1', () => res(true))), 10_000, 20);
    try {
      await l.child.exited;
      expect(l.child.exitDescription()).toBe('code 1');
      expect(await l.output()).toMatch(/\[launcher\] giving up on sentiment@v1/);
    } finally {
      squatter.close();
    }
  });
});

describe('the launcher with two ext-proc replicas', () => {
  let l: Launcher;
  beforeAll(async () => {
    l = await startLauncher(config, { replicas: 2 });
  }, 180_000);
  afterAll(async () => {
    await l?.stop();
  });

  const bothServing = async () => {
    const health = await hostHealth(l.adminUrl, 'ext_proc');
    return health.size === 2 && [...health.values()].every((f) => f === 'healthy');
  };

  it('each replica killed twice in quick succession (the second time mid-start) comes back; only requests in flight fail, as JSON 503s', async () => {
    const run = load(l);
    await sleep(400);
    let inFlightAtKills = 0;
    for (const i of [0, 1]) {
      const s = await l.childStatus(`ext-proc-${i}`);
      // Counted at the kill itself, not before the status call that precedes it: requests
      // start and finish meanwhile. (The second kill, mid-start, has nothing in flight.)
      await killTwice(l, `ext-proc-${i}`, ['--port', String(l.extProcPort + i)], () => (inFlightAtKills += run.inFlight()));
      await eventually(`replica ${i} restarted and running`, async () => {
        const now = await l.childStatus(`ext-proc-${i}`);
        return now.state === 'running' && now.restarts === s.restarts + 1 && now.failedStarts === s.failedStarts + 1;
      }, 30_000);
      await eventually(`replica ${i} back in Envoy's rotation`, bothServing, 20_000);
    }
    await sleep(300);
    const samples = await run.stop();
    const lost = failures(samples);
    console.log(`two replicas, each killed twice: ${summarize(samples)}; in flight at the kills: ${inFlightAtKills}`);
    expect(samples.length).toBeGreaterThan(50);
    expect(lost.length, summarize(samples)).toBeLessThanOrEqual(inFlightAtKills);
    for (const s of lost) expect(isGatewayUnavailable(s), `${s.status} ${s.error ?? ''} ${s.body}`).toBe(true);
    expect(l.child.running()).toBe(true);
    expect(await l.output()).toMatch(/ext-proc-1 failed to start \(1 in a row\): ext-proc-1 exited \(signal SIGKILL\) before it was ready/);
  }, 180_000);
});
