// The launcher's supervisor: restarts any child of the stack that exits, with exponential
// back-off, and gives up (so the launcher can stop the stack) only when a child fails to
// start several times in a row. It knows nothing about what a child is: each comes with the
// function that starts it again (ext-proc replicas, model servers and Envoy alike).
import type { Child } from './processes.js';

export interface Supervised {
  readonly name: string;
  /** The process running now (or the one that last exited). */
  current(): Child;
  /** Starts it again; resolves once it is ready, rejects when it could not start. */
  start(): Promise<Child>;
}

export interface SupervisorOptions {
  /** First wait before a restart; doubles with each quick death in a row. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A child that ran this long before exiting starts again from `baseDelayMs`. */
  stableAfterMs?: number;
  /** Failed starts in a row after which the supervisor gives up on the child. */
  maxStartFailures?: number;
  log(line: string): void;
  /** Called once when a child could not be started `maxStartFailures` times in a row. */
  onGiveUp(name: string, lastError: Error): void;
}

export type ChildState = 'running' | 'restarting' | 'failed';

export interface ChildStatus {
  name: string;
  state: ChildState;
  pid: number | undefined;
  /** Restarts that brought the child back (successful starts after an exit). */
  restarts: number;
  /** Start attempts that failed, in total. */
  failedStarts: number;
  lastExit?: { how: string; at: string };
}

export class Supervisor {
  private readonly statuses = new Map<string, ChildStatus>();
  private stopped = false;
  private readonly opts: Required<SupervisorOptions>;

  constructor(opts: SupervisorOptions) {
    this.opts = { baseDelayMs: 250, maxDelayMs: 10_000, stableAfterMs: 30_000, maxStartFailures: 5, ...opts };
  }

  watch(service: Supervised): void {
    const child = service.current();
    this.statuses.set(service.name, { name: service.name, state: 'running', pid: child.proc.pid, restarts: 0, failedStarts: 0 });
    void this.keepAlive(service, child);
  }

  /** Stops restarting (the stack is shutting down). */
  stop(): void {
    this.stopped = true;
  }

  status(): ChildStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s }));
  }

  private async keepAlive(service: Supervised, first: Child): Promise<void> {
    const status = this.statuses.get(service.name) as ChildStatus;
    let child = first;
    let startedAt = Date.now();
    let quickDeaths = 0;
    for (;;) {
      await child.exited;
      if (this.stopped) return;
      const how = child.exitDescription() ?? 'unknown';
      status.lastExit = { how, at: new Date().toISOString() };
      status.state = 'restarting';
      status.pid = undefined;
      quickDeaths = Date.now() - startedAt < this.opts.stableAfterMs ? quickDeaths + 1 : 1;
      let failures = 0;
      for (;;) {
        const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (quickDeaths + failures - 1));
        this.opts.log(
          failures === 0
            ? `${service.name} exited (${how}); restarting in ${delay} ms (restart ${status.restarts + 1}); log: ${child.logFile}`
            : `${service.name}: next start attempt in ${delay} ms`,
        );
        await new Promise((r) => setTimeout(r, delay));
        if (this.stopped) return;
        try {
          child = await service.start();
          break;
        } catch (err) {
          failures++;
          status.failedStarts++;
          this.opts.log(`${service.name} failed to start (${failures} in a row): ${(err as Error).message}`);
          if (failures >= this.opts.maxStartFailures) {
            status.state = 'failed';
            if (!this.stopped) this.opts.onGiveUp(service.name, err as Error);
            return;
          }
        }
      }
      if (this.stopped) return;
      startedAt = Date.now();
      status.restarts++;
      status.state = 'running';
      status.pid = child.proc.pid;
      this.opts.log(`${service.name} restarted (pid ${child.proc.pid}, restart ${status.restarts})`);
    }
  }
}
