import type { Limit } from './options.js';

/** What one key (a consumer, a consumer on a model, an anonymous client) has used. */
interface KeyState {
  /** Tokens in the bucket as of `at`. */
  tokens: number;
  /** Clock time (ms) of the last refill. */
  at: number;
  /** Requests of this key admitted and not yet ended. */
  inflight: number;
  /** When the bucket is full again: from then on, with nothing in flight, the state equals a new one. */
  fullAt: number;
}

/** A limit applied to a key for one request. */
export interface Scope {
  readonly key: string;
  readonly limit: Limit;
}

/** The bucket of the first rate-limited scope, as OpenAI's `x-ratelimit-*-requests` headers describe it. */
export interface RateView {
  /** Bucket size: requests allowed before the limit bites. */
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

/** Taken by an admitted request; give it back with `release` when the request ends. */
export interface Lease {
  readonly states: readonly KeyState[];
  released: boolean;
}

export type Admission =
  | { readonly ok: true; readonly lease: Lease; readonly view: RateView | undefined }
  | {
      readonly ok: false;
      readonly reason: 'rate' | 'concurrency';
      /** Index of the scope that refused. */
      readonly scope: number;
      /** Its key. */
      readonly key: string;
      /** For `rate`: when the refusing bucket has a whole token again. */
      readonly retryAfterMs: number | undefined;
      readonly view: RateView | undefined;
    };

/** Entries looked at per admission to find idle ones: more than one admission can add (two scopes). */
const SWEEP = 4;

/**
 * Token buckets and in-flight counts per key, in one process. Memory stays bounded without
 * timers: each admission looks at the oldest few entries and drops the idle ones (bucket
 * full again, nothing in flight: forgetting them changes nothing), and above `maxKeys` the
 * oldest entries without requests in flight go even if their bucket is not full yet.
 */
export class KeyStore {
  /** Insertion order is the sweep order: an entry the sweep keeps moves to the back. */
  private readonly states = new Map<string, KeyState>();
  /** Requests waiting for a slot of a key, oldest first; each release wakes one. */
  private readonly waiters = new Map<KeyState, (() => void)[]>();

  constructor(public maxKeys: number) {}

  get size(): number {
    return this.states.size;
  }

  /**
   * Admits a request against every scope, or none: a request refused by one scope takes
   * nothing from the others. Synchronous, so no other request interleaves.
   */
  admit(scopes: readonly Scope[], now: number): Admission {
    this.sweep(now);
    const states = scopes.map((s) => this.refilled(s, now));
    for (const [i, scope] of scopes.entries()) {
      const state = states[i] as KeyState;
      const { maxConcurrent, rate } = scope.limit;
      if (maxConcurrent !== undefined && state.inflight >= maxConcurrent) {
        return { ok: false, reason: 'concurrency', scope: i, key: scope.key, retryAfterMs: undefined, view: view(scopes, states) };
      }
      if (rate && state.tokens < 1) {
        return { ok: false, reason: 'rate', scope: i, key: scope.key, retryAfterMs: (1 - state.tokens) / rate.perMs, view: view(scopes, states) };
      }
    }
    for (const [i, scope] of scopes.entries()) {
      const state = states[i] as KeyState;
      const rate = scope.limit.rate;
      if (rate) state.tokens -= 1;
      state.inflight += 1;
      state.fullAt = rate ? now + (rate.burst - state.tokens) / rate.perMs : now;
    }
    return { ok: true, lease: { states, released: false }, view: view(scopes, states) };
  }

  /** Idempotent. The states stay valid after a config reload: the lease holds them, not their keys. */
  release(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    for (const s of lease.states) {
      s.inflight = Math.max(0, s.inflight - 1);
      const queue = this.waiters.get(s);
      queue?.shift()?.();
      if (queue?.length === 0) this.waiters.delete(s);
    }
  }

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

  /** The key's state with the tokens earned since its last use; a new key starts with a full bucket. */
  private refilled(scope: Scope, now: number): KeyState {
    const rate = scope.limit.rate;
    let state = this.states.get(scope.key);
    if (!state) {
      state = { tokens: rate?.burst ?? 0, at: now, inflight: 0, fullAt: now };
      this.states.set(scope.key, state);
      return state;
    }
    if (rate) {
      // The burst may have shrunk in a reload: never hold more than the current bucket size.
      state.tokens = Math.min(rate.burst, state.tokens + Math.max(0, now - state.at) * rate.perMs);
    }
    state.at = now;
    return state;
  }

  private sweep(now: number): void {
    let budget = SWEEP;
    for (const [key, state] of this.states) {
      if (budget-- === 0) break;
      this.states.delete(key);
      const idle = state.inflight === 0 && now >= state.fullAt;
      if (!idle) this.states.set(key, state);
    }
    // Too many keys with unfinished buckets (many distinct anonymous clients): forgive the
    // oldest. Never drop a key with requests in flight, or its next request would start at 0.
    budget = SWEEP;
    while (this.states.size > this.maxKeys && budget-- > 0) {
      const first = this.states.entries().next();
      if (first.done) break;
      const [key, state] = first.value;
      this.states.delete(key);
      if (state.inflight > 0) this.states.set(key, state);
    }
  }
}

function view(scopes: readonly Scope[], states: readonly KeyState[]): RateView | undefined {
  const i = scopes.findIndex((s) => s.limit.rate !== undefined);
  if (i === -1) return undefined;
  const rate = (scopes[i] as Scope).limit.rate as NonNullable<Limit['rate']>;
  const tokens = (states[i] as KeyState).tokens;
  return { limit: rate.burst, remaining: Math.max(0, Math.floor(tokens)), resetMs: Math.max(0, (rate.burst - tokens) / rate.perMs) };
}
