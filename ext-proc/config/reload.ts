import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadConfigFile, loadConfigText, readConfigText, type LoadedConfig } from './load.js';

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
  /**
   * A file change applies only once a second read this long after the first finds the same
   * bytes: a file written in parts (an editor, `cat > file` from a slow pipe) is never applied
   * half-written, even when the first part alone is a valid config.
   */
  stableMs?: number;
}

class ReloaderClosed extends Error {}

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
  private readonly stableMs: number;

  constructor(private readonly opts: ReloaderOptions) {
    this.debounceMs = opts.debounceMs ?? 50;
    this.settleRetries = opts.settleRetries ?? 3;
    this.stableMs = opts.stableMs ?? 400;
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
    if (source === 'signal') {
      // The operator says the file is ready: read it once.
      try {
        loaded = await loadConfigFile(path);
      } catch (err) {
        lastError = err;
      }
    } else {
      try {
        loaded = await this.readStable();
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof ReloaderClosed || this.closed) return;
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

  /**
   * Reads the file until two reads `stableMs` apart find the same bytes, then parses them. A
   * parse error on stable bytes is retried `settleRetries` times more (a writer may still be
   * between steps) before it counts.
   */
  private async readStable(): Promise<LoadedConfig> {
    const { path } = this.opts;
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let text = await readConfigText(path).catch(() => undefined);
    let parseFailures = 0;
    // Bounded: a file rewritten non-stop is read again for at most ~50 windows, then taken as it is.
    for (let round = 0; ; round++) {
      await wait(this.stableMs);
      if (this.closed) throw new ReloaderClosed();
      const again = await readConfigText(path).catch(() => undefined);
      if (again !== text && round < 50) {
        this.opts.log.debug({ path }, 'config file still changing; waiting for it to settle');
        text = again;
        continue;
      }
      if (again === undefined) return loadConfigFile(path); // throws the read error
      try {
        return loadConfigText(again, path);
      } catch (err) {
        if (++parseFailures > this.settleRetries) throw err;
        text = again;
      }
    }
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
