// `npm run bench:latency -- --targets floor,full,full-unpipelined`: only the interleaved open-loop
// p50 of `npm run bench` (bench/interleaved.ts), for a quick before/after between targets. The
// idle targets cost no CPU worth counting, but CPU per request needs a target alone (npm run bench).
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveEnvoyBin } from '../scripts/envoy-bin.js';
import { freePort } from '../scripts/stack/processes.js';
import { upstreamEnvoy } from './configs.js';
import { runInterleaved } from './interleaved.js';
import { bundleExtProc, startEnvoy, type Proc } from './procs.js';
import { interleavedTable } from './report.js';
import { isOurs, startTarget, TARGET_KINDS, targetList, usesFloor, type Running, type TargetKind } from './targets.js';
import { buildFloor, ensureVegeta } from './tools.js';

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: 'floor,full,full-unpipelined' },
    rate: { type: 'string', default: '200' },
    slices: { type: 'string', default: '20' },
    'slice-seconds': { type: 'string', default: '3' },
    out: { type: 'string', default: '.tmp/bench' },
  },
});
const kinds = String(opt.targets).split(',') as TargetKind[];
const unknown = kinds.filter((k) => !TARGET_KINDS.includes(k));
if (unknown.length) throw new Error(`unknown target(s) ${unknown.join(', ')}`);
const rate = Number(opt.rate);
const slices = Number(opt.slices);
const sliceS = Number(opt['slice-seconds']);
const workDir = String(opt.out);

async function main(): Promise<void> {
  await mkdir(join(workDir, 'bin'), { recursive: true });
  const vegeta = ensureVegeta(join(workDir, 'bin'));
  const floorBin = kinds.some(usesFloor) ? buildFloor(join(workDir, 'bin')) : undefined;
  const envoyBin = resolveEnvoyBin();
  const upstreamPort = await freePort();
  const ctx = {
    envoyBin,
    workDir,
    upstreamPort,
    envoyConcurrency: 1,
    bundle: kinds.some(isOurs) ? await bundleExtProc(workDir) : undefined,
    floorBin,
    extProcEnv: {},
    nodeArgs: [],
  };
  const upstreamAdmin = await freePort();
  const procs: Proc[] = [await startEnvoy('upstream-ab', envoyBin, upstreamEnvoy(upstreamPort, upstreamAdmin), upstreamAdmin, workDir, 1)];
  const running: Running[] = [];
  const targets = targetList(kinds, []);
  try {
    for (const t of targets) running.push(await startTarget(t, ctx, 0));
    const before = loadavg();
    const r = await runInterleaved(vegeta, targets, running, { rate, slices, sliceS, maxConnections: 128, workDir }, (n, latest) =>
      process.stdout.write(`slice ${n + 1}/${slices}: ${targets.map((t) => `${t.key} ${(latest[t.key] ?? NaN).toFixed(2)}`).join(', ')} ms\n`),
    );
    const lines = [
      `open-loop p50 at ${rate} req/s, ${slices} interleaved slices of ${sliceS} s per target (all targets running at once); load average before ${before.map((l) => l.toFixed(2)).join(' / ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`,
      '',
      interleavedTable(targets, r),
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
    await writeFile(join(workDir, `latency-ab-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), `${lines.join('\n')}\n`);
  } finally {
    await Promise.allSettled(running.map((r) => r.stop()));
    await Promise.allSettled(procs.map((p) => p.stop()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:latency failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
