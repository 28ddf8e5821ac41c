// `npm run bench:latency -- --targets floor,full,full-unpipelined`: open-loop latency at a fixed
// rate, finely interleaved. Every target runs at once (its own Envoy and ext-proc, one shared
// upstream), and short slices of load go to each in turn, again and again: a slow moment of the
// shared machine lands on neighbouring slices of every target alike, where `npm run bench`
// (which restarts each target per round and measures it for a whole phase) lets it land on one.
// Only latency: the idle targets cost no CPU worth counting, but CPU per request needs a target
// alone (npm run bench).
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveEnvoyBin } from '../scripts/envoy-bin.js';
import { freePort } from '../scripts/stack/processes.js';
import { upstreamEnvoy } from './configs.js';
import { runOpenLoop } from './open-loop.js';
import { bundleExtProc, startEnvoy, type Proc } from './procs.js';
import { percentile } from './stats.js';
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
  const p50s = new Map<string, number[]>(targets.map((t) => [t.key, []]));
  const problems = new Map<string, number>(targets.map((t) => [t.key, 0]));
  try {
    for (const t of targets) running.push(await startTarget(t, ctx, 0));
    const bodies = await Promise.all(
      targets.map(async (t) => {
        const file = join(workDir, `body-ab-${t.key}.json`);
        await writeFile(file, t.body);
        return file;
      }),
    );
    const load = (i: number) => ({ url: (running[i] as Running).url, bodyFile: bodies[i] as string, headers: (targets[i] as (typeof targets)[number]).headers });
    // Warm every target up, then the slices: target order rotates so none always follows another.
    for (const [i, t] of targets.entries()) await runOpenLoop(vegeta, load(i), rate, 3, 128, join(workDir, `vegeta-ab-${t.key}-warm.bin`));
    const before = loadavg();
    for (let s = 0; s < slices; s++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (s + k) % targets.length;
        const t = targets[i] as (typeof targets)[number];
        const r = await runOpenLoop(vegeta, load(i), rate, sliceS, 128, join(workDir, `vegeta-ab-${t.key}.bin`));
        p50s.get(t.key)?.push(r.p50Ms);
        problems.set(t.key, (problems.get(t.key) ?? 0) + r.failed + r.non2xx);
      }
      process.stdout.write(`slice ${s + 1}/${slices}: ${targets.map((t) => `${t.key} ${(p50s.get(t.key)?.at(-1) ?? 0).toFixed(2)}`).join(', ')} ms\n`);
    }
    const base = targets[0] as (typeof targets)[number];
    const lines = [
      `open-loop p50 at ${rate} req/s, ${slices} interleaved slices of ${sliceS} s per target (all targets running at once); load average before ${before.map((l) => l.toFixed(2)).join(' / ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`,
      '',
      `| target | p50, median of the slices (lowest–highest) (ms) | p50 added over ${base.title}, median of the per-slice differences (interquartile) (ms) | failed + non-2xx |`,
      '|---|---|---|---|',
      ...targets.map((t) => {
        const mine = p50s.get(t.key) ?? [];
        const sorted = [...mine].sort((a, b) => a - b);
        const diffs = mine.map((v, s) => v - (p50s.get(base.key)?.[s] ?? 0)).sort((a, b) => a - b);
        const q = (xs: number[], p: number) => percentile(xs, p).toFixed(2);
        return `| ${t.title} | ${q(sorted, 0.5)} (${q(sorted, 0)}–${q(sorted, 1)}) | ${q(diffs, 0.5)} (${q(diffs, 0.25)}–${q(diffs, 0.75)}) | ${problems.get(t.key)} |`;
      }),
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
