import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { RequestSummary } from '../pipeline/observer.js';
import { isFromWorker, type FromWorker, type ToWorker } from './messages.js';

type FromWorkerDone = Extract<FromWorker, { type: 'gateway:done' }>;

/** A worker that dies is replaced after this pause (a crash loop costs one fork a second). */
const RESPAWN_DELAY_MS = 1000;

/**
 * The ext-proc workers behind one gRPC address: node:cluster's primary accepts connections and
 * hands them round-robin to the workers (Node 20 has no SO_REUSEPORT for net servers). The
 * primary serves no stream; it forks, replaces dead workers, and runs the two-phase reload,
 * log-level changes and shutdown across them all.
 */
export class WorkerPool {
  private readonly ready = new Set<Worker>();
  private readonly waiting = new Map<number, { pending: Set<Worker>; errors: string[]; replies: FromWorkerDone[]; done: () => void }>();
  private nextId = 1;
  private stopping = false;
  port = 0;
  /** Requests the workers report (see cluster/worker.ts forwardingObserver). */
  onFinished: ((summary: RequestSummary) => void) | undefined;

  private constructor(
    private readonly size: number,
    private readonly log: Logger,
  ) {}

  /** Forks `size` workers (they run this same program) and waits until each serves gRPC. */
  static async start(size: number, log: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(size, log);
    await Promise.all(Array.from({ length: size }, () => pool.fork()));
    return pool;
  }

  get readyWorkers(): number {
    return this.ready.size;
  }

  private fork(): Promise<void> {
    const worker = cluster.fork();
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: unknown) => {
        if (!isFromWorker(msg)) return;
        if (msg.type === 'gateway:ready') {
          this.ready.add(worker);
          this.port = msg.port;
          this.log.info({ pid: worker.process.pid, workers: this.ready.size }, 'ext-proc worker serving');
          resolve();
        } else if (msg.type === 'gateway:finished') this.onFinished?.(msg.summary);
        else this.answered(worker, msg);
      });
      // Whatever else goes wrong on a worker's channel is a worker's problem, not the primary's.
      worker.on('error', (err: Error) => this.log.warn({ pid: worker.process.pid, err: err.message }, 'ext-proc worker channel error'));
      worker.on('exit', (code, signal) => {
        const wasReady = this.ready.delete(worker);
        for (const w of this.waiting.values()) if (w.pending.delete(worker) && w.pending.size === 0) w.done();
        if (!wasReady) reject(new Error(`ext-proc worker ${worker.process.pid} exited (${code ?? signal}) before serving`));
        if (this.stopping) return;
        this.log.error({ pid: worker.process.pid, code, signal }, 'ext-proc worker died; starting a replacement');
        setTimeout(() => void this.replace(), RESPAWN_DELAY_MS);
      });
    });
  }

  /**
   * Envoy reconnected to the surviving workers when one died, and keeps those connections:
   * once the replacement serves, the others close theirs gracefully so that Envoy's new
   * connections spread over all workers again.
   */
  private async replace(): Promise<void> {
    try {
      await this.fork();
      for (const worker of this.ready) this.tell(worker, { type: 'gateway:rebalance' });
    } catch (err) {
      this.log.error({ err }, 'replacement worker failed to start');
    }
  }

  /**
   * Sends to a worker that may have just died: its IPC channel is closed before its exit event
   * reaches us, and a send then fails with an 'error' event that, unheard, would take the primary
   * (and every other worker's streams) down with it. `lost` runs when the message cannot go.
   */
  private tell(worker: Worker, msg: ToWorker, lost: () => void = () => {}): void {
    if (!worker.isConnected()) {
      lost();
      return;
    }
    worker.send(msg, (err: Error | null) => {
      if (!err) return;
      this.log.warn({ pid: worker.process.pid, type: msg.type, err: err.message }, 'ext-proc worker unreachable (exiting?): message not delivered');
      lost();
    });
  }

  private answered(worker: Worker, msg: FromWorkerDone): void {
    const w = this.waiting.get(msg.id);
    if (!w?.pending.delete(worker)) return;
    if (msg.error) w.errors.push(msg.error);
    w.replies.push(msg);
    if (w.pending.size === 0) w.done();
  }

  /** Sends a request to every serving worker; resolves when all answered, rejects with their errors. */
  private async all(make: (id: number) => ToWorker): Promise<FromWorkerDone[]> {
    const id = this.nextId++;
    const pending = new Set(this.ready);
    const errors: string[] = [];
    const replies: FromWorkerDone[] = [];
    await new Promise<void>((resolve) => {
      this.waiting.set(id, { pending, errors, replies, done: resolve });
      // A worker that died meanwhile (its exit not handled yet) answers nothing: not waited for.
      for (const worker of pending) this.tell(worker, make(id), () => pending.delete(worker) && pending.size === 0 && resolve());
      if (pending.size === 0) resolve();
    });
    this.waiting.delete(id);
    if (errors.length > 0) throw new Error([...new Set(errors)].join('; '));
    return replies;
  }

  /** Every worker builds the runtime of the config file whose bytes hash to `hash`. */
  async prepare(hash: string): Promise<void> {
    try {
      await this.all((id) => ({ type: 'gateway:prepare', id, hash }));
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async commit(): Promise<void> {
    await this.all((id) => ({ type: 'gateway:commit', id }));
  }

  async abort(): Promise<void> {
    await this.all((id) => ({ type: 'gateway:abort', id }));
  }

  setLogLevel(level: string, source: string): void {
    for (const worker of this.ready) this.tell(worker, { type: 'gateway:log-level', level, source });
  }

  /** The serving workers' metrics, summed (counters, histograms) per label set; a worker still starting is left out. */
  async metrics(): Promise<Registry> {
    const replies = await this.all((id) => ({ type: 'gateway:metrics', id }));
    return AggregatorRegistry.aggregate(replies.map((r) => r.metrics ?? []));
  }

  /** Each worker drains as a single process would (NOT_SERVING, delay, grace); resolves once all exited. */
  async shutdown(graceMs: number, delayMs: number): Promise<void> {
    this.stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) this.tell(w, { type: 'gateway:shutdown', graceMs, delayMs });
    const limit = setTimeout(() => workers.forEach((w) => w.kill('SIGKILL')), graceMs + delayMs + 5_000);
    await Promise.all(exited);
    clearTimeout(limit);
  }
}
