// What every limits store (in-process or Redis) takes and answers, and how its answers become
// the views the response headers show.
import { windowOf, type Period } from './calendar.js';
import type { Limit, Quota } from './options.js';

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

/** A calendar quota as the `x-quota-*` headers describe it. */
export interface QuotaView extends RateView {
  readonly what: Quota['what'];
  readonly period: Period;
}

/** The first scope's request bucket, token budget and each quota that apply, if any. */
export interface Views {
  readonly requests: RateView | undefined;
  readonly tokens: RateView | undefined;
  readonly quotas: readonly QuotaView[];
}

/** Taken by an admitted request; give it back with `release` when the request ends. */
export interface Lease {
  released: boolean;
}

export type RefusalReason = 'rate' | 'concurrency' | 'tokens' | 'quota' | 'unavailable';

export type Admission<L extends Lease = Lease> =
  | { readonly ok: true; readonly lease: L; readonly views: Views }
  | {
      readonly ok: false;
      readonly reason: RefusalReason;
      /** Index of the scope that refused (0 for `unavailable`). */
      readonly scope: number;
      /** Its key. */
      readonly key: string;
      /** For `rate`, `tokens` and `quota`: when the refusing limit admits again. */
      readonly retryAfterMs: number | undefined;
      /** For `quota`: which one. */
      readonly quota?: Quota;
      readonly views: Views;
    };

/**
 * Buckets, in-flight counts, token budgets and calendar quotas per key. `now` is a monotonic
 * clock (buckets), `wall` the time of day in ms since the epoch (calendar windows); the Redis
 * store reads the bucket clock from Redis, so every replica refills by the same clock.
 */
export interface LimitStore {
  /** All scopes or none: a refusal takes nothing from any. Token budgets and token quotas only when `tokens`. */
  admit(scopes: readonly Scope[], now: number, tokens: boolean, wall: number): Admission | Promise<Admission>;
  /** Takes an answer's tokens from every budget and token quota of `scopes`, below zero if need be. */
  charge(scopes: readonly Scope[], amount: number, now: number, wall: number): void;
  /** Idempotent: a lease is given back once however often this is called. */
  release(lease: Lease): void;
  /** Resolves when a slot of `key` may be free, after `ms` at the latest, or when `signal` aborts. */
  waitForSlot(key: string, ms: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** What a key held when a request was decided: the inputs of its views. */
export interface Snapshot {
  /** Request tokens left (after this request's own); undefined without a rate. */
  readonly tokens: number | undefined;
  /** OpenAI tokens left in the budget; undefined without a budget. */
  readonly budget: number | undefined;
  /** Used so far in the current window, per quota of the scope's limit, in its order; may be absent when the limit has no quotas. */
  readonly used?: readonly number[];
}

export function rateView(size: number, left: number, perMs: number): RateView {
  return { limit: size, remaining: Math.max(0, Math.floor(left)), resetMs: Math.max(0, (size - left) / perMs) };
}

/** Views of the first scope with each kind of limit. Token budgets and quotas only for requests that can spend tokens. */
export function viewsOf(scopes: readonly Scope[], snaps: readonly Snapshot[], tokens: boolean, wall: number): Views {
  // Indexed loops, no callbacks: this runs for every admission (see docs/performance.md).
  let r = -1;
  let t = -1;
  let quotas: QuotaView[] | undefined;
  for (let i = 0; i < scopes.length; i++) {
    const limit = (scopes[i] as Scope).limit;
    if (r === -1 && limit.rate !== undefined) r = i;
    if (t === -1 && tokens && limit.tokens !== undefined) t = i;
    if (limit.quotas !== undefined) quotas = quotaViews(quotas ?? [], limit.quotas, snaps[i], tokens, wall);
  }
  // No `scopes[-1]`: a negative index is a property lookup through the prototypes, not an element load.
  const rate = r === -1 ? undefined : (scopes[r] as Scope).limit.rate;
  const budget = t === -1 ? undefined : (scopes[t] as Scope).limit.tokens;
  return {
    requests: rate && rateView(rate.burst, snaps[r]?.tokens ?? rate.burst, rate.perMs),
    tokens: budget && rateView(budget.amount, snaps[t]?.budget ?? budget.amount, budget.perMs),
    quotas: quotas ?? NO_QUOTAS,
  };
}

const NO_QUOTAS: readonly QuotaView[] = [];

/** Adds the views of a scope's quotas to `views`, each kind and period once (the first scope's). */
function quotaViews(views: QuotaView[], quotas: readonly Quota[], snap: Snapshot | undefined, tokens: boolean, wall: number): QuotaView[] {
  for (const [q, quota] of quotas.entries()) {
    if (quota.what === 'tokens' && !tokens) continue;
    if (views.some((v) => v.what === quota.what && v.period === quota.period)) continue;
    const used = snap?.used?.[q] ?? 0;
    views.push({ what: quota.what, period: quota.period, limit: quota.amount, remaining: Math.max(0, quota.amount - used), resetMs: windowOf(quota.period, wall).endMs - wall });
  }
  return views;
}

/** The quota of `scopes` that refuses a request with these uses, if any: requests at their amount, tokens once spent. */
export function quotaRefusal(limit: Limit, used: readonly number[], tokens: boolean): Quota | undefined {
  return (limit.quotas ?? []).find((q, i) => (q.what === 'requests' || tokens) && (used[i] ?? 0) >= q.amount);
}
