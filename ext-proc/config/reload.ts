import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadConfigFile, type LoadedConfig } from './load.js';

export type ReloadSource = 'file' | 'signal';
export type ReloadResult = 'success' | 'failure' | 'unchanged';

export interface ReloaderOptions {
  path: string;
  log: Logger;
  /** Hash of the config in force; a file event that leaves the bytes unchanged does nothing. */
  currentHash(): string;
  /** Builds and swaps in the new config; throws to refuse it (the old one stays). */
  apply(loaded: LoadedConfig, source: ReloadSource): Promise<void>;
  /** `error` says why a reload was refused (the validation message). */
  onResult?(result: ReloadResult, source: ReloadSource, error?: string): void;
  /** Quiet time after the last file event before reading: editors write in several steps. */
  debounceMs?: number;
  /** A file read that fails right after an event is retried this often before it counts as refused. */
  settleRetries?: number;
}

/**
 * Reloads the gateway config on SIGHUP and when the file changes. Watches the directory, not
 * the file: editors and Kubernetes replace the file by renaming a new one over it, which a
 * watch on the old inode would never see. Reloads run one at a time; events that arrive
 * during a reload coalesce into one more.
 */
export class ConfigReloader {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: ReloadSource | undefined;
  private closed = false;
  private readonly debounceMs: number;
  private readonly settleRetries: number;

  constructor(private readonly opts: ReloaderOptions) {
    this.debounceMs = opts.debounceMs ?? 50;
    this.settleRetries = opts.settleRetries ?? 3;
  }

  /** Starts watching the config file's directory. */
  watch(): this {
    const file = basename(this.opts.path);
    this.watcher = watch(dirname(this.opts.path), { persistent: false }, (_event, name) => {
      // Some platforms omit the name; a Kubernetes ConfigMap swap renames `..data`, not the file.
      if (name === null || name === file || name.startsWith('..')) this.fileChanged();
    });
    this.watcher.on('error', (err) => this.opts.log.error({ err: err.message, path: this.opts.path }, 'config file watch failed; SIGHUP still reloads'));
    return this;
  }

  private fileChanged(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.trigger('file'), this.debounceMs);
    this.timer.unref();
  }

  /** Reloads now (or right after the reload in progress). Resolves when that reload is done. */
  async trigger(source: ReloadSource): Promise<void> {
    if (this.closed) return;
    if (this.running) {
      // A signal outranks a file event: it forces a rebuild even when the bytes are unchanged.
      this.queued = this.queued === 'signal' || source === 'signal' ? 'signal' : 'file';
      return this.running;
    }
    this.running = this.run(source).finally(() => {
      this.running = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next) void this.trigger(next);
    });
    return this.running;
  }

  private async run(source: ReloadSource): Promise<void> {
    const { log, path } = this.opts;
    let loaded: LoadedConfig | undefined;
    let lastError: unknown;
    // A file event can fire mid-write (truncated, half-written, briefly missing): give the
    // writer a moment and read again while the bytes keep changing, before calling it invalid.
    for (let attempt = 0; attempt <= this.settleRetries; attempt++) {
      try {
        loaded = await loadConfigFile(path);
        break;
      } catch (err) {
        lastError = err;
        if (source === 'signal') break;
        await new Promise((r) => setTimeout(r, this.debounceMs * (attempt + 1)));
      }
    }
    if (!loaded) return this.refuse(source, lastError);
    if (source === 'file' && loaded.hash === this.opts.currentHash()) {
      log.debug({ path }, 'config file event without a change');
      this.opts.onResult?.('unchanged', source);
      return;
    }
    try {
      await this.opts.apply(loaded, source);
    } catch (err) {
      return this.refuse(source, err);
    }
    log.info({ source, path, configHash: loaded.hash }, 'config reloaded');
    this.opts.onResult?.('success', source);
  }

  private refuse(source: ReloadSource, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.opts.log.error(
      { source, path: this.opts.path, configHash: this.opts.currentHash(), err: message, invalid: err instanceof ConfigError },
      `config reload refused; keeping the last good config: ${message.replaceAll('\n', '; ')}`,
    );
    this.opts.onResult?.('failure', source, message);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
