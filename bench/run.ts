// `npm run bench`: the gateway's cost against plain Envoy, on loopback, in one run.
//   npm run bench [-- --duration 5 --modes headers,body,full --replicas 2 --cpu-prof]
// Starts a fast upstream (Envoy direct_response), a plain Envoy routing straight to it, and for
// each mode Envoy + our ext_proc; drives each with h2load at saturation and at fixed rates;
// prints p50/p99, throughput, overhead ratios against plain Envoy and the ext-proc's peak RSS.
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { parseConfigText } from '../ext-proc/config/load.js';
import { renderEnvoyConfig } from '../envoy/render.js';
import { envoyVersion, resolveEnvoyBin, REPO_ROOT } from '../scripts/envoy-bin.js';
import { freePort } from '../scripts/stack/processes.js';
import { startRedis, type RedisHandle } from '../scripts/stack/redis.js';
import { modes, plainEnvoy, upstreamEnvoy, type Mode } from './configs.js';
import { ensureH2load, runLoad, type LoadResult } from './load.js';
import { bundleExtProc, cpuMs, peakRss, startEnvoy, startExtProc, waitHealthy, type Proc } from './procs.js';

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '16' },
    'low-rate': { type: 'string', default: '500' },
    modes: { type: 'string', default: 'headers,body,full,full-x2,full-redis' },
    replicas: { type: 'string', default: '2' },
    'envoy-concurrency': { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
    /** Run the ext-proc from an esbuild bundle instead of through tsx. */
    bundle: { type: 'boolean', default: false },
    /** Extra node flags for the ext-proc, e.g. "--max-semi-space-size=32". */
    'node-args': { type: 'string', default: '' },
    out: { type: 'string', default: '.tmp/bench' },
  },
});
const durationS = Number(opt.duration);
const warmupS = Number(opt.warmup);
const connections = Number(opt.connections);
const lowRate = Number(opt['low-rate']);
const concurrency = Number(opt['envoy-concurrency']);
const workDir = resolve(REPO_ROOT, opt.out as string);
const wanted = new Set((opt.modes as string).split(','));

interface Row {
  key: string;
  title: string;
  sat: LoadResult;
  low: LoadResult;
  /** At half of this mode's saturation, and plain Envoy at the same rate. */
  half?: { rate: number; mode: LoadResult; plain: LoadResult };
  rssBytes?: number[];
  /** ext-proc CPU time (all replicas) per request at saturation. */
  cpuPerRequestUs?: number;
  /** The same at the fixed low rate: comparable between runs. */
  cpuAtLowUs?: number;
  /** redis-server's CPU time per request at the fixed low rate (modes with `redis`). */
  redisCpuAtLowUs?: number;
}

const procs: Proc[] = [];
let bundle: string | undefined;
async function stopAll(): Promise<void> {
  await Promise.allSettled(procs.splice(0).reverse().map((p) => p.stop()));
}
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

const log = (s: string) => process.stdout.write(`${s}\n`);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const fmtLoad = (r: LoadResult) => `${Math.round(r.rps)} req/s, p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms${r.non2xx || r.failed ? `, ${r.non2xx} non-2xx, ${r.failed} failed` : ''}`;

async function main(): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const h2load = ensureH2load();
  bundle = opt.bundle ? await bundleExtProc(workDir) : undefined;
  const envoyBin = resolveEnvoyBin();
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;

  // Upstream and plain Envoy stay up for the whole run.
  const upstreamPort = await freePort();
  const upstreamAdmin = await freePort();
  procs.push(await startEnvoy('upstream', envoyBin, upstreamEnvoy(upstreamPort, upstreamAdmin), upstreamAdmin, workDir, 1));

  const allModes = (await modes(upstreamPort, Number(opt.replicas))).filter((m) => wanted.has(m.key));
  const first = allModes.find((m) => m.key === 'body') ?? allModes[0];
  if (!first) throw new Error(`no mode selected (known: headers, body, full, full-x${opt.replicas}, full-redis)`);

  const plainPort = await freePort();
  const plainAdmin = await freePort();
  const plainRendered = renderEnvoyConfig(parseConfigText(stringify(withPorts(first.config, plainPort, plainAdmin, 1, 1)), "plain"));
  procs.push(await startEnvoy('plain-envoy', envoyBin, plainEnvoy(plainRendered, clusterOf(first)), plainAdmin, workDir, concurrency));
  await waitHealthy(plainAdmin);

  const load = (port: number, m: Mode, bodyFile: string, tag: string, rate?: number) =>
    runLoad(h2load, { url: `http://127.0.0.1:${port}${m.path}`, bodyFile, headers: m.headers, rate, durationS, warmupS, connections }, workDir, tag);

  const plainBody = join(workDir, 'body-plain.json');
  await writeFile(plainBody, first.body);
  log(`\nplain Envoy → upstream`);
  const plainSat = await load(plainPort, first, plainBody, 'plain-sat');
  log(`  saturation      ${fmtLoad(plainSat)}`);
  const plainLow = await load(plainPort, first, plainBody, 'plain-low', lowRate);
  log(`  ${lowRate} req/s      ${fmtLoad(plainLow)}`);
  const rows: Row[] = [{ key: 'plain', title: 'plain Envoy', sat: plainSat, low: plainLow }];

  for (const m of allModes) {
    log(`\n${m.title}`);
    const bodyFile = join(workDir, `body-${m.key}.json`);
    await writeFile(bodyFile, m.body);
    const row = await runMode(m, bodyFile, envoyBin, load);
    if (!row) continue;
    rows.push(row);
    // Plain Envoy at the same rate, right after, so both see the same machine state.
    if (row.half) {
      row.half.plain = await load(plainPort, m, bodyFile, `plain-half-${m.key}`, row.half.rate);
      log(`  plain @${row.half.rate}  ${fmtLoad(row.half.plain)}`);
    }
  }
  await stopAll();

  const machine = `${describeMachine(envoyBin, h2load)}\nload average (1 min) before / after: ${loadBefore.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)} (the machine is shared: compare ratios from one run)`;
  const table = renderTable(rows, plainSat, plainLow);
  log(`\n${machine}\n\n${table}\nbench took ${Math.round((Date.now() - started) / 1000)} s; logs and h2load logs in ${workDir}`);
  const file = join(workDir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ machine, settings: opt, rows }, null, 2));
  log(`results: ${file}`);
}

async function runMode(m: Mode, bodyFile: string, envoyBin: string, load: (port: number, m: Mode, bodyFile: string, tag: string, rate?: number) => Promise<LoadResult>): Promise<Row | undefined> {
  const listen = await freePort();
  const admin = await freePort();
  const grpc: number[] = [];
  const http: number[] = [];
  for (let i = 0; i < m.replicas; i++) {
    grpc.push(await freePort());
    http.push(await freePort());
  }
  const cfg = withPorts(m.config, listen, admin, grpc[0] as number, http[0] as number);
  const cfgFile = join(workDir, `gateway-${m.key}.yaml`);
  await writeFile(cfgFile, stringify(cfg));
  const parsed = parseConfigText(stringify(cfg), cfgFile);
  const mine: Proc[] = [];
  let redis: RedisHandle | undefined;
  try {
    if (m.redis) redis = await startRedis(await mkdtemp(join(workDir, 'redis-')));
    const env = redis ? { GATEWAY_REDIS_URL: redis.url } : {};
    for (let i = 0; i < m.replicas; i++) {
      const nodeArgs = [
        ...(opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(workDir, 'prof', m.key)}`] : []),
        ...(opt['node-args'] as string).split(' ').filter(Boolean),
      ];
      const p = await startExtProc(`ext-proc-${m.key}-${i}`, cfgFile, grpc[i] as number, http[i] as number, workDir, nodeArgs, bundle, env);
      mine.push(p);
      procs.push(p);
    }
    const envoy = await startEnvoy(
      `envoy-${m.key}`,
      envoyBin,
      renderEnvoyConfig(parsed, { extProcAddresses: grpc.map((g) => `127.0.0.1:${g}`) }),
      admin,
      workDir,
      concurrency,
    );
    mine.push(envoy);
    procs.push(envoy);
    await waitHealthy(admin);

    const extProcs = mine.filter((p) => p.name.startsWith('ext-proc'));
    const cpuBefore = await Promise.all(extProcs.map((p) => cpuMs(p.proc.pid)));
    const sat = await load(listen, m, bodyFile, `${m.key}-sat`);
    const cpuAfter = await Promise.all(extProcs.map((p) => cpuMs(p.proc.pid)));
    // Includes the warm-up second: divide by everything h2load sent, warm-up estimated at the same rate.
    const cpuPerRequestUs = (1000 * cpuAfter.reduce((a, b, i) => a + b - (cpuBefore[i] ?? 0), 0)) / (sat.rps * (durationS + warmupS));
    log(`  saturation      ${fmtLoad(sat)}; ext-proc CPU ${cpuPerRequestUs.toFixed(0)} µs/request`);
    // CPU per request depends on load (gRPC and HTTP/2 batch more at high rates): the figure to
    // compare between runs is the one at the fixed low rate.
    const lowCpuBefore = await Promise.all(extProcs.map((p) => cpuMs(p.proc.pid)));
    const redisBefore = await cpuMs(redis?.child.proc.pid);
    const low = await load(listen, m, bodyFile, `${m.key}-low`, lowRate);
    const lowCpuAfter = await Promise.all(extProcs.map((p) => cpuMs(p.proc.pid)));
    const cpuAtLowUs = (1000 * lowCpuAfter.reduce((a, b, i) => a + b - (lowCpuBefore[i] ?? 0), 0)) / (low.rps * (durationS + warmupS));
    const redisCpuAtLowUs = redis ? (1000 * ((await cpuMs(redis.child.proc.pid)) - redisBefore)) / (low.rps * (durationS + warmupS)) : undefined;
    log(`  ${lowRate} req/s      ${fmtLoad(low)}; ext-proc CPU ${cpuAtLowUs.toFixed(0)} µs/request${redisCpuAtLowUs === undefined ? '' : `, redis-server ${redisCpuAtLowUs.toFixed(0)} µs/request`}`);
    const rate = Math.round(sat.rps / 2 / 100) * 100;
    const half = await load(listen, m, bodyFile, `${m.key}-half`, rate);
    log(`  @${rate} (½ sat)  ${fmtLoad(half)}`);
    const rssBytes = await Promise.all(mine.filter((p) => p.name.startsWith('ext-proc')).map((p) => peakRss(p.proc.pid)));
    log(`  ext-proc peak RSS ${rssBytes.map((b) => `${(b / 2 ** 20).toFixed(0)} MB`).join(' + ')}`);
    return { key: m.key, title: m.title, sat, low, half: { rate, mode: half, plain: half }, rssBytes, cpuPerRequestUs, cpuAtLowUs, redisCpuAtLowUs };
  } finally {
    await Promise.allSettled(mine.reverse().map((p) => p.stop()));
    await redis?.stop();
    for (const p of mine) procs.splice(procs.indexOf(p), 1);
  }
}

function withPorts(config: Mode['config'], listen: number, admin: number, grpc: number, http: number): Mode['config'] {
  const c = structuredClone(config);
  c.envoy = { ...c.envoy, listener: { host: '127.0.0.1', port: listen }, admin: { host: '127.0.0.1', port: admin } };
  c.extProc = { ...c.extProc, host: '127.0.0.1', port: grpc, http: { host: '127.0.0.1', port: http } };
  return c;
}

function clusterOf(m: Mode): string {
  const [model, cfg] = Object.entries(m.config.models)[0] ?? [];
  return `${model}@${Object.keys(cfg?.versions ?? {})[0]}`;
}

function describeMachine(envoyBin: string, h2load: string): string {
  const cpu = cpus();
  const h2v = execFileSync(h2load, ['--version'], { encoding: 'utf8' }).trim();
  return [
    `machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`,
    `software: ext-proc ${bundle ? 'from an esbuild bundle' : 'through tsx'}, Node ${process.version}, Envoy ${envoyVersion(envoyBin)} (--concurrency ${concurrency}), ${h2v} (HTTP/1.1, ${connections} connections, ${durationS} s + ${warmupS} s warm-up per run)`,
  ].join('\n');
}

function renderTable(rows: Row[], plainSat: LoadResult, plainLow: LoadResult): string {
  const head =
    '| mode | saturation req/s | vs plain | p50 / p99 @ saturation (ms) | p50 / p99 @ ' +
    `${lowRate} req/s (ms) | added p50 / p99 @ ${lowRate} | ½ saturation rate | p50 / p99 @ ½ sat (ms) | added p50 / p99 @ ½ sat (vs plain at the same rate) | ext-proc CPU per request | ext-proc peak RSS |`;
  const sep = `|${'---|'.repeat(11)}`;
  const lines = rows.map((r) => {
    const plus = (a: number, b: number) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(2)}`;
    const isPlain = r.key === 'plain';
    const half = r.half && !isPlain ? `${r.half.rate} | ${ms(r.half.mode.p50Ms)} / ${ms(r.half.mode.p99Ms)} | ${plus(r.half.mode.p50Ms, r.half.plain.p50Ms)} / ${plus(r.half.mode.p99Ms, r.half.plain.p99Ms)} ms` : '– | – | –';
    const redisCpu = r.redisCpuAtLowUs === undefined ? '' : ` (+ redis-server ${r.redisCpuAtLowUs.toFixed(0)} µs @ ${lowRate}/s)`;
    const cpu = r.cpuPerRequestUs === undefined ? '–' : `${r.cpuAtLowUs?.toFixed(0)} µs @ ${lowRate}/s, ${r.cpuPerRequestUs.toFixed(0)} µs @ sat${redisCpu}`;
    const rss = r.rssBytes ? r.rssBytes.map((b) => `${(b / 2 ** 20).toFixed(0)} MB`).join(' + ') : '–';
    const warn = r.sat.non2xx + r.sat.failed + r.low.non2xx > 0 ? ' ⚠ non-2xx' : '';
    return `| ${r.title}${warn} | ${Math.round(r.sat.rps)} | ${(r.sat.rps / plainSat.rps).toFixed(2)}× | ${ms(r.sat.p50Ms)} / ${ms(r.sat.p99Ms)} | ${ms(r.low.p50Ms)} / ${ms(r.low.p99Ms)} | ${isPlain ? '–' : `${plus(r.low.p50Ms, plainLow.p50Ms)} / ${plus(r.low.p99Ms, plainLow.p99Ms)} ms`} | ${half} | ${cpu} | ${rss} |`;
  });
  return [head, sep, ...lines].join('\n');
}

main()
  .catch(async (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    await stopAll();
    process.exit(1);
  })
  .then(() => process.exit(0));
