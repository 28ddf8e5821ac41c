// Keys and arguments of the Lua scripts (see admit.lua, charge.lua), and reading their answers.
import { windowOf, type Period } from '../calendar.js';
import type { Scope, Snapshot } from '../limit-store.js';
import type { Quota } from '../options.js';

/** Calendar counts outlive their window by this much: replicas' clocks differ a little at midnight. */
const WINDOW_SLACK_MS = 3_600_000;

/**
 * The Redis key of one scope's `kind` of state. The caller (`c:<consumer>` or `a:<client>`) is
 * the hash tag, so the keys of one request's scopes live on one Redis Cluster slot, as a
 * script needs. Parts are URI-encoded: a consumer id with `:` or `{` cannot alias another key.
 */
export function scopeKey(prefix: string, scope: Scope, kind: string): string {
  const [type = '', caller = '', ...rest] = scope.key.split('\0').map(encodeURIComponent);
  return `${prefix}{${type}:${caller}}${rest.map((p) => `:${p}`).join('')}:${kind}`;
}

function quotaAmount(quotas: readonly Quota[] | undefined, what: Quota['what'], period: Period): number {
  return quotas?.find((q) => q.what === what && q.period === period)?.amount ?? 0;
}

interface Windows {
  readonly day: { readonly id: string; readonly ttlMs: number };
  readonly month: { readonly id: string; readonly ttlMs: number };
}

export function windowsAt(wall: number): Windows {
  const at = (period: Period) => {
    const w = windowOf(period, wall);
    return { id: w.id, ttlMs: Math.ceil(w.endMs - wall) + WINDOW_SLACK_MS };
  };
  return { day: at('day'), month: at('month') };
}

export function admitArgs(prefix: string, scopes: readonly Scope[], tokens: boolean, leaseId: string, leaseTtlMs: number, w: Windows): { keys: string[]; args: (string | number)[] } {
  const keys: string[] = [];
  const args: (string | number)[] = [scopes.length, tokens ? 1 : 0, leaseId, leaseTtlMs];
  for (const scope of scopes) {
    const { rate, maxConcurrent, tokens: budget, quotas } = scope.limit;
    keys.push(scopeKey(prefix, scope, 's'), scopeKey(prefix, scope, 'slots'), scopeKey(prefix, scope, `d:${w.day.id}`), scopeKey(prefix, scope, `m:${w.month.id}`));
    args.push(
      rate?.perMs ?? 0,
      rate?.burst ?? 0,
      maxConcurrent ?? 0,
      budget?.perMs ?? 0,
      budget?.amount ?? 0,
      quotaAmount(quotas, 'requests', 'day'),
      quotaAmount(quotas, 'tokens', 'day'),
      w.day.ttlMs,
      quotaAmount(quotas, 'requests', 'month'),
      quotaAmount(quotas, 'tokens', 'month'),
      w.month.ttlMs,
    );
  }
  return { keys, args };
}

export function chargeArgs(prefix: string, scopes: readonly Scope[], amount: number, w: Windows): { keys: string[]; args: (string | number)[] } {
  const keys: string[] = [];
  const args: (string | number)[] = [scopes.length, amount];
  for (const scope of scopes) {
    const { tokens: budget, quotas } = scope.limit;
    keys.push(scopeKey(prefix, scope, 's'), scopeKey(prefix, scope, `d:${w.day.id}`), scopeKey(prefix, scope, `m:${w.month.id}`));
    args.push(budget?.perMs ?? 0, budget?.amount ?? 0, quotaAmount(quotas, 'tokens', 'day') > 0 ? 1 : 0, w.day.ttlMs, quotaAmount(quotas, 'tokens', 'month') > 0 ? 1 : 0, w.month.ttlMs);
  }
  return { keys, args };
}

export interface AdmitAnswer {
  readonly ok: boolean;
  readonly reason: 'rate' | 'concurrency' | 'tokens' | 'quota' | '';
  /** 0-based. */
  readonly scope: number;
  readonly retryAfterMs: number;
  readonly quota: Quota | undefined;
  readonly snaps: Snapshot[];
}

/** The script's flat answer: 5 fields, then 6 per scope (see admit.lua). */
export function readAdmitAnswer(raw: unknown, scopes: readonly Scope[]): AdmitAnswer {
  if (!Array.isArray(raw) || raw.length !== 5 + 6 * scopes.length) throw new Error('unexpected answer from the admit script');
  const field = (i: number) => String(raw[i] ?? '');
  const num = (i: number) => (field(i) === '' ? undefined : Number(field(i)));
  const scope = Math.max(0, Number(raw[2]) - 1);
  const [what, period] = field(4).split(':');
  const quota = (scopes[scope]?.limit.quotas ?? []).find((q) => q.what === what && q.period === period);
  const snaps = scopes.map((s, i) => {
    const base = 5 + 6 * i;
    const counts = { 'requests:day': num(base + 2), 'tokens:day': num(base + 3), 'requests:month': num(base + 4), 'tokens:month': num(base + 5) };
    return { tokens: num(base), budget: num(base + 1), used: (s.limit.quotas ?? []).map((q) => counts[`${q.what}:${q.period}`] ?? 0) };
  });
  return { ok: Number(raw[0]) === 1, reason: field(1) as AdmitAnswer['reason'], scope, retryAfterMs: Number(field(3)), quota, snaps };
}
