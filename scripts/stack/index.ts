import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfig, GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { EXT_PROC_NODE_FLAGS } from '../../ext-proc/node-flags.js';
import { renderEnvoyYaml } from '../../envoy/render.js';
import { demoModels } from '../../examples/demo-models.js';
import { envoyVersion, resolveEnvoyBin, REPO_ROOT } from '../envoy-bin.js';
import { BUILT_EXT_PROC, buildExtProc } from '../build.js';

/** How often Envoy flushes its access logs (docker-compose.yml passes the same). */
export const ENVOY_LOG_FLUSH_MS = 1000;
import { freePort, httpOk, spawnChild, waitFor, waitReady, type Child } from './processes.js';
import type { Supervised } from './supervisor.js';
import { startRedis, STACK_REDIS_URL_ENV, type RedisHandle } from './redis.js';

export { STACK_REDIS_URL_ENV };

export interface StackOptions {
  /** Gateway config file, or an object (tests build their own). */
  config: string | GatewayConfigInput;
  /** `fixed`: ports from the config (npm start); `free`: fresh loopback ports (tests). */
  ports: 'fixed' | 'free';
  /** Start demo model servers for versions that have a demo in examples/demo-models.ts. */
  demoModels?: boolean;
  /** Print every child's output with a prefix. */
  echo?: boolean;
  /** Envoy log level; `warn` keeps test logs small. */
  envoyLogLevel?: string;
  /** Directory for generated configs and logs; a temp dir by default. */
  workDir?: string;
  /** Number of ext-proc processes behind Envoy's ext_proc cluster. */
  extProcReplicas?: number;
  /**
   * Envoy reads model clusters and routes from files the ext-proc keeps current (file-based
   * CDS/RDS), so config edits that add or remove versions apply without restarting Envoy.
   */
  envoyXds?: boolean;
  /**
   * `build` (default): the ext-proc runs from dist/ (plain node, as shipped), built by this
   * process unless GATEWAY_EXT_PROC_BUILT=1 says it is fresh; `source`: through tsx.
   * GATEWAY_EXT_PROC_FROM overrides.
   */
  extProcFrom?: 'build' | 'source';
  /**
   * Start a redis-server (loopback, free port, no persistence) before the ext-procs, which
   * find its URL in $GATEWAY_REDIS_URL (`consumer-limits` options: `redis: { urlEnv: GATEWAY_REDIS_URL }`).
   */
  redis?: boolean;
}

export interface ExtProcHandle {
  child: Child;
  grpcPort: number;
  httpPort: number;
}

export interface Stack {
  readonly config: GatewayConfig;
  /** The effective gateway config file the ext-proc runs with. */
  readonly configPath: string;
  readonly envoyConfigPath: string;
  readonly workDir: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly extProcs: ExtProcHandle[];
  /** `model@version` → the demo server processes serving it. */
  readonly demos: Map<string, { child: Child; url: string }[]>;
  /** The current Envoy process (a new one after `startEnvoy`). */
  readonly envoy: Child;
  readonly envoyVersion: string;
  /** The stack's redis-server, when `redis` was asked for. */
  readonly redis: RedisHandle | undefined;
  /** Starts Envoy again with the same config (after it exited). */
  startEnvoy(): Promise<Child>;
  /** Every child with the way to start it again, for the launcher's supervisor. */
  services(): Supervised[];
  /** Rewrites the effective config file (and sends SIGHUP unless told not to). */
  writeConfig(config: GatewayConfigInput, opts?: { signal?: boolean }): Promise<void>;
  startExtProc(index: number): Promise<ExtProcHandle>;
  /** Starts demo instance `index` of `model@version` again on its port (after a test stopped it). */
  restartDemo(key: string, index: number): Promise<{ child: Child; url: string }>;
  stop(): Promise<void>;
}

const NODE_ARGS = ['--import', 'tsx'];

/**
 * Starts one demo model server (`model@version` from examples/demo-models.ts); port 0 picks a
 * free one. `instance` numbers the servers of one version and names this one in
 * `x-demo-instance` (`key#instance`).
 */
export async function startDemo(key: string, port: number, workDir: string, echo: boolean, host = '127.0.0.1', instance = 0): Promise<{ child: Child; url: string }> {
  const spec = demoModels[key];
  if (!spec) throw new Error(`no demo model server for ${key}`);
  let resolvePort: (p: number) => void = () => {};
  const listening = new Promise<number>((r) => (resolvePort = r));
  const child = spawnChild({
    name: key,
    command: process.execPath,
    args: [...NODE_ARGS, resolve(REPO_ROOT, spec.script), ...spec.args, '--host', host, '--port', String(port), '--name', `${key}#${instance}`],
    logFile: join(workDir, `demo-${key.replace(/[^a-z0-9]/gi, '_')}-${instance}.log`),
    cwd: REPO_ROOT,
    echo,
    onLine: (line) => {
      if (!line.startsWith('{')) return;
      try {
        const ev = JSON.parse(line) as { event?: string; port?: number };
        if (ev.event === 'listening' && typeof ev.port === 'number') resolvePort(ev.port);
      } catch {
        /* not our line */
      }
    },
  });
  const actual = await Promise.race([
    listening,
    child.exited.then((code) => {
      throw new Error(`demo ${key} exited (${code}) before listening; see ${child.logFile}`);
    }),
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`demo ${key} did not start in 20 s`)), 20_000)),
  ]);
  return { child, url: `http://${host}:${actual}` };
}

let built: Promise<string> | undefined;

/** Node's arguments to run the ext-proc: its node flags, then the build in dist/ (built once per process) or the sources. */
export async function extProcCommand(from: StackOptions['extProcFrom']): Promise<string[]> {
  const choice = process.env.GATEWAY_EXT_PROC_FROM ?? from ?? 'build';
  if (choice === 'source') return [...EXT_PROC_NODE_FLAGS, ...NODE_ARGS, resolve(REPO_ROOT, 'ext-proc/main.ts')];
  built ??= process.env.GATEWAY_EXT_PROC_BUILT === '1' ? Promise.resolve(BUILT_EXT_PROC) : buildExtProc();
  return [...EXT_PROC_NODE_FLAGS, await built];
}

/** Starts demo servers, ext-proc(s) and Envoy; waits until traffic can flow. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const workDir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'gateway-stack-')));
  await mkdir(workDir, { recursive: true });
  const echo = opts.echo ?? false;
  const input: GatewayConfigInput =
    typeof opts.config === 'string' ? (parseYamlInput(await readFile(opts.config, 'utf8')) as GatewayConfigInput) : structuredClone(opts.config);
  const children: Child[] = [];
  const demos = new Map<string, { child: Child; url: string }[]>();
  let redis: RedisHandle | undefined;
  const stopAll = async () => {
    await Promise.allSettled([...children].reverse().map((c) => c.stop()));
    // Last: ext-procs stopping may still give slots back. Its current child (a test may have restarted it).
    await redis?.stop();
  };

  try {
    // Demo model servers first, so their (maybe free) ports go into the config.
    if (opts.demoModels ?? true) {
      for (const [model, m] of Object.entries(input.models)) {
        for (const [version, v] of Object.entries(m.versions)) {
          const key = `${model}@${version}`;
          if (!demoModels[key]) continue;
          const started = [];
          for (const [i, endpoint] of v.endpoints.entries()) {
            // Free ports outside the ephemeral range (see freePort): a restarted instance binds its port again.
            const port = opts.ports === 'free' ? await freePort() : Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
            const demo = await startDemo(key, port, workDir, echo, undefined, i);
            children.push(demo.child);
            started.push(demo);
          }
          demos.set(key, started);
          v.endpoints = started.map((d) => d.url.replace('http://', ''));
        }
      }
    }
    if (opts.redis) redis = await startRedis(workDir, echo);
    const replicas = opts.extProcReplicas ?? 1;
    input.envoy ??= {};
    input.extProc ??= {};
    if (opts.ports === 'free') {
      input.envoy.listener = { host: '127.0.0.1', port: await freePort() };
      input.envoy.admin = { host: '127.0.0.1', port: await freePort() };
      input.extProc.port = await freePort();
      input.extProc.http = { host: '127.0.0.1', port: await freePort() };
    }
    const config = parseConfigText(stringify(input), 'stack config');
    // With the config's own ports (npm start) the ext-proc runs on the file itself, so an
    // operator's edit to it is what reloads; tests get a copy with their free ports.
    const ownFile = typeof opts.config === 'string' && opts.ports === 'fixed';
    const configPath = ownFile ? resolve(opts.config as string) : join(workDir, 'gateway.yaml');
    if (!ownFile) await writeFile(configPath, stringify(input));
    const adminUrl = `http://127.0.0.1:${config.envoy.admin.port}`;
    const xdsDir = opts.envoyXds ? join(workDir, 'xds') : undefined;
    const xdsArgs = xdsDir ? ['--envoy-xds-dir', xdsDir, '--envoy-admin', adminUrl] : [];

    const extProcEntry = await extProcCommand(opts.extProcFrom);
    const extProcs: ExtProcHandle[] = [];
    const extProcPorts: { grpc: number; http: number }[] = [{ grpc: config.extProc.port, http: config.extProc.http.port }];
    for (let i = 1; i < replicas; i++) {
      extProcPorts.push(opts.ports === 'free' ? { grpc: await freePort(), http: await freePort() } : { grpc: config.extProc.port + i, http: config.extProc.http.port + i });
    }
    const startExtProc = async (index: number): Promise<ExtProcHandle> => {
      const ports = extProcPorts[index];
      if (!ports) throw new Error(`no ext-proc replica ${index}`);
      const child = spawnChild({
        name: `ext-proc-${index}`,
        command: process.execPath,
        args: [...extProcEntry, '--config', configPath, '--port', String(ports.grpc), '--http-port', String(ports.http), ...xdsArgs],
        logFile: join(workDir, `ext-proc-${index}.log`),
        cwd: REPO_ROOT,
        echo,
        ...(redis && { env: { [STACK_REDIS_URL_ENV]: redis.url } }),
      });
      children.push(child);
      try {
        await waitReady(child, `ext-proc ${index} readiness (log: ${child.logFile})`, () => httpOk(`http://127.0.0.1:${ports.http}/readyz`));
      } catch (err) {
        await child.stop('SIGKILL');
        throw err;
      }
      const handle = { child, grpcPort: ports.grpc, httpPort: ports.http };
      extProcs[index] = handle;
      return handle;
    };
    for (let i = 0; i < replicas; i++) await startExtProc(i);

    const envoyBin = resolveEnvoyBin();
    const version = envoyVersion(envoyBin);
    const envoyConfigPath = join(workDir, 'envoy.yaml');
    await writeFile(
      envoyConfigPath,
      // With xDS files, the ext-proc (already up) wrote them; Envoy reads them at start.
      // A Unix socket (extProc.socket): one ext-proc, reached through the config's own address.
      renderEnvoyYaml(config, { extProcAddresses: config.extProc.socket ? undefined : extProcPorts.map((p) => `${config.extProc.host}:${p.grpc}`), xdsDir }),
    );
    const envoyArgs = [
      ...['-c', envoyConfigPath, '--use-dynamic-base-id', '--log-level', opts.envoyLogLevel ?? 'warn', '--drain-time-s', '1', '--parent-shutdown-time-s', '2'],
      // Access-log lines (fail-open requests, Envoy's own replies) within a second, not Envoy's default 10 s.
      ...['--file-flush-interval-msec', String(ENVOY_LOG_FLUSH_MS)],
    ];
    let envoy: Child | undefined;
    const startEnvoy = async (): Promise<Child> => {
      const child = spawnChild({ name: 'envoy', command: envoyBin, args: envoyArgs, logFile: join(workDir, 'envoy.log'), echo });
      children.push(child);
      envoy = child;
      try {
        await waitReady(child, `Envoy readiness (log: ${child.logFile})`, () => httpOk(`${adminUrl}/ready`));
      } catch (err) {
        await child.stop('SIGKILL');
        throw err;
      }
      return child;
    };
    await startEnvoy();
    await waitFor('all upstream hosts healthy', async () => {
      const res = await fetch(`${adminUrl}/clusters`);
      const text = await res.text();
      return !/health_flags::.*(failed_active_hc|pending_active_hc)/.test(text);
    });

    const restartDemo = async (key: string, index: number): Promise<{ child: Child; url: string }> => {
      const current = demos.get(key)?.[index];
      if (!current) throw new Error(`no demo instance ${key}[${index}]`);
      if (current.child.running()) throw new Error(`demo instance ${key}[${index}] is still running`);
      const demo = await startDemo(key, Number(new URL(current.url).port), workDir, echo, undefined, index);
      children.push(demo.child);
      (demos.get(key) as { child: Child; url: string }[])[index] = demo;
      return demo;
    };

    return {
      config,
      configPath,
      envoyConfigPath,
      workDir,
      url: `http://127.0.0.1:${config.envoy.listener.port}`,
      adminUrl,
      extProcs,
      demos,
      get envoy() {
        return envoy as Child;
      },
      envoyVersion: version,
      redis,
      startExtProc,
      startEnvoy,
      services() {
        const list: Supervised[] = [];
        for (const [key, instances] of demos) {
          instances.forEach((_, i) => list.push({ name: instances.length > 1 ? `${key}#${i}` : key, current: () => (demos.get(key) as { child: Child }[])[i]?.child as Child, start: async () => (await restartDemo(key, i)).child }));
        }
        extProcs.forEach((_, i) => list.push({ name: `ext-proc-${i}`, current: () => (extProcs[i] as ExtProcHandle).child, start: async () => (await startExtProc(i)).child }));
        list.push({ name: 'envoy', current: () => envoy as Child, start: startEnvoy });
        const r = redis;
        if (r) list.push({ name: 'redis', current: () => r.child, start: async () => (await r.start(), r.child) });
        return list;
      },
      restartDemo,
      async writeConfig(next, { signal = true } = {}) {
        await writeFile(configPath, stringify(next));
        if (signal) for (const p of extProcs) p?.child.proc.kill('SIGHUP');
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function parseYamlInput(text: string): unknown {
  // Validate once so a broken file fails here with the field named, then keep the raw input to patch ports.
  parseConfigText(text, 'gateway config');
  return parseYaml(text);
}
