// Processes of a bench run: Envoy, our ext-proc and the floor's Go ext_proc, with their output
// going straight to files (no pipe through this process, which shares the same cores), and
// readiness waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { EXT_PROC_NODE_FLAGS } from '../ext-proc/node-flags.js';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../scripts/envoy-bin.js';
import { httpOk, waitFor } from '../scripts/stack/processes.js';

export interface Proc {
  name: string;
  proc: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

function start(name: string, command: string, args: string[], workDir: string, env: NodeJS.ProcessEnv = {}): Proc {
  const log = join(workDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const proc = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    name,
    proc,
    log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function startEnvoy(name: string, bin: string, config: object, adminPort: number, workDir: string, concurrency: number): Promise<Proc> {
  const file = join(workDir, `${name}.yaml`);
  await writeFile(file, stringify(config));
  const p = start(name, bin, ['-c', file, '--concurrency', String(concurrency), '--use-dynamic-base-id', '--log-level', 'warn', '--drain-time-s', '0'], workDir);
  await waitFor(`${name} ready (log ${p.log})`, async () => {
    if (p.proc.exitCode !== null) throw new Error(`${name} exited; see ${p.log}`);
    return httpOk(`http://127.0.0.1:${adminPort}/ready`);
  });
  return p;
}

/** Waits until Envoy sees every upstream host (ext-proc replicas, the model) healthy. */
export async function waitHealthy(adminPort: number): Promise<void> {
  await waitFor('healthy upstreams', async () => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/clusters`)).text();
    return !/health_flags::.*(failed_active_hc|pending_active_hc)/.test(text);
  });
}

/**
 * The ext-proc as one esbuild bundle (dependencies left external), run by plain node: what a
 * build step would ship, without tsx's loader, name-keeping helpers and source maps. Files the
 * code finds beside itself (`new URL('./static/', import.meta.url)`: the console's assets, the
 * Redis scripts) are copied beside the bundle, where the bundled code now looks for them.
 */
export async function bundleExtProc(workDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const dir = join(workDir, 'ext-proc-bundle');
  const outfile = join(dir, 'ext-proc.mjs');
  const result = await build({
    entryPoints: [join(REPO_ROOT, 'ext-proc/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    absWorkingDir: REPO_ROOT,
    metafile: true,
    logLevel: 'warning',
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    const source = join(REPO_ROOT, input);
    for (const asset of siblingAssets(await readFile(source, 'utf8'))) {
      const from = join(dirname(source), asset);
      if (existsSync(from)) await cp(from, join(dir, asset), { recursive: true });
    }
  }
  return outfile;
}

/**
 * Paths a module reads relative to its own URL: `new URL('./static/', import.meta.url)` gives
 * "static", `new URL(\`./redis/${name}.lua\`, …)` the directory before the substitution, "redis".
 */
export function siblingAssets(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/new URL\(\s*[`'"]\.\/([^`'"$]*)/g)) {
    const path = (m[1] as string).replace(/\/$/, '');
    if (path) out.add(path);
  }
  return [...out];
}

export interface ExtProcLaunch {
  configFile: string;
  grpcPort: number;
  httpPort: number;
  /** The esbuild bundle to run; undefined runs ext-proc/main.ts through tsx. */
  bundle?: string;
  nodeArgs?: string[];
  /** Extra environment, e.g. GATEWAY_EXT_PROC_TRANSPORT or NODE_OPTIONS. */
  env?: Record<string, string>;
}

/** Node's arguments for the ext-proc: the production flags first, so --node-args given to the bench come later and win. */
export function extProcArgs(l: ExtProcLaunch): string[] {
  const entry = l.bundle ? [l.bundle] : ['--import', 'tsx', 'ext-proc/main.ts'];
  return [...EXT_PROC_NODE_FLAGS, ...(l.nodeArgs ?? []), ...entry, '--config', l.configFile, '--port', String(l.grpcPort), '--http-port', String(l.httpPort)];
}

export async function startExtProc(name: string, workDir: string, l: ExtProcLaunch): Promise<Proc> {
  const p = start(name, process.execPath, extProcArgs(l), workDir, { NODE_ENV: 'production', ...l.env });
  await waitFor(`${name} ready (log ${p.log})`, async () => {
    if (p.proc.exitCode !== null) throw new Error(`${name} exited; see ${p.log}`);
    return httpOk(`http://127.0.0.1:${l.httpPort}/readyz`);
  });
  return p;
}

/** The floor's no-op Go ext_proc; ready when it accepts TCP connections. */
/** `route`: name=value headers its request headers' answer sets, with the route recomputed (the full chain's routing, for free). */
export async function startFloor(bin: string, port: number, workDir: string, route: readonly string[] = [], bodyLengthHeader?: string): Promise<Proc> {
  const args = ['-addr', `127.0.0.1:${port}`, ...route.flatMap((h) => ['-route', h]), ...(bodyLengthHeader ? ['-body-length', bodyLengthHeader] : [])];
  const p = start('floor-ext-proc', bin, args, workDir);
  await waitFor(`floor ext_proc ready (log ${p.log})`, async () => {
    if (p.proc.exitCode !== null) throw new Error(`floor ext_proc exited; see ${p.log}`);
    return tcpOpen(port);
  });
  return p;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
