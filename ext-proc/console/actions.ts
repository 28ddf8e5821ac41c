import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigStatus } from './config-status.js';
import { EditError, pointAlias, setWeights } from './edits.js';

export type ActionResult =
  | { applied: true; hash: string; unchanged?: boolean }
  | { applied: false; status: number; error: string };

export interface ActionDeps {
  configPath: string;
  status: ConfigStatus;
  /** Runs the gateway's normal reload (the one SIGHUP runs) and resolves when it is done. */
  reload(): Promise<void>;
  log: Logger;
  /** How long to wait for the reload's verdict when another reload was already running. */
  settleMs?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Replaces the file in one step (rename), so the reloader never reads half of it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.console-${process.pid}`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * The console's changes to the gateway: each one edits the config file (the source of truth)
 * and goes through the normal reload. A refused reload puts the file back as it was and
 * reports the reload's reason. One action at a time.
 */
export class ConfigActions {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ActionDeps) {}

  weights(model: string, weights: Record<string, number>): Promise<ActionResult> {
    return this.edit(`weights of ${model}`, (text) => setWeights(text, model, weights));
  }

  alias(model: string, alias: string, version: string): Promise<ActionResult> {
    return this.edit(`alias ${model}:${alias}`, (text) => pointAlias(text, model, alias, version));
  }

  rollback(): Promise<ActionResult> {
    return this.edit('rollback', () => {
      const previous = this.deps.status.previousText;
      if (previous === undefined) throw new EditError('no previous config to roll back to: none was replaced since the gateway started');
      return previous;
    });
  }

  private edit(what: string, change: (text: string) => string): Promise<ActionResult> {
    const run = this.queue.then(() => this.apply(what, change));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(what: string, change: (text: string) => string): Promise<ActionResult> {
    const { configPath, status, log } = this.deps;
    const original = await readFile(configPath, 'utf8');
    let next: string;
    try {
      next = change(original);
    } catch (err) {
      if (err instanceof EditError) return { applied: false, status: 400, error: err.message };
      throw err;
    }
    const hash = sha256(next);
    if (hash === status.hash) return { applied: true, hash, unchanged: true };
    const writtenAt = Date.now();
    try {
      await writeAtomically(configPath, next);
    } catch (err) {
      // A read-only mount (a Kubernetes ConfigMap): the change belongs in its source instead.
      return { applied: false, status: 409, error: `cannot write the config file ${configPath}: ${(err as Error).message}` };
    }
    log.info({ action: what, configHash: hash }, 'console: config file edited; reloading');
    await this.deps.reload();
    const verdict = await this.verdict(hash, writtenAt);
    if (verdict === 'applied') return { applied: true, hash };
    // Refused (or no verdict): the file goes back to what it was, so it matches the gateway again.
    if ((await readFile(configPath, 'utf8')) === next) await writeAtomically(configPath, original);
    const error = verdict === 'refused' ? (status.lastReload?.error ?? 'refused') : 'the reload gave no verdict in time';
    log.warn({ action: what, err: error }, 'console: change refused; config file restored');
    return { applied: false, status: 422, error };
  }

  /** Whether the reload took `hash`, or refused a change after `since`. */
  private async verdict(hash: string, since: number): Promise<'applied' | 'refused' | 'timeout'> {
    const { status } = this.deps;
    const deadline = Date.now() + (this.deps.settleMs ?? 10_000);
    for (;;) {
      if (status.hash === hash) return 'applied';
      if (status.lastReload?.result === 'failure' && status.lastReload.at >= since) return 'refused';
      if (Date.now() > deadline) return 'timeout';
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
