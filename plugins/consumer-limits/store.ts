import { windowOf, type Period } from './calendar.js';
import { quotaRefusal, viewsOf, type Admission, type Lease, type LimitStore, type Scope, type Snapshot, type Views } from './limit-store.js';
import type { Limit, Quota } from './options.js';
import { SweepOrder } from './sweep-order.js';

/** What one key (a consumer, a consumer on a model, an anonymous client) has used. */
interface KeyState {
  /** Request tokens in the bucket as of `at`; undefined while the key had no request rate (a full bucket). */
  tokens: number | undefined;
  /** OpenAI tokens left in the budget as of `at`, below 0 after big answers; undefined: a full budget. */
  budget: number | undefined;
  /** Clock time (ms) of the last refill. */
  at: number;
  /** Requests of this key admitted and not yet ended. */
  inflight: number;
  /** When the bucket and the budget are full again: from then on, with nothing in flight, the state equals a new one. */
  fullAt: number;
  /** Calendar quota counts, per period, of the current window. */
  windows: Partial<Record<Period, WindowCounts>>;
  /** Wall-clock end of the last window with counts: the key is not idle before it. */
  countedUntil: number;
}

export type { Admission, Lease, RateView, Scope, Views } from './limit-store.js';

/** Counts of one calendar window of a key. */
interface WindowCounts {
  id: string;
  endMs: number;
  requests: number;
  tokens: number;
}

/** Held by an admitted request: the states it counts in. */
interface MemoryLease extends Lease {
  readonly states: readonly KeyState[];
}

/** Entries looked at per admission to find idle ones, on average: more than one admission can add (two scopes). */
const SWEEP = 4;
/**
 * The idle sweep runs on one admission in this many, looking at as many entries as that many
 * admissions would have. At a low request rate each admission runs with the CPU's caches cold,
 * and the sweep's code was a quarter of the admission's cold time (docs/performance.md,
 * session 9). Dropping an idle key changes nothing (see `refilled`), so when it happens does not
 * show; the bound on keys above `maxKeys` is still kept on every admission.
 */
const SWEEP_EVERY = 8;

/**
 * Token buckets and in-flight counts per key, in one process. Memory stays bounded without
 * timers: each admission looks at the oldest few entries and drops the idle ones (bucket
 * full again, nothing in flight: forgetting them changes nothing), and above `maxKeys` the
 * oldest entries without requests in flight go even if their bucket is not full yet.
 */
export class KeyStore {
  /** New keys join at the back; an entry the sweep keeps moves to the back. */
  private readonly states = new SweepOrder<KeyState>();
  /** Requests waiting for a slot of a key, oldest first; each release wakes one. */
  private readonly waiters = new Map<KeyState, (() => void)[]>();
  /** Admissions until the next idle sweep. */
  private untilSweep = 1;

  /** `sweepEvery`: tests vary it to show that when idle keys are forgotten does not show. */
  constructor(
    public maxKeys: number,
    private readonly sweepEvery = SWEEP_EVERY,
  ) {}

  get size(): number {
    return this.states.size;
  }

  /**
   * Admits a request against every scope, or none: a request refused by one scope takes
   * nothing from the others. Token budgets and token quotas are checked only when `tokens` is
   * set (requests that can spend tokens): they are charged later, with `charge`. Synchronous,
   * so no other request interleaves.
   */
  admit(scopes: readonly Scope[], now: number, tokens = false, wall = Date.now()): Admission<MemoryLease> {
    if (--this.untilSweep === 0) this.sweep(now, wall);
    else if (this.states.size > this.maxKeys) this.forgiveOldest();
    // Indexed loops and no closures: this runs for every admitted request, mostly after the
    // process slept, when each extra function or array made per request is memory to fetch.
    const states: KeyState[] = [];
    for (let i = 0; i < scopes.length; i++) states.push(this.refilled(scopes[i] as Scope, now, wall));
    for (let i = 0; i < scopes.length; i++) {
      const refused = refusal(scopes[i] as Scope, states[i] as KeyState, tokens, wall);
      if (refused === undefined) continue;
      const [reason, retryAfterMs, quota] = refused;
      return { ok: false, reason, scope: i, key: (scopes[i] as Scope).key, retryAfterMs, ...(quota && { quota }), views: views(scopes, states, tokens, wall) };
    }
    for (let i = 0; i < scopes.length; i++) {
      const { limit } = scopes[i] as Scope;
      const state = states[i] as KeyState;
      if (limit.rate) state.tokens = (state.tokens as number) - 1;
      state.inflight += 1;
      state.fullAt = fullAt(state, limit, now);
      if (limit.quotas !== undefined) count(state, limit, 'requests', 1);
    }
    return { ok: true, lease: { states, released: false }, views: views(scopes, states, tokens, wall) };
  }

  /**
   * Takes `amount` tokens from the budget and token quotas of every scope that has them,
   * below zero if need be: an answer's tokens are known only once it is done. By key, not by
   * the admission's states: a key idle since its answer's headers may have been swept (and
   * starts full again).
   */
  charge(scopes: readonly Scope[], amount: number, now: number, wall = Date.now()): void {
    for (const scope of scopes) {
      if (!scope.limit.tokens && !scope.limit.quotas?.some((q) => q.what === 'tokens')) continue;
      const state = this.refilled(scope, now, wall);
      if (scope.limit.tokens) state.budget = (state.budget as number) - amount;
      state.fullAt = fullAt(state, scope.limit, now);
      count(state, scope.limit, 'tokens', amount);
    }
  }

  /** Requests admitted and not yet released, over every key: zero whenever nothing is in flight. */
  totalInflight(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.inflight;
    return n;
  }

  /** Idempotent. The states stay valid after a config reload: the lease holds them, not their keys. */
  release(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    for (const s of (lease as MemoryLease).states) {
      s.inflight = Math.max(0, s.inflight - 1);
      if (this.waiters.size === 0) continue; // most releases: nobody waits, no lookup
      const queue = this.waiters.get(s);
      queue?.shift()?.();
      if (queue?.length === 0) this.waiters.delete(s);
    }
  }

  async close(): Promise<void> {}

  /**
   * Resolves when a request of `key` ends, or after `ms`, or when `signal` aborts, whichever
   * comes first. Only requests that found their key at its concurrency limit wait, so only
   * they cost a timer.
   */
  waitForSlot(key: string, ms: number, signal: AbortSignal): Promise<void> {
    const state = this.states.get(key);
    if (!state || state.inflight === 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        const queue = this.waiters.get(state);
        const i = queue?.indexOf(done) ?? -1;
        if (queue && i !== -1) queue.splice(i, 1);
        if (queue?.length === 0) this.waiters.delete(state);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      const queue = this.waiters.get(state) ?? [];
      queue.push(done);
      this.waiters.set(state, queue);
    });
  }

  /** In-flight count of a key (tests, debugging). */
  inflight(key: string): number {
    return this.states.get(key)?.inflight ?? 0;
  }

  /**
   * The key's state with the tokens earned since its last use. A new key starts with a full
   * bucket and budget; so does a limit a reload added to a key that had none.
   */
  private refilled(scope: Scope, now: number, wall: number): KeyState {
    const { rate, tokens } = scope.limit;
    let state = this.states.get(scope.key);
    if (!state) {
      state = { tokens: rate?.burst, budget: tokens?.amount, at: now, inflight: 0, fullAt: now, windows: {}, countedUntil: 0 };
      this.states.add(scope.key, state);
      turnWindows(state, scope.limit, wall);
      return state;
    }
    if (state.inflight === 0 && now >= state.fullAt && wall >= state.countedUntil) {
      // Idle: what the sweep forgets, whose next request starts as a new key's. The same here,
      // exactly (a refill's rounding could leave a full bucket a hair short). Its windows have
      // ended or hold no counts (counts keep a key until its window ends): turnWindows makes
      // them a new key's.
      state.tokens = rate?.burst;
      state.budget = tokens?.amount;
      state.at = now;
      state.fullAt = now;
      state.countedUntil = 0;
      turnWindows(state, scope.limit, wall);
      return state;
    }
    turnWindows(state, scope.limit, wall);
    const elapsed = Math.max(0, now - state.at);
    // The bucket may have shrunk in a reload: never hold more than the current size.
    if (rate) state.tokens = Math.min(rate.burst, (state.tokens ?? rate.burst) + elapsed * rate.perMs);
    if (tokens) state.budget = Math.min(tokens.amount, (state.budget ?? tokens.amount) + elapsed * tokens.perMs);
    state.at = now;
    return state;
  }

  private sweep(now: number, wall: number): void {
    this.untilSweep = this.sweepEvery;
    // A key the sweep keeps goes to the back: after as many visits as there are keys, each
    // was seen once, and more visits would change nothing.
    for (let budget = Math.min(SWEEP * this.sweepEvery, this.states.size); budget > 0; budget--) {
      const state = this.states.front()?.value as KeyState;
      const idle = state.inflight === 0 && now >= state.fullAt && wall >= state.countedUntil;
      this.states.visitFront(!idle);
    }
    this.forgiveOldest();
  }

  /**
   * Too many keys with unfinished buckets (many distinct anonymous clients): forgive the
   * oldest. Never drop a key with requests in flight, or its next request would start at 0.
   */
  private forgiveOldest(): void {
    for (let budget = SWEEP; budget > 0 && this.states.size > this.maxKeys; budget--) {
      const state = this.states.front()?.value as KeyState;
      this.states.visitFront(state.inflight > 0);
    }
  }
}

type Refusal = readonly [reason: 'concurrency' | 'rate' | 'tokens' | 'quota', retryAfterMs: number | undefined, quota?: Quota];

/** Why one scope refuses a request, if it does: its concurrency, rate, token budget, then quotas. */
function refusal(scope: Scope, state: KeyState, tokens: boolean, wall: number): Refusal | undefined {
  const { maxConcurrent, rate, tokens: budget, quotas } = scope.limit;
  if (maxConcurrent !== undefined && state.inflight >= maxConcurrent) return ['concurrency', undefined];
  if (rate && (state.tokens as number) < 1) return ['rate', (1 - (state.tokens as number)) / rate.perMs];
  if (tokens && budget && (state.budget as number) < 1) return ['tokens', (1 - (state.budget as number)) / budget.perMs];
  if (quotas === undefined) return undefined;
  const quota = quotaRefusal(scope.limit, snapshot(state, scope).used, tokens);
  return quota && ['quota', windowOf(quota.period, wall).endMs - wall, quota];
}

/** The views of an admission's keys as they are now. */
function views(scopes: readonly Scope[], states: readonly KeyState[], tokens: boolean, wall: number): Views {
  // Without quotas, a key's state holds all its snapshot has (tokens and budget): no copies to make.
  for (const scope of scopes) {
    if (scope.limit.quotas !== undefined) return viewsOf(scopes, states.map((state, i) => snapshot(state, scopes[i] as Scope)), tokens, wall);
  }
  return viewsOf(scopes, states, tokens, wall);
}

/** When both the request bucket and the token budget of `limit` are full again. */
function fullAt(state: KeyState, limit: Limit, now: number): number {
  const { rate, tokens } = limit;
  const bucket = rate ? (rate.burst - (state.tokens ?? rate.burst)) / rate.perMs : 0;
  const budget = tokens ? (tokens.amount - (state.budget ?? tokens.amount)) / tokens.perMs : 0;
  return now + Math.max(0, bucket, budget);
}

/** The key's counts as the shared views read them. */
function snapshot(state: KeyState, scope: Scope): Required<Snapshot> {
  const used = (scope.limit.quotas ?? []).map((q) => state.windows[q.period]?.[q.what] ?? 0);
  return { tokens: state.tokens, budget: state.budget, used };
}

/** Starts the key's calendar windows afresh once the day or month they counted has ended. */
function turnWindows(state: KeyState, limit: Limit, wall: number): void {
  if (limit.quotas === undefined) return; // most limits: no array to make and walk per request
  for (const q of limit.quotas) {
    const current = state.windows[q.period];
    if (current !== undefined && wall < current.endMs) continue;
    const w = windowOf(q.period, wall);
    state.windows[q.period] = { id: w.id, endMs: w.endMs, requests: 0, tokens: 0 };
  }
}

/** Adds to the quotas of `what` the limit has; a key with counts is kept until its window ends. */
function count(state: KeyState, limit: Limit, what: Quota['what'], amount: number): void {
  for (const q of limit.quotas ?? []) {
    if (q.what !== what) continue;
    const w = state.windows[q.period] as WindowCounts;
    w[what] += amount;
    state.countedUntil = Math.max(state.countedUntil, w.endMs);
  }
}
