// One target in one round: warm up, then saturation (closed loop), then open loop at 200 req/s
// and at half of this round's saturation (each after a settling run at that rate), reading each gateway process's CPU from /proc and each
// hop's connections from the Envoys' admin counters around every phase.
import { join } from 'node:path';
import { runSaturation, type LoadTarget, type SaturationResult } from './closed-loop.js';
import { clusterDelta, downstreamDelta, readCounters, watchCounter, type HopCounts } from './envoy-admin.js';
import { gcDelta, loopDelay, scrape, type GcWindow, type LoopDelay } from './ext-proc-metrics.js';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { treeCpuMs, treePeakRss, treeRunQueueWaitMs } from './proc-cpu.js';
import type { Running } from './targets.js';

export interface Tools {
  h2load: string;
  vegeta: string;
}

export interface Settings {
  durationS: number;
  warmupS: number;
  /** Closed-loop connections for saturation. */
  connections: number;
  /** The fixed open-loop rate every target gets (req/s). */
  fixedRate: number;
  /** Open loop: most connections vegeta may open. */
  openLoopConnections: number;
  workDir: string;
}

/** What every phase records: per-request CPU of each gateway process, and each hop's connections. */
export interface PhaseCost {
  /** Requests the gateway's Envoy received in the phase (its own counter). */
  requests: number;
  envoyCpuUs: number;
  /** Our ext-proc or the floor's; 0 for plain Envoy. */
  extProcCpuUs: number;
  /** Time the process's threads waited for a CPU (run queue), per request: the machine's share of the latency. */
  envoyRunQueueUs: number;
  extProcRunQueueUs: number;
  /** client → gateway Envoy */
  client: HopCounts;
  /** gateway Envoy → upstream (counted by the upstream Envoy) */
  upstream: HopCounts;
  /** gateway Envoy → ext_proc cluster (connections and streams) */
  extProc?: HopCounts;
  /** Our ext-proc's GC and event-loop delay in the phase. */
  gc?: GcWindow;
  loop?: LoopDelay;
}

/** An open-loop phase, with when Envoy opened ext_proc connections during it (epoch ms, ±50 ms). */
export type OpenLoopPhase = OpenLoopResult & { cost: PhaseCost; extProcConnectsAt: number[] };

export interface RoundResult {
  saturation: SaturationResult & { cost: PhaseCost };
  fixed: OpenLoopPhase;
  half: OpenLoopPhase;
  /** Peak RSS of the ext-proc process(es), bytes. */
  extProcPeakRss: number[];
}

/** Runs `work` and measures what it cost each gateway process and hop. */
async function costOf<T>(r: Running, upstreamAdmin: number, work: () => Promise<T>): Promise<{ result: T; cost: PhaseCost }> {
  const counters = async () => ({
    gateway: await readCounters(r.envoyAdmin),
    upstream: await readCounters(upstreamAdmin),
    metrics: r.metricsPort ? await scrape(r.metricsPort) : '',
  });
  const cpu = async () => ({
    envoyMs: await treeCpuMs(r.envoy.proc.pid),
    extProcMs: await treeCpuMs(r.extProc?.proc.pid),
    envoyWaitMs: await treeRunQueueWaitMs(r.envoy.proc.pid),
    extProcWaitMs: await treeRunQueueWaitMs(r.extProc?.proc.pid),
  });
  // Admin and /metrics reads sit outside the CPU window: their own cost is not the requests'.
  const before = { ...(await counters()), ...(await cpu()) };
  const result = await work();
  const afterCpu = await cpu();
  const after = { ...(await counters()), ...afterCpu };
  const client = downstreamDelta(before.gateway, after.gateway);
  const perRequestUs = (ms: number) => (client.requests > 0 ? (ms * 1000) / client.requests : NaN);
  return {
    result,
    cost: {
      requests: client.requests,
      envoyCpuUs: perRequestUs(after.envoyMs - before.envoyMs),
      extProcCpuUs: r.extProc ? perRequestUs(after.extProcMs - before.extProcMs) : 0,
      envoyRunQueueUs: perRequestUs(after.envoyWaitMs - before.envoyWaitMs),
      extProcRunQueueUs: r.extProc ? perRequestUs(after.extProcWaitMs - before.extProcWaitMs) : 0,
      client,
      upstream: downstreamDelta(before.upstream, after.upstream),
      extProc: r.extProcCluster ? clusterDelta(before.gateway, after.gateway, r.extProcCluster) : undefined,
      gc: r.metricsPort ? gcDelta(before.metrics, after.metrics) : undefined,
      loop: r.metricsPort ? loopDelay(after.metrics) : undefined,
    },
  };
}

export async function measureRound(r: Running, load: Omit<LoadTarget, 'url'>, upstreamAdmin: number, tools: Tools, s: Settings, tag: string): Promise<RoundResult> {
  const target: LoadTarget = { ...load, url: r.url };
  // Warm-up: JIT, connection pools, Envoy's first-use allocations; not measured.
  await runSaturation(tools.h2load, target, s.warmupS, s.connections);
  const sat = await costOf(r, upstreamAdmin, () => runSaturation(tools.h2load, target, s.durationS, s.connections));
  const openLoop = async (rate: number, name: string) => {
    // Settle at the new rate first: the phase before ends in a burst (saturation) whose
    // aftermath (a major GC, a backlog, connections closing) is not this rate's latency.
    await runOpenLoop(tools.vegeta, target, rate, s.warmupS, s.openLoopConnections, join(s.workDir, `vegeta-${tag}-${name}-settle.bin`));
    // When Envoy opens ext_proc connections (its rotation), to lay against the slow requests.
    const watch = r.extProcCluster ? watchCounter(r.envoyAdmin, `cluster.${r.extProcCluster}.upstream_cx_total`, 50) : undefined;
    const measured = await costOf(r, upstreamAdmin, () => runOpenLoop(tools.vegeta, target, rate, s.durationS, s.openLoopConnections, join(s.workDir, `vegeta-${tag}-${name}.bin`)));
    const extProcConnectsAt = (await watch?.stop()) ?? [];
    return { ...measured, result: { ...measured.result, extProcConnectsAt } };
  };
  const fixed = await openLoop(s.fixedRate, 'fixed');
  const halfRate = Math.max(1, Math.round(sat.result.rps / 2 / 10) * 10);
  const half = await openLoop(halfRate, 'half');
  return {
    saturation: { ...sat.result, cost: sat.cost },
    fixed: { ...fixed.result, cost: fixed.cost },
    half: { ...half.result, cost: half.cost },
    extProcPeakRss: await treePeakRss(r.extProc?.proc.pid),
  };
}
