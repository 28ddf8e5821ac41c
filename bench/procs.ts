// Processes of a bench run: Envoy and ext-proc with their output going straight to files (no
// pipe through this process, which shares the same two cores), readiness waits, peak RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 * build step would ship, without tsx's loader, name-keeping helpers and source maps.
 */
export async function bundleExtProc(workDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(workDir, 'ext-proc.bundle.mjs');
  await build({ entryPoints: [join(REPO_ROOT, 'ext-proc/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning' });
  return outfile;
}

export async function startExtProc(
  name: string,
  configFile: string,
  grpcPort: number,
  httpPort: number,
  workDir: string,
  nodeArgs: string[] = [],
  bundle?: string,
): Promise<Proc> {
  const entry = bundle ? [bundle] : ['--import', 'tsx', 'ext-proc/main.ts'];
  const p = start(name, process.execPath, [...nodeArgs, ...entry, '--config', configFile, '--port', String(grpcPort), '--http-port', String(httpPort)], workDir, {
    NODE_ENV: 'production',
    // One process, so that its pid's CPU and RSS are the ext-proc's (with workers the primary serves no stream).
    GATEWAY_EXT_PROC_WORKERS: process.env.GATEWAY_EXT_PROC_WORKERS ?? '1',
  });
  await waitFor(`${name} ready (log ${p.log})`, async () => {
    if (p.proc.exitCode !== null) throw new Error(`${name} exited; see ${p.log}`);
    return httpOk(`http://127.0.0.1:${httpPort}/readyz`);
  });
  return p;
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export async function peakRss(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** CPU time (user + system) a process has used so far, in milliseconds. */
export async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return Number.isFinite(ticks) ? ticks * 10 : 0; // CLK_TCK is 100 on Linux
}
