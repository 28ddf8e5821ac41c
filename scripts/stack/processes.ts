import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Ports the kernel hands out for outgoing connections (Linux; the usual default elsewhere). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

function listenable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A free TCP port on loopback for a process started later. Chosen below the ephemeral range:
 * a port the OS picks (`listen(0)`) comes from the range outgoing connections use too, and
 * between our check and Envoy's bind one of the stack's own connections took it often enough
 * to fail a CI run ("Address already in use"). Outside it, only another explicit binder can.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  if (low - floor > 1000) {
    for (let tries = 0; tries < 50; tries++) {
      const port = floor + Math.floor(Math.random() * (low - floor));
      if (handedOut.has(port) || !(await listenable(port, host))) continue;
      handedOut.add(port);
      return port;
    }
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code once the process is gone (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** False once the process has exited, by code or by signal. */
  running(): boolean;
  /** How it ended, e.g. `code 1` or `signal SIGKILL` (undefined while running). */
  exitDescription(): string | undefined;
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Echo output lines with a name prefix (for `npm start`). */
  echo?: boolean;
  /** Called with each stdout line, e.g. to catch `{"event":"listening","port":N}`. */
  onLine?: (line: string) => void;
}

export function spawnChild(opts: SpawnOptions): Child {
  const log: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  const proc = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(-1));
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => {
      log.write(`${line}\n`);
      if (opts.echo) process.stdout.write(`[${opts.name}] ${line}\n`);
      opts.onLine?.(line);
    });
  }
  // A process killed by a signal has exitCode null: the 'exit' event is the one sure sign it is gone.
  let ended: string | undefined;
  proc.once('exit', (code, signal) => (ended = signal ? `signal ${signal}` : `code ${code}`));
  proc.once('error', (err) => (ended ??= `spawn error ${err.message}`));
  void exited.then(() => log.end());
  return {
    name: opts.name,
    proc,
    logFile: opts.logFile,
    exited,
    running: () => ended === undefined,
    exitDescription: () => ended,
    async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 5_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` until it returns true, or fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * Waits until `check` holds for a child that was just started; fails at once if the child
 * exits meanwhile (by code or by signal) instead of polling a dead process until the timeout.
 */
export async function waitReady(child: Child, what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => !child.running() || (await check()), timeoutMs);
  if (!child.running()) throw new Error(`${child.name} exited (${child.exitDescription()}) before it was ready; see ${child.logFile}`);
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.ok;
}
