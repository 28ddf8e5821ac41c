import type { Logger } from 'pino';
import { z } from 'zod';
import type { ModelCatalog, Protocol } from '../sdk/types.js';

/** Options of validators that read model signatures from the model servers. */
export const MetadataOptions = z
  .object({
    fetch: z.boolean().default(false),
    timeoutMs: z.number().int().positive().default(1_000),
    refreshMs: z.number().int().min(1_000).default(60_000),
  })
  .strict()
  .prefault({});
export type MetadataOptions = z.output<typeof MetadataOptions>;

export interface MetadataTarget {
  model: string;
  version: string;
  /** `host:port` of the version's first model server. */
  endpoint: string;
}

/** Every version of every model of `protocol`, with the server its metadata is read from. */
export function metadataTargets(models: ModelCatalog, protocol: Protocol): MetadataTarget[] {
  return models
    .names()
    .map((n) => models.get(n))
    .filter((m) => m?.protocol === protocol)
    .flatMap((m) => Object.entries(m?.endpoints ?? {}).map(([version, eps]) => ({ model: m?.name as string, version, endpoint: eps[0] as string })))
    .filter((t) => t.endpoint !== undefined);
}

/** How one protocol's metadata endpoint is addressed and read. */
export interface MetadataReader<T> {
  /** Path of the version's metadata, e.g. `/v2/models/m/versions/1`. */
  path(model: string, version: string): string;
  /** The signature in the answer; throws when the answer is not one. */
  parse(json: unknown): T;
}

export interface MetadataSource<T> {
  get(model: string, version: string): T | undefined;
  close(): void;
}

/**
 * Reads each version's signature from its first model server, at start-up and then every
 * `refreshMs`. A server that does not answer leaves its version with the last signature read,
 * or unchecked until it answers (the model server still validates): failing open, because a
 * metadata outage should not take inference down with it. Logged when a version starts and
 * stops failing, not on every refresh.
 */
export async function pollMetadata<T>(
  targets: readonly MetadataTarget[],
  opts: { timeoutMs: number; refreshMs: number },
  log: Logger,
  reader: MetadataReader<T>,
): Promise<MetadataSource<T>> {
  const cache = new Map<string, T>();
  const failing = new Set<string>();
  const key = (m: string, v: string) => `${m}@${v}`;
  const fetchOne = async ({ model, version, endpoint }: MetadataTarget) => {
    const url = `http://${endpoint}${reader.path(model, version)}`;
    const k = key(model, version);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      cache.set(k, reader.parse(await res.json()));
      if (failing.delete(k)) log.info({ model, version }, 'model metadata available again');
    } catch (err) {
      if (failing.has(k)) return;
      failing.add(k);
      const checked = cache.has(k) ? 'checking against the last signature read' : 'signature not checked';
      log.warn({ model, version, url, err: (err as Error).message }, `model metadata unavailable; ${checked}`);
    }
  };
  await Promise.all(targets.map(fetchOne));
  const timer = setInterval(() => void Promise.all(targets.map(fetchOne)), opts.refreshMs);
  timer.unref();
  return { get: (m, v) => cache.get(key(m, v)), close: () => clearInterval(timer) };
}
