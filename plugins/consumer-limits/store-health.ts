import type { Logger } from 'pino';
import type { PluginCounter } from '../sdk/index.js';

export type StoreOperation = 'admit' | 'charge' | 'release' | 'renew';

/** Seconds between repeated warnings while the store keeps failing: one line, not one per request. */
const REPEAT_WARNING_MS = 10_000;

/**
 * Whether the shared store answers, as the requests find it: every failure is counted (one
 * metric per request, by operation and policy); the first failure after a good spell is
 * logged at warn, a reminder every 10 s while it lasts, and the first success after it at info.
 */
export class StoreHealth {
  private failingSince: number | undefined;
  private failures = 0;
  private lastWarning = 0;

  constructor(
    private readonly log: Logger,
    private readonly counter: PluginCounter<'plugin' | 'operation' | 'policy'>,
    private readonly plugin: string,
    readonly policy: 'open' | 'closed',
    private readonly where: string,
  ) {}

  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  failed(operation: StoreOperation, err: unknown): void {
    this.counter.inc({ plugin: this.plugin, operation, policy: this.policy });
    this.failures += 1;
    const now = Date.now();
    const error = err instanceof Error ? err.message : String(err);
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.lastWarning = now;
      this.log.warn({ store: this.where, operation, error, onFailure: this.policy }, this.policy === 'open' ? 'limits store unavailable: admitting requests unchecked (onFailure: open)' : 'limits store unavailable: refusing limited requests with 503 (onFailure: closed)');
    } else if (now - this.lastWarning >= REPEAT_WARNING_MS) {
      this.lastWarning = now;
      this.log.warn({ store: this.where, operation, error, failures: this.failures, sinceMs: now - this.failingSince, onFailure: this.policy }, 'limits store still unavailable');
    }
  }

  succeeded(): void {
    if (this.failingSince === undefined) return;
    this.log.info({ store: this.where, failures: this.failures, downMs: Date.now() - this.failingSince }, 'limits store available again');
    this.failingSince = undefined;
    this.failures = 0;
  }
}
