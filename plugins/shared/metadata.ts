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

/** One version's metadata, polled once for every plugin instance that asked for it. */
interface SharedPoll {
  value: unknown;
  failing: boolean;
  users: number;
  first: Promise<void>;
  timer: NodeJS.Timeout;
}

// Keyed by reader (one per protocol) and `endpoint model@version`: every validator instance in
// every chain (global and per model) reads the same poll, so each version's metadata is
// fetched once per refresh and its "unavailable" warning is logged once, not once per instance.
const shared = new WeakMap<MetadataReader<unknown>, Map<string, SharedPoll>>();

function acquire<T>(target: MetadataTarget, opts: { timeoutMs: number; refreshMs: number }, log: Logger, reader: MetadataReader<T>): { poll: SharedPoll; release(): void } {
  const r = reader as MetadataReader<unknown>;
  let polls = shared.get(r);
  if (!polls) shared.set(r, (polls = new Map()));
  const key = `${target.endpoint} ${target.model}@${target.version}`;
  let poll = polls.get(key);
  if (!poll) {
    const { model, version, endpoint } = target;
    const url = `http://${endpoint}${reader.path(model, version)}`;
    const state: SharedPoll = { value: undefined, failing: false, users: 0, first: Promise.resolve(), timer: undefined as unknown as NodeJS.Timeout };
    const fetchOne = async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        state.value = reader.parse(await res.json());
        if (state.failing) log.info({ model, version }, 'model metadata available again');
        state.failing = false;
      } catch (err) {
        if (state.failing) return;
        state.failing = true;
        const checked = state.value !== undefined ? 'checking against the last signature read' : 'signature not checked';
        log.warn({ model, version, url, err: (err as Error).message }, `model metadata unavailable; ${checked}`);
      }
    };
    state.first = fetchOne();
    state.timer = setInterval(() => void fetchOne(), opts.refreshMs);
    state.timer.unref();
    polls.set(key, (poll = state));
  }
  poll.users++;
  const p = poll;
  let released = false;
  return {
    poll: p,
    release() {
      if (released) return;
      released = true;
      if (--p.users > 0) return;
      clearInterval(p.timer);
      polls.delete(key);
    },
  };
}

/**
 * Reads each version's signature from its first model server, at start-up and then every
 * `refreshMs`. A server that does not answer leaves its version with the last signature read,
 * or unchecked until it answers (the model server still validates): failing open, because a
 * metadata outage should not take inference down with it. Logged when a version starts and
 * stops failing, not on every refresh. Instances asking for the same version share one poll
 * (the first one's timeout and interval), released when the last of them closes.
 */
export async function pollMetadata<T>(
  targets: readonly MetadataTarget[],
  opts: { timeoutMs: number; refreshMs: number },
  log: Logger,
  reader: MetadataReader<T>,
): Promise<MetadataSource<T>> {
  const held = new Map<string, ReturnType<typeof acquire>>();
  for (const t of targets) held.set(`${t.model}@${t.version}`, acquire(t, opts, log, reader));
  await Promise.all([...held.values()].map((h) => h.poll.first));
  return {
    get: (m, v) => held.get(`${m}@${v}`)?.poll.value as T | undefined,
    close: () => held.forEach((h) => h.release()),
  };
}
