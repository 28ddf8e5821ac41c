import type { ReloadResult, ReloadSource } from '../config/reload.js';

export interface ReloadOutcome {
  result: Exclude<ReloadResult, 'unchanged'>;
  source: ReloadSource;
  /** Unix time in milliseconds. */
  at: number;
  /** Why the reload was refused (the validation message); absent on success. */
  error?: string;
  /** After a refusal: the file was put back to the config in force. */
  restored?: boolean;
}

/**
 * The config in force and the history the console shows and the rollback needs: its hash and
 * text, when it was loaded, the text before it, and the last reload's result.
 */
export class ConfigStatus {
  hash: string;
  text: string;
  loadedAt: number;
  /** The config in force before the last successful reload: what a rollback writes back. */
  previousText: string | undefined;
  lastReload: ReloadOutcome | undefined;

  constructor(
    initial: { hash: string; text: string },
    private readonly now: () => number = Date.now,
  ) {
    this.hash = initial.hash;
    this.text = initial.text;
    this.loadedAt = now();
  }

  /** A reload swapped in a new config. */
  loaded(next: { hash: string; text: string }, source: ReloadSource): void {
    if (next.hash !== this.hash) this.previousText = this.text;
    this.hash = next.hash;
    this.text = next.text;
    this.loadedAt = this.now();
    this.lastReload = { result: 'success', source, at: this.loadedAt };
  }

  refused(source: ReloadSource, error: string): void {
    this.lastReload = { result: 'failure', source, at: this.now(), error };
  }

  /** The file holds the config in force again (a refused edit undone): nothing is pending. */
  unchanged(): void {
    if (this.lastReload?.result === 'failure') this.lastReload = { ...this.lastReload, restored: true };
  }
}
