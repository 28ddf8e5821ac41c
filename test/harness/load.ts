// A small closed-loop load generator for the fault-injection e2e suite: N workers each send
// one request at a time, so the load stays bounded (N in flight) on a shared 2-core machine.

export interface Sample {
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when the request failed below HTTP (reset, refused). */
  status: number;
  body: string;
  /** `x-demo-instance` of the model server that answered, when one did. */
  instance: string | undefined;
  /** The request URL (tells the client protocol apart). */
  url?: string;
  error?: string;
}

export interface LoadRun {
  readonly samples: readonly Sample[];
  /** Requests sent and not yet answered. */
  inFlight(): number;
  /** Stops sending and resolves once every in-flight request has ended. */
  stop(): Promise<Sample[]>;
  /** Resolves when the workers end on their own (after `maxRequests`). */
  finished(): Promise<Sample[]>;
}

export interface LoadOptions {
  concurrency: number;
  send: () => Promise<Response>;
  /** Pause between one worker's requests, to keep the total count modest. */
  pauseMs?: number;
  /** Stop on its own after this many requests. */
  maxRequests?: number;
}

export function startLoad(opts: LoadOptions): LoadRun {
  const samples: Sample[] = [];
  let stopped = false;
  let inFlight = 0;
  let sent = 0;
  const worker = async () => {
    while (!stopped && (opts.maxRequests === undefined || sent < opts.maxRequests)) {
      sent++;
      inFlight++;
      const startedAt = performance.now();
      try {
        const res = await opts.send();
        const body = await res.text();
        samples.push({ startedAt, endedAt: performance.now(), status: res.status, body, instance: res.headers.get('x-demo-instance') ?? undefined, url: res.url });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        samples.push({ startedAt, endedAt: performance.now(), status: 0, body: '', instance: undefined, error: cause?.code ?? cause?.message ?? String(err) });
      } finally {
        inFlight--;
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const workers = Array.from({ length: opts.concurrency }, () => worker());
  const all = Promise.all(workers).then(() => samples);
  return {
    samples,
    finished: () => all,
    inFlight: () => inFlight,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return samples;
    },
  };
}

/** Runs load for `ms` milliseconds and returns what the clients saw. */
export async function loadFor(ms: number, opts: LoadOptions): Promise<Sample[]> {
  const run = startLoad(opts);
  await new Promise((r) => setTimeout(r, ms));
  return run.stop();
}

export const failures = (samples: readonly Sample[]) => samples.filter((s) => s.status !== 200);

/** Counts answers per model-server instance. */
export function byInstance(samples: readonly Sample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of samples) if (s.instance) counts.set(s.instance, (counts.get(s.instance) ?? 0) + 1);
  return counts;
}

/** The client protocol of a sample's request, from its path. */
export function protocolOf(sample: Sample): 'openai' | 'kserve-v2' | 'tfserving' | undefined {
  const path = sample.url ? new URL(sample.url).pathname : '';
  if (path.startsWith('/v2/')) return 'kserve-v2';
  if (path.startsWith('/v1/models/')) return 'tfserving';
  if (path.startsWith('/v1/')) return 'openai';
  return undefined;
}

/** True when an error answer is JSON in the client's protocol: OpenAI's error object, or `{"error": "..."}`. */
export function isProtocolError(sample: Sample, protocol: 'openai' | 'kserve-v2' | 'tfserving'): boolean {
  let body: unknown;
  try {
    body = JSON.parse(sample.body);
  } catch {
    return false;
  }
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  if (protocol === 'openai') {
    const e = error as { message?: unknown; type?: unknown } | undefined;
    return typeof e === 'object' && e !== null && typeof e.message === 'string' && e.message !== '' && typeof e.type === 'string';
  }
  return typeof error === 'string' && error !== '';
}

export function summarize(samples: readonly Sample[]): string {
  const statuses = new Map<number, number>();
  for (const s of samples) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
  return `${samples.length} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}; instances ${JSON.stringify(Object.fromEntries(byInstance(samples)))}`;
}
