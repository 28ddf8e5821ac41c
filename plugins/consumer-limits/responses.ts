import type { BaseContext, Respond } from '../sdk/index.js';
import type { CountTokens, Limit, Quota } from './options.js';
import type { RateView, RefusalReason, Views } from './limit-store.js';

/** Go-style duration as OpenAI sends it in `x-ratelimit-reset-requests`: `120ms`, `1.5s`, `6m0s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms) / 1_000;
  const h = Math.floor(total / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = Math.round((total % 60) * 1_000) / 1_000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Where rate headers go: the answer's headers, or the record of a 429. */
interface HeaderSink {
  set(name: string, value: string): void;
}

/** The header names of one kind, written out once: names built per answer were new strings to hash each time. */
function rateHeaderNames(kind: 'requests' | 'tokens') {
  return { limit: `x-ratelimit-limit-${kind}`, remaining: `x-ratelimit-remaining-${kind}`, reset: `x-ratelimit-reset-${kind}` } as const;
}
const REQUEST_HEADERS = rateHeaderNames('requests');
const TOKEN_HEADERS = rateHeaderNames('tokens');

function setRate(headers: HeaderSink, names: ReturnType<typeof rateHeaderNames>, view: RateView): void {
  headers.set(names.limit, String(view.limit));
  headers.set(names.remaining, String(view.remaining));
  headers.set(names.reset, formatDuration(view.resetMs));
}

/**
 * OpenAI's rate-limit headers (`x-ratelimit-*-requests`, `x-ratelimit-*-tokens`), which its
 * SDKs and many clients read, and the calendar quotas' `x-quota-{limit,remaining,reset}-{requests,tokens}-{day,month}`.
 */
export function writeRateHeaders(headers: HeaderSink, views: Views): void {
  if (views.requests !== undefined) setRate(headers, REQUEST_HEADERS, views.requests);
  if (views.tokens !== undefined) setRate(headers, TOKEN_HEADERS, views.tokens);
  for (const q of views.quotas) {
    headers.set(`x-quota-limit-${q.what}-${q.period}`, String(q.limit));
    headers.set(`x-quota-remaining-${q.what}-${q.period}`, String(q.remaining));
    headers.set(`x-quota-reset-${q.what}-${q.period}`, formatDuration(q.resetMs));
  }
}

/** The rate headers as a record (a 429's headers). */
export function rateHeaders(views: Views): Record<string, string> {
  const headers: Record<string, string> = {};
  writeRateHeaders({ set: (name, value) => void (headers[name] = value) }, views);
  return headers;
}

function describeRate(rate: NonNullable<Limit['rate']>): string {
  const per = `${rate.amount} requests per ${rate.unit}`;
  return rate.burst === rate.amount ? per : `${per}, burst ${rate.burst}`;
}

function describeTokens(tokens: NonNullable<Limit['tokens']>, counted: CountTokens): string {
  const what = counted === 'total' ? 'tokens' : `${counted} tokens`;
  return `${tokens.amount} ${what} per ${tokens.unit}`;
}

export interface Rejection {
  /** `consumer 'demo'` or `unauthenticated requests`. */
  who: string;
  /** Set when the limit is the one of this model. */
  model: string | undefined;
  reason: RefusalReason;
  limit: Limit;
  retryAfterMs: number | undefined;
  /** For `quota`: the one spent. */
  quota?: Quota;
  /** Wall clock now (ms since the epoch), for the reset time a quota's message names. */
  wallMs: number;
  views: Views;
  /** Which tokens a budget counts (for the message). */
  counted: CountTokens;
}

/**
 * The 429 in the client's protocol (OpenAI `rate_limit_error`, V2/TF Serving `{"error"}`).
 * A spent token budget answers like a request rate, with its own code and the wait until the
 * budget is above zero again.
 * `Retry-After` is whole seconds, rounded up so a client that obeys it finds a token;
 * `retry-after-ms` is the precise wait, which the OpenAI SDKs prefer.
 */
export function rejection(ctx: BaseContext, r: Rejection): Respond {
  const where = r.model === undefined ? r.who : `${r.who} on model '${r.model}'`;
  const headers = rateHeaders(r.views);
  if (r.reason === 'unavailable') {
    // Fail closed: nothing is known about the limits, so no x-ratelimit headers; a second is a guess at recovery.
    return ctx.fail(503, 'Rate limits cannot be checked right now (the limits store does not answer); retry shortly', {
      code: 'limits_store_unavailable',
      headers: { 'retry-after': '1' },
    });
  }
  if (r.reason === 'quota') {
    const quota = r.quota as Quota;
    const waitMs = Math.max(1, Math.ceil(r.retryAfterMs ?? 1_000));
    headers['retry-after'] = String(Math.ceil(waitMs / 1_000));
    headers['retry-after-ms'] = String(waitMs);
    const what = quota.what === 'requests' ? 'requests' : r.counted === 'total' ? 'tokens' : `${r.counted} tokens`;
    const resets = new Date(Math.round((r.wallMs + waitMs) / 1_000) * 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return ctx.fail(429, `Quota reached for ${where} (${quota.amount} ${what} per ${quota.period}, UTC); it resets at ${resets}`, {
      code: 'insufficient_quota',
      type: 'insufficient_quota',
      headers,
    });
  }
  if (r.reason === 'rate' || r.reason === 'tokens') {
    const waitMs = Math.max(1, Math.ceil(r.retryAfterMs ?? 1_000));
    const seconds = Math.ceil(waitMs / 1_000);
    headers['retry-after'] = String(seconds);
    headers['retry-after-ms'] = String(waitMs);
    if (r.reason === 'tokens') {
      const tokens = r.limit.tokens as NonNullable<Limit['tokens']>;
      return ctx.fail(429, `Token limit reached for ${where} (${describeTokens(tokens, r.counted)}); retry in ${seconds} s`, { code: 'token_rate_limit_exceeded', headers });
    }
    const rate = r.limit.rate as NonNullable<Limit['rate']>;
    return ctx.fail(429, `Rate limit reached for ${where} (${describeRate(rate)}); retry in ${seconds} s`, { code: 'rate_limit_exceeded', headers });
  }
  return ctx.fail(429, `Too many concurrent requests for ${where} (at most ${r.limit.maxConcurrent as number} at a time); retry when one finishes`, {
    code: 'concurrency_limit_exceeded',
    headers,
  });
}
