import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnChild, type Child } from './processes.js';

/** A redis-server of the test stack: loopback only, nothing written to disk. */
export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  child: Child;
  /** Stops it (SIGTERM); its data is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (after `stop`). */
  start(): Promise<void>;
}

/** $REDIS_SERVER_BIN, else `redis-server` on PATH (scripts/install-redis.sh installs Debian's). */
export function resolveRedisServer(): string {
  const bin = process.env.REDIS_SERVER_BIN;
  if (bin) {
    if (!existsSync(bin)) throw new Error(`REDIS_SERVER_BIN=${bin} does not exist`);
    return bin;
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  throw new Error('redis-server not found: run `bash scripts/install-redis.sh` (or set REDIS_SERVER_BIN)');
}

/** Starts redis-server on a free loopback port (or `port`), without persistence; resolves once it accepts connections. */
export async function startRedis(workDir: string, echo = false, port?: number): Promise<RedisHandle> {
  const bin = resolveRedisServer();
  const chosen = port ?? (await freePort());
  const launch = async (): Promise<Child> => {
    let ready: () => void = () => {};
    const accepting = new Promise<void>((r) => (ready = r));
    const child = spawnChild({
      name: 'redis',
      command: bin,
      // No RDB snapshots, no AOF: a test's data dies with the process.
      args: ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir, '--daemonize', 'no', '--loglevel', 'notice'],
      logFile: join(workDir, 'redis.log'),
      echo,
      onLine: (line) => {
        if (line.includes('Ready to accept connections')) ready();
      },
    });
    await Promise.race([
      accepting,
      child.exited.then((code) => {
        throw new Error(`redis-server exited (${code}) before accepting connections; see ${child.logFile}`);
      }),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`redis-server did not start in 10 s; see ${child.logFile}`)), 10_000)),
    ]);
    return child;
  };
  const handle: RedisHandle = {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    child: await launch(),
    stop: () => handle.child.stop(),
    async start() {
      handle.child = await launch();
    },
  };
  return handle;
}
