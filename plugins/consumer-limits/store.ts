import type { Limit } from './options.js';

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
}

/** A limit applied to a key for one request. */
export interface Scope {
  readonly key: string;
  readonly limit: Limit;
}

/** A bucket as OpenAI's `x-ratelimit-*` headers describe it. */
export interface RateView {
  /** Bucket size: requests (or tokens) allowed before the limit bites. */
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number;
}

/** The first scope's request bucket and the first scope's token budget that apply, if any. */
export interface Views {
  readonly requests: RateView | undefined;
  readonly tokens: RateView | undefined;
}

/** Taken by an admitted request; give it back with `release` when the request ends. */
export interface Lease {
  readonly states: readonly KeyState[];
  released: boolean;
}

export type Admission =
  | { readonly ok: true; readonly lease: Lease; readonly views: Views }
  | {
      readonly ok: false;
      readonly reason: 'rate' | 'concurrency' | 'tokens';
      /** Index of the scope that refused. */
      readonly scope: number;
      /** Its key. */
      readonly key: string;
      /** For `rate` and `tokens`: when the refusing bucket has a whole token again. */
      readonly retryAfterMs: number | undefined;
      readonly views: Views;
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
   * nothing from the others. Token budgets are checked only when `tokens` is set (requests
   * that can spend tokens): they are charged later, with `charge`. Synchronous, so no other
   * request interleaves.
   */
  admit(scopes: readonly Scope[], now: number, tokens = false): Admission {
    this.sweep(now);
    const states = scopes.map((s) => this.refilled(s, now));
    const views = () => viewsOf(scopes, states, tokens);
    for (const [i, scope] of scopes.entries()) {
      const state = states[i] as KeyState;
      const { maxConcurrent, rate, tokens: budget } = scope.limit;
      if (maxConcurrent !== undefined && state.inflight >= maxConcurrent) {
        return { ok: false, reason: 'concurrency', scope: i, key: scope.key, retryAfterMs: undefined, views: views() };
      }
      if (rate && (state.tokens as number) < 1) {
        return { ok: false, reason: 'rate', scope: i, key: scope.key, retryAfterMs: (1 - (state.tokens as number)) / rate.perMs, views: views() };
      }
      if (tokens && budget && (state.budget as number) < 1) {
        return { ok: false, reason: 'tokens', scope: i, key: scope.key, retryAfterMs: (1 - (state.budget as number)) / budget.perMs, views: views() };
      }
    }
    for (const [i, scope] of scopes.entries()) {
      const state = states[i] as KeyState;
      if (scope.limit.rate) state.tokens = (state.tokens as number) - 1;
      state.inflight += 1;
      state.fullAt = fullAt(state, scope.limit, now);
    }
    return { ok: true, lease: { states, released: false }, views: views() };
  }

  /**
   * Takes `amount` tokens from the budget of every scope that has one, below zero if need be:
   * an answer's tokens are known only once it is done. By key, not by the admission's states:
   * a key idle since its answer's headers may have been swept (and starts full again).
   */
  charge(scopes: readonly Scope[], amount: number, now: number): void {
    for (const scope of scopes) {
      if (!scope.limit.tokens) continue;
      const state = this.refilled(scope, now);
      state.budget = (state.budget as number) - amount;
      state.fullAt = fullAt(state, scope.limit, now);
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

  /**
   * The key's state with the tokens earned since its last use. A new key starts with a full
   * bucket and budget; so does a limit a reload added to a key that had none.
   */
  private refilled(scope: Scope, now: number): KeyState {
    const { rate, tokens } = scope.limit;
    let state = this.states.get(scope.key);
    if (!state) {
      state = { tokens: rate?.burst, budget: tokens?.amount, at: now, inflight: 0, fullAt: now };
      this.states.set(scope.key, state);
      return state;
    }
    const elapsed = Math.max(0, now - state.at);
    // The bucket may have shrunk in a reload: never hold more than the current size.
    if (rate) state.tokens = Math.min(rate.burst, (state.tokens ?? rate.burst) + elapsed * rate.perMs);
    if (tokens) state.budget = Math.min(tokens.amount, (state.budget ?? tokens.amount) + elapsed * tokens.perMs);
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

/** When both the request bucket and the token budget of `limit` are full again. */
function fullAt(state: KeyState, limit: Limit, now: number): number {
  const { rate, tokens } = limit;
  const bucket = rate ? (rate.burst - (state.tokens ?? rate.burst)) / rate.perMs : 0;
  const budget = tokens ? (tokens.amount - (state.budget ?? tokens.amount)) / tokens.perMs : 0;
  return now + Math.max(0, bucket, budget);
}

function rateView(size: number, left: number, perMs: number): RateView {
  return { limit: size, remaining: Math.max(0, Math.floor(left)), resetMs: Math.max(0, (size - left) / perMs) };
}

function viewsOf(scopes: readonly Scope[], states: readonly KeyState[], tokens: boolean): Views {
  const r = scopes.findIndex((s) => s.limit.rate !== undefined);
  const t = tokens ? scopes.findIndex((s) => s.limit.tokens !== undefined) : -1;
  const rate = scopes[r]?.limit.rate;
  const budget = scopes[t]?.limit.tokens;
  return {
    requests: rate && rateView(rate.burst, (states[r] as KeyState).tokens ?? rate.burst, rate.perMs),
    tokens: budget && rateView(budget.amount, (states[t] as KeyState).budget ?? budget.amount, budget.perMs),
  };
}
