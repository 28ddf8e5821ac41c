// `npm run bench`: what the gateway costs against plain Envoy and against the floor of the
// architecture (plain Envoy + a no-op Go ext_proc), on loopback, in interleaved rounds.
//   npm run bench [-- --targets plain,floor,headers,body,full --rounds 3 --duration 10 --slices 12
//                     --transport grpc-js,http2 --ext-proc-env K=V --tsx --smoke]
// See docs/performance.md for the method and what each figure means.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXT_PROC_NODE_FLAGS } from '../ext-proc/node-flags.js';
import { envoyVersion, resolveEnvoyBin, REPO_ROOT } from '../scripts/envoy-bin.js';
import { freePort } from '../scripts/stack/processes.js';
import { upstreamEnvoy } from './configs.js';
import { measureRound, type RoundResult, type Settings, type Tools } from './measure.js';
import { runInterleaved, type InterleavedResult } from './interleaved.js';
import { bundleExtProc, startEnvoy, type Proc } from './procs.js';
import { num, renderReport, type TargetResult } from './report.js';
import { DEFAULT_TARGETS, isOurs, startTarget, TARGET_KINDS, targetList, usesFloor, type Running, type RunContext, type Target, type TargetKind } from './targets.js';
import { buildFloor, ensureH2load, ensureVegeta, vegetaVersion } from './tools.js';

const { values: opt } = parseArgs({
  options: {
    targets: { type: 'string', default: DEFAULT_TARGETS.join(',') },
    /** Default 3 (1 with --smoke). */
    rounds: { type: 'string' },
    /** Seconds of each measured phase (saturation, fixed rate, half saturation); default 10 (2 with --smoke). */
    duration: { type: 'string' },
    /** Seconds of closed-loop warm-up before each target's measurements; default 2 (1 with --smoke). */
    warmup: { type: 'string' },
    connections: { type: 'string', default: '16' },
    /** Open loop: most connections vegeta may open (requests beyond wait, and the wait counts). */
    'open-loop-connections': { type: 'string', default: '128' },
    /** The fixed open-loop rate every target gets, req/s. */
    rate: { type: 'string', default: '200' },
    /** Run every "ours" target once per ext-proc transport (GATEWAY_EXT_PROC_TRANSPORT). */
    transport: { type: 'string', default: '' },
    /** K=V for the ext-proc's environment; repeatable. */
    'ext-proc-env': { type: 'string', multiple: true, default: [] },
    /** Extra node flags for the ext-proc, e.g. "--max-semi-space-size=8". */
    'node-args': { type: 'string', default: '' },
    /** Run the ext-proc through tsx instead of from the esbuild bundle. */
    tsx: { type: 'boolean', default: false },
    /** Bench-only: streams per ext_proc connection (render.ts's value by default; 0 = no limit). */
    'streams-per-connection': { type: 'string' },
    'envoy-concurrency': { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
    /**
     * After the rounds, every target up at once and this many rotations of one open-loop slice
     * each at the fixed rate: the p50 column and target (default 12; 1 with --smoke; 0: none).
     */
    slices: { type: 'string' },
    'slice-seconds': { type: 'string', default: '3' },
    /** A quick check that everything runs: one round of short phases. */
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: '.tmp/bench' },
  },
});

const log = (s: string) => process.stdout.write(`${s}\n`);
const workDir = resolve(REPO_ROOT, opt.out as string);
const settings: Settings = {
  durationS: Number(opt.duration ?? (opt.smoke ? 2 : 10)),
  warmupS: Number(opt.warmup ?? (opt.smoke ? 1 : 2)),
  connections: Number(opt.connections),
  fixedRate: Number(opt.rate),
  openLoopConnections: Number(opt['open-loop-connections']),
  workDir,
};
const rounds = Number(opt.rounds ?? (opt.smoke ? 1 : 3));
const slices = Number(opt.slices ?? (opt.smoke ? 1 : 12));
const sliceS = Number(opt['slice-seconds']);
const kinds = (opt.targets as string).split(',').filter(Boolean) as TargetKind[];
const unknown = kinds.filter((k) => !TARGET_KINDS.includes(k));
if (unknown.length) throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${TARGET_KINDS.join(', ')}`);
const transports = (opt.transport as string).split(',').filter(Boolean);

function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const i = p.indexOf('=');
      if (i < 1) throw new Error(`--ext-proc-env wants K=V, got "${p}"`);
      return [p.slice(0, i), p.slice(i + 1)];
    }),
  );
}

const running: Proc[] = [];
process.on('SIGINT', () => void Promise.allSettled(running.map((p) => p.stop())).then(() => process.exit(130)));

function version(bin: string, args: string[]): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

function problemsNote(m: RoundResult): string {
  const all = { ...m.fixed.problems };
  for (const [k, v] of Object.entries(m.half.problems)) all[k] = (all[k] ?? 0) + v;
  const sat = m.saturation.failed + m.saturation.non2xx;
  const parts = Object.entries(all).map(([k, v]) => `${v}× ${k}`);
  if (sat) parts.unshift(`${sat} failed or non-2xx at saturation`);
  const behind = [m.fixed, m.half].filter((p) => p.achievedRate < 0.95 * p.rate).map((p) => `sent ${num(p.achievedRate)} of ${p.rate} req/s`);
  return [...parts, ...behind].length ? `; ⚠ ${[...parts, ...behind].join(', ')}` : '';
}

async function main(): Promise<void> {
  await mkdir(join(workDir, 'bin'), { recursive: true });
  const tools: Tools = { h2load: ensureH2load(), vegeta: ensureVegeta(join(workDir, 'bin')) };
  const floorBin = kinds.some(usesFloor) ? buildFloor(join(workDir, 'bin')) : undefined;
  const wanted = kinds.filter((k) => !usesFloor(k) || floorBin);
  const envoyBin = resolveEnvoyBin();
  const ctx: RunContext = {
    envoyBin,
    workDir,
    upstreamPort: await freePort(),
    envoyConcurrency: Number(opt['envoy-concurrency']),
    bundle: opt.tsx || !wanted.some(isOurs) ? undefined : await bundleExtProc(workDir),
    floorBin,
    extProcEnv: parseEnv(opt['ext-proc-env'] as string[]),
    nodeArgs: [...(opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(workDir, 'prof')}`] : []), ...(opt['node-args'] as string).split(' ').filter(Boolean)],
    streamsPerConnection: opt['streams-per-connection'] === undefined ? undefined : Number(opt['streams-per-connection']),
  };
  const targets = targetList(wanted, transports);
  const machine = [
    `machine: ${availableParallelism()} CPUs (nproc) × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`,
    `software: Node ${process.version}, Envoy ${envoyVersion(envoyBin)} (--concurrency ${ctx.envoyConcurrency}), ${version(tools.h2load, ['--version'])} (saturation: HTTP/1.1 keep-alive, ${settings.connections} connections), vegeta ${vegetaVersion(tools.vegeta)} (open loop, keep-alive, at most ${settings.openLoopConnections} connections)`,
    `ext-proc: ${ctx.bundle ? 'from an esbuild bundle' : 'through tsx'}${transports.length ? `, transports ${transports.join(', ')}` : ''}${Object.keys(ctx.extProcEnv).length ? `, env ${(opt['ext-proc-env'] as string[]).join(' ')}` : ''}, node flags ${[...EXT_PROC_NODE_FLAGS, ...ctx.nodeArgs].join(' ')}${ctx.streamsPerConnection !== undefined ? `, ext_proc streams per connection ${ctx.streamsPerConnection || 'unlimited'}` : ''}`,
    `run: ${rounds} interleaved round(s); per target and round ${settings.warmupS} s warm-up, then ${settings.durationS} s each at saturation, ${settings.fixedRate} req/s and ½ saturation` +
      (slices > 0 ? `; then every target at once, ${slices} rotations of a ${sliceS} s slice each at ${settings.fixedRate} req/s` : ''),
  ];
  machine.forEach((l) => log(l));
  const loadBefore = loadavg();

  const upstreamAdmin = await freePort();
  const upstream = await startEnvoy('upstream', envoyBin, upstreamEnvoy(ctx.upstreamPort, upstreamAdmin), upstreamAdmin, workDir, 1);
  running.push(upstream);

  const results: TargetResult[] = targets.map((t) => ({ key: t.key, title: t.title, kind: t.kind, rounds: [], errors: [] }));
  const started = Date.now();
  for (let round = 1; round <= rounds; round++) {
    for (const [i, t] of targets.entries()) {
      const result = results[i] as TargetResult;
      const bodyFile = join(workDir, `body-${t.kind}.json`);
      await writeFile(bodyFile, t.body);
      let r: Awaited<ReturnType<typeof startTarget>> | undefined;
      try {
        r = await startTarget(t, ctx, round);
        running.push(r.envoy, ...(r.extProc ? [r.extProc] : []));
        const m = await measureRound(r, { bodyFile, headers: t.headers }, upstreamAdmin, tools, settings, `${t.key.replace('@', '-')}-r${round}`);
        result.rounds[round - 1] = m;
        const c = m.saturation.cost;
        log(
          `round ${round}/${rounds} ${t.title}: ${num(m.saturation.rps)} req/s at saturation, CPU µs/req Envoy ${num(c.envoyCpuUs)} + ext-proc ${num(c.extProcCpuUs)}; ` +
            `@${settings.fixedRate}/s p50/p99/p99.9 ${num(m.fixed.p50Ms)}/${num(m.fixed.p99Ms)}/${num(m.fixed.p999Ms)} ms; @${m.half.rate}/s ${num(m.half.p50Ms)}/${num(m.half.p99Ms)}/${num(m.half.p999Ms)} ms` +
            problemsNote(m),
        );
      } catch (err) {
        result.errors.push(`round ${round}: ${(err as Error).message}`);
        log(`round ${round}/${rounds} ${t.title}: FAILED: ${(err as Error).message}`);
      } finally {
        if (r) {
          await r.stop();
          for (const p of [r.envoy, r.extProc]) if (p) running.splice(running.indexOf(p), 1);
        }
      }
    }
  }
  const interleaved = slices > 0 ? await sliced(targets, ctx, tools.vegeta) : undefined;
  await upstream.stop();

  const info = { machine, loadBefore, loadAfter: loadavg(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), fixedRate: settings.fixedRate };
  const report = renderReport(info, results, settings.durationS, interleaved);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(join(workDir, `results-${stamp}.json`), JSON.stringify({ info, settings, rounds, results, interleaved }, null, 2));
  await writeFile(join(workDir, `report-${stamp}.md`), `${report}\n`);
  log(`\n${report}\n\nbench took ${Math.round((Date.now() - started) / 1000)} s; results in ${join(workDir, `results-${stamp}.json`)} and report-${stamp}.md; process logs in ${workDir}`);
  const failed = results.some((r) => r.errors.length > 0);
  if (failed) process.exitCode = 1;
}

/** The interleaved slices (bench/interleaved.ts): every target started at once, then stopped. */
async function sliced(targets: Target[], ctx: RunContext, vegeta: string): Promise<InterleavedResult | undefined> {
  const up: Running[] = [];
  try {
    for (const t of targets) {
      const r = await startTarget(t, ctx, 0);
      up.push(r);
      running.push(r.envoy, ...(r.extProc ? [r.extProc] : []));
    }
    return await runInterleaved(vegeta, targets, up, { rate: settings.fixedRate, slices, sliceS, maxConnections: settings.openLoopConnections, workDir }, (n, latest) =>
      log(`slice ${n + 1}/${slices}: ${targets.map((t) => `${t.key} ${num(latest[t.key] ?? NaN)}`).join(', ')} ms (p50)`),
    );
  } catch (err) {
    log(`interleaved slices FAILED: ${(err as Error).message}`);
    return undefined;
  } finally {
    for (const r of up) {
      await r.stop();
      for (const p of [r.envoy, r.extProc]) if (p) running.splice(running.indexOf(p), 1);
    }
  }
}

main()
  .catch(async (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    await Promise.allSettled(running.map((p) => p.stop()));
    process.exitCode = 1;
  })
  .finally(() => process.exit());
