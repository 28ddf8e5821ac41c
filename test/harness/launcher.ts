// Runs the real launcher (`npm start`'s scripts/start.ts) on free loopback ports for an e2e
// test: the config file gets free ports, and the launcher's /status tells which child is which.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { freePort, spawnChild, type Child } from '../../scripts/stack/processes.js';
import type { ChildStatus } from '../../scripts/stack/supervisor.js';
import { eventually } from './faults.js';

export interface Launcher {
  child: Child;
  url: string;
  adminUrl: string;
  statusUrl: string;
  /** gRPC port of ext-proc replica 0 (replica i listens on this + i). */
  extProcPort: number;
  configPath: string;
  /** The config as written for the launcher: the given one with free ports. */
  effective: GatewayConfigInput;
  workDir: string;
  status(): Promise<ChildStatus[]>;
  childStatus(name: string): Promise<ChildStatus>;
  /** The launcher's own output so far (its restart log lines are on stderr). */
  output(): Promise<string>;
  stop(): Promise<void>;
}

/** Free ports for the listener, admin, each ext-proc replica (consecutive, as the launcher numbers them) and the demo endpoints. */
async function withFreePorts(config: GatewayConfigInput): Promise<GatewayConfigInput> {
  const c = structuredClone(config);
  c.envoy = { ...c.envoy, listener: { host: '127.0.0.1', port: await freePort() }, admin: { host: '127.0.0.1', port: await freePort() } };
  // The launcher gives replica i the ports port+i; below the ephemeral range the neighbours
  // of a free port are free too unless another test bound them explicitly.
  const base = await freePort();
  const http = await freePort();
  c.extProc = { ...c.extProc, port: base, http: { host: '127.0.0.1', port: http } };
  for (const m of Object.values(c.models ?? {})) {
    for (const v of Object.values(m.versions)) v.endpoints = await Promise.all(v.endpoints.map(async () => `127.0.0.1:${await freePort()}`));
  }
  return c;
}

export interface LauncherArgs {
  replicas?: number;
  maxStartFailures?: number;
  /** The config file's text for the free-port config (default: the YAML of it); e.g. the original file with its ports replaced. */
  configText?: (effective: GatewayConfigInput) => string;
}

export async function startLauncher(config: GatewayConfigInput, args: LauncherArgs = {}): Promise<Launcher> {
  const workDir = await mkdtemp(join(tmpdir(), 'gateway-launcher-'));
  const replicas = args.replicas ?? 1;
  const configPath = join(workDir, 'gateway.yaml');
  const effective = await withFreePorts(config);
  await writeFile(configPath, args.configText?.(effective) ?? stringify(effective));
  const statusPort = await freePort();
  const child = spawnChild({
    name: 'launcher',
    command: process.execPath,
    args: [
      ...['--import', 'tsx', resolve(REPO_ROOT, 'scripts/start.ts'), '--quiet', '--config', configPath],
      ...['--work-dir', join(workDir, 'stack'), '--status-port', String(statusPort), '--ext-proc-replicas', String(replicas)],
      ...['--max-start-failures', String(args.maxStartFailures ?? 5)],
    ],
    logFile: join(workDir, 'launcher.log'),
    cwd: REPO_ROOT,
  });
  const statusUrl = `http://127.0.0.1:${statusPort}`;
  const status = async () => ((await (await fetch(`${statusUrl}/status`)).json()) as { children: ChildStatus[] }).children;
  const launcher: Launcher = {
    child,
    url: `http://127.0.0.1:${effective.envoy?.listener?.port}`,
    adminUrl: `http://127.0.0.1:${effective.envoy?.admin?.port}`,
    statusUrl,
    extProcPort: effective.extProc?.port as number,
    configPath,
    effective,
    workDir,
    status,
    async childStatus(name) {
      const found = (await status()).find((s) => s.name === name);
      if (!found) throw new Error(`the launcher reports no child ${name}`);
      return found;
    },
    output: () => readFile(child.logFile, 'utf8'),
    stop: () => child.stop('SIGTERM', 15_000),
  };
  try {
    await eventually('the launcher reports its children', async () => !child.running() || (await status()).length > 0, 60_000);
    if (!child.running()) throw new Error(`the launcher exited (${child.exitDescription()})`);
  } catch (err) {
    await launcher.stop();
    throw new Error(`${(err as Error).message}\n${await launcher.output().catch(() => '')}`);
  }
  return launcher;
}

/** Pids of processes whose command line holds every one of `parts` (to find a child mid-start). */
export async function pidsWith(...parts: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = cmd.split('\0');
    if (parts.every((p) => argv.includes(p))) pids.push(Number(entry));
  }
  return pids;
}
