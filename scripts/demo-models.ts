// Runs every demo model server of examples/demo-models.ts on the port the gateway config gives
// its version (examples/gateway.yaml by default), in the foreground: the `demo-models` service
// of docker-compose.yml. A server that dies takes the others down, so the container restarts whole.
//   node --import tsx scripts/demo-models.ts [--config FILE] [--host 0.0.0.0]
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoModels } from '../examples/demo-models.js';
import { loadConfigFile } from '../ext-proc/config/load.js';
import type { GatewayConfig } from '../ext-proc/config/schema.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

export interface DemoLaunch {
  key: string;
  script: string;
  args: string[];
  port: number;
}

/** One launch per endpoint of every model version that has a demo server. */
export function demoLaunches(config: GatewayConfig, host: string): DemoLaunch[] {
  const out: DemoLaunch[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    for (const [version, v] of Object.entries(m.versions)) {
      const key = `${model}@${version}`;
      const spec = demoModels[key];
      if (!spec) continue;
      for (const endpoint of v.endpoints) {
        const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
        out.push({ key, script: spec.script, port, args: [...spec.args, '--host', host, '--port', String(port), '--name', `${key}#${port}`] });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: process.env.GATEWAY_CONFIG ?? 'examples/gateway.yaml' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const { config } = await loadConfigFile(resolve(values.config as string));
  const launches = demoLaunches(config, values.host as string);
  if (launches.length === 0) throw new Error(`no model version in ${values.config} has a demo server`);

  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    // Demo servers close within their grace; don't wait forever for one that hangs.
    setTimeout(() => process.exit(code), 5_000).unref();
    void Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined))).then(() => process.exit(code));
  };
  for (const l of launches) {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, l.script), ...l.args], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`demo-models: ${l.key} on port ${l.port} exited (${code ?? signal}); stopping all\n`);
      stop(1);
    });
    process.stdout.write(`demo-models: ${l.key} → ${values.host}:${l.port}\n`);
  }
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`demo-models: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
