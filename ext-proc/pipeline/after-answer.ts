import type { MaybePromise } from './hooks.js';

/**
 * Work a phase leaves for right after its answer has been written: the hooks that only observe
 * a response body (PluginHooks.observesResponseBody). The server runs it once the answer is
 * written; the next message of the stream, or its end, runs it first if the server has not.
 */
export class AfterAnswer {
  private work: (() => MaybePromise<void>) | undefined;
  private running: Promise<void> | undefined;

  get pending(): boolean {
    return this.work !== undefined;
  }

  set(work: () => MaybePromise<void>): void {
    this.work = work;
  }

  /** Runs the pending work, once; an async part of it keeps running (`settled` waits for it). */
  run(): void {
    const work = this.work;
    if (!work) return;
    this.work = undefined;
    const done = work();
    if (done instanceof Promise) this.running = done;
  }

  /** Runs what is pending and waits for all of it. Never rejects. */
  async settled(): Promise<void> {
    this.run();
    if (this.running) await this.running.catch(() => undefined);
  }
}
