import { z } from '../sdk/index.js';
import { globToRegExp } from '../model-access/rules.js';
import type { Period } from './calendar.js';
import { RedisOptions } from './store-options.js';

/** A consumer id (see shared/consumer.ts CONSUMER_ID) with `*` and `?` as wildcards. */
const ConsumerPattern = z
  .string()
  .regex(/^[A-Za-z0-9*?][A-Za-z0-9._:@/*?-]{0,127}$/, 'a consumer id, with * and ? as wildcards');
const ModelPattern = z.string().regex(/^[a-z0-9_*?-]{1,63}$/, 'a model name, with * and ? as wildcards');

const limitFields = {
  /** Token bucket refilled at this many requests per second... */
  requestsPerSecond: z.number().positive().max(1e6).optional(),
  /** ...or per minute (one of the two). */
  requestsPerMinute: z.number().positive().max(6e7).optional(),
  /** Bucket size: requests allowed at once after a quiet spell. Default: the per-second or per-minute number. */
  burst: z.number().int().min(1).max(1e7).optional(),
  /** Requests of this key in flight at once (admitted, not yet ended). */
  maxConcurrent: z.number().int().min(1).max(1e6).optional(),
  /**
   * A budget of OpenAI tokens (as `openai-usage` reads them from the answers), refilled at this
   * many per minute, hour or day (one of the three); it holds one period's worth at most.
   */
  tokensPerMinute: z.number().int().min(1).max(1e12).optional(),
  tokensPerHour: z.number().int().min(1).max(1e12).optional(),
  tokensPerDay: z.number().int().min(1).max(1e12).optional(),
  /** Calendar quotas: requests and OpenAI tokens per UTC day and per UTC month, reset when the window ends. */
  quota: z
    .object({
      requestsPerDay: z.number().int().min(1).max(1e12).optional(),
      requestsPerMonth: z.number().int().min(1).max(1e12).optional(),
      tokensPerDay: z.number().int().min(1).max(1e15).optional(),
      tokensPerMonth: z.number().int().min(1).max(1e15).optional(),
    })
    .strict()
    .refine((q) => Object.values(q).some((v) => v !== undefined), { message: 'set requestsPerDay, requestsPerMonth, tokensPerDay or tokensPerMonth' })
    .optional(),
};

type QuotaFields = { requestsPerDay?: number; requestsPerMonth?: number; tokensPerDay?: number; tokensPerMonth?: number };

type LimitFields = {
  requestsPerSecond?: number;
  requestsPerMinute?: number;
  burst?: number;
  maxConcurrent?: number;
  tokensPerMinute?: number;
  tokensPerHour?: number;
  tokensPerDay?: number;
  quota?: QuotaFields;
};

const TOKEN_UNITS = { tokensPerMinute: 'minute', tokensPerHour: 'hour', tokensPerDay: 'day' } as const;
type TokenUnit = (typeof TOKEN_UNITS)[keyof typeof TOKEN_UNITS];
const UNIT_MS: Record<TokenUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The token field an entry sets, if any. */
function tokenField(l: LimitFields): keyof typeof TOKEN_UNITS | undefined {
  return (Object.keys(TOKEN_UNITS) as (keyof typeof TOKEN_UNITS)[]).find((k) => l[k] !== undefined);
}

function checkRate(l: LimitFields, ctx: z.RefinementCtx): void {
  if (l.requestsPerSecond !== undefined && l.requestsPerMinute !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['requestsPerMinute'], message: 'set requestsPerSecond or requestsPerMinute, not both' });
  }
  if (l.burst !== undefined && l.requestsPerSecond === undefined && l.requestsPerMinute === undefined) {
    ctx.addIssue({ code: 'custom', path: ['burst'], message: 'burst needs requestsPerSecond or requestsPerMinute' });
  }
  const tokens = (Object.keys(TOKEN_UNITS) as (keyof typeof TOKEN_UNITS)[]).filter((k) => l[k] !== undefined);
  if (tokens.length > 1) {
    ctx.addIssue({ code: 'custom', path: [tokens[1] as string], message: 'set one of tokensPerMinute, tokensPerHour, tokensPerDay' });
  }
}

const ModelLimit = z
  .object(limitFields)
  .strict()
  .superRefine(checkRate)
  .refine((l) => compileLimit(l) !== undefined, {
    message: 'set requestsPerSecond, requestsPerMinute, maxConcurrent or a token budget (tokensPerMinute, tokensPerHour, tokensPerDay), or a quota',
  });

/** The limits of one consumer (or of the default, or of anonymous requests). `{}` means unlimited. */
const Entry = z
  .object({
    ...limitFields,
    /** Extra limits per model (name or glob), each with its own bucket per consumer and model. */
    models: z.record(ModelPattern, ModelLimit).default({}),
  })
  .strict()
  .superRefine(checkRate);

export const Options = z
  .object({
    /** Consumers not listed in `consumers`; omitted: they are not limited. */
    default: Entry.optional(),
    /** Consumer id or glob → its limits; replaces `default` entirely. An exact id wins over globs, globs in order. */
    consumers: z.record(ConsumerPattern, Entry).default({}),
    /** Requests no auth plugin identified; omitted: `default` applies to them. */
    anonymous: Entry.optional(),
    /**
     * What anonymous requests are counted by: one `shared` bucket (default; nothing a client
     * sends can give it a fresh one), or the last entry of a header a trusted proxy in front
     * of Envoy sets (e.g. `{ header: x-forwarded-for }`); requests without it share one bucket.
     */
    anonymousKey: z
      .union([
        z.literal('shared'),
        z
          .object({ header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name').transform((h) => h.toLowerCase()) })
          .strict(),
      ])
      .default('shared'),
    /**
     * A request that finds its key at `maxConcurrent` waits this long for one to end before
     * its 429. The end of a streamed answer reaches the gateway a moment after the client has
     * read it, so a client that sends its next request at once would otherwise be refused.
     * Keep it below the instance's `timeoutMs` (200 ms by default); 0 refuses at once.
     */
    waitForSlotMs: z.number().int().min(0).max(1_000).default(50),
    /**
     * What a token budget is charged per answer: prompt + completion tokens (`total`), or only
     * one of the two (completion tokens usually cost more and take the model longer).
     */
    countTokens: z.enum(['total', 'prompt', 'completion']).default('total'),
    /** Keys (consumer, consumer+model, anonymous client) kept at most; idle ones go first. */
    maxKeys: z.number().int().min(100).max(10_000_000).default(100_000),
    /**
     * Where the buckets, in-flight counts, budgets and quotas live: in this process (`memory`,
     * each replica on its own), or in Redis (`redis`, shared by every replica; see `redis`).
     */
    store: z.enum(['memory', 'redis']).default('memory'),
    redis: RedisOptions.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.store === 'redis' && o.redis === undefined) ctx.addIssue({ code: 'custom', path: ['redis'], message: 'store: redis needs redis: { url } (or urlEnv)' });
    if (o.store === 'memory' && o.redis !== undefined) ctx.addIssue({ code: 'custom', path: ['store'], message: 'redis options are set but store is memory: set store: redis' });
  });

export type ConsumerLimitsOptions = z.output<typeof Options>;
export type CountTokens = ConsumerLimitsOptions['countTokens'];
type EntryOptions = z.output<typeof Entry>;

/** A limit ready to apply: rates per millisecond, and the config's words for messages. */
export interface Limit {
  /** Requests: a bucket of `burst` request tokens. */
  readonly rate?: { readonly perMs: number; readonly burst: number; readonly amount: number; readonly unit: 'second' | 'minute' };
  readonly maxConcurrent?: number;
  /** OpenAI tokens: a budget of `amount` (one period's worth), charged after each answer. */
  readonly tokens?: { readonly perMs: number; readonly amount: number; readonly unit: TokenUnit };
  /** Calendar quotas, each counted per UTC window. */
  readonly quotas?: readonly Quota[];
}

/** A calendar quota: at most `amount` requests (or OpenAI tokens) per UTC day or month. */
export interface Quota {
  readonly what: 'requests' | 'tokens';
  readonly period: Period;
  readonly amount: number;
}

const QUOTA_FIELDS = [
  ['requestsPerDay', 'requests', 'day'],
  ['requestsPerMonth', 'requests', 'month'],
  ['tokensPerDay', 'tokens', 'day'],
  ['tokensPerMonth', 'tokens', 'month'],
] as const;

function compileQuotas(q: QuotaFields | undefined): Quota[] {
  if (q === undefined) return [];
  return QUOTA_FIELDS.flatMap(([field, what, period]) => (q[field] === undefined ? [] : [{ what, period, amount: q[field] as number }]));
}

function compileLimit(l: LimitFields): Limit | undefined {
  const amount = l.requestsPerSecond ?? l.requestsPerMinute;
  const unit: 'second' | 'minute' = l.requestsPerSecond !== undefined ? 'second' : 'minute';
  const rate =
    amount === undefined
      ? undefined
      : { perMs: amount / (unit === 'second' ? 1_000 : 60_000), burst: l.burst ?? Math.max(1, Math.ceil(amount)), amount, unit };
  const field = tokenField(l);
  const tokens = field === undefined ? undefined : { perMs: (l[field] as number) / UNIT_MS[TOKEN_UNITS[field]], amount: l[field] as number, unit: TOKEN_UNITS[field] };
  const quotas = compileQuotas(l.quota);
  if (rate === undefined && l.maxConcurrent === undefined && tokens === undefined && quotas.length === 0) return undefined;
  return {
    ...(rate && { rate }),
    ...(l.maxConcurrent !== undefined && { maxConcurrent: l.maxConcurrent }),
    ...(tokens && { tokens }),
    ...(quotas.length > 0 && { quotas }),
  };
}

/** Exact names first, then globs in config order; undefined when nothing matches. */
export class Matcher<T> {
  private readonly exact = new Map<string, T>();
  private readonly globs: [RegExp, T][] = [];

  constructor(entries: Iterable<[string, T]>) {
    for (const [pattern, value] of entries) {
      if (/[*?]/.test(pattern)) this.globs.push([globToRegExp(pattern), value]);
      else this.exact.set(pattern, value);
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.globs.length === 0;
  }

  match(name: string): T | undefined {
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    for (const [re, value] of this.globs) if (re.test(name)) return value;
    return undefined;
  }
}

/** One entry of the config, compiled: its own limit and its per-model limits. */
export interface Policy {
  /** The consumer's (or anonymous key's) own limit across models. */
  readonly own: Limit | undefined;
  readonly models: Matcher<Limit>;
  /** True when nothing is limited: the plugin does nothing for these requests. */
  readonly unlimited: boolean;
}

function compileEntry(e: EntryOptions | undefined): Policy {
  const own = e ? compileLimit(e) : undefined;
  const models = new Matcher(Object.entries(e?.models ?? {}).map(([p, l]) => [p, compileLimit(l) as Limit] as [string, Limit]));
  return { own, models, unlimited: own === undefined && models.empty };
}

/** Which entry applies to whom. */
export class Policies {
  private readonly consumers: Matcher<Policy>;
  private readonly fallback: Policy;
  readonly anonymous: Policy;
  /** Some entry or per-model limit has a token budget or token quota (which needs `openai-usage` in the chain). */
  readonly tokenBudgets: boolean;

  constructor(options: ConsumerLimitsOptions) {
    this.consumers = new Matcher(Object.entries(options.consumers).map(([p, e]) => [p, compileEntry(e)] as [string, Policy]));
    this.fallback = compileEntry(options.default);
    this.anonymous = options.anonymous ? compileEntry(options.anonymous) : this.fallback;
    const entries = [options.default, options.anonymous, ...Object.values(options.consumers)];
    const spendsTokens = (l: LimitFields) => tokenField(l) !== undefined || l.quota?.tokensPerDay !== undefined || l.quota?.tokensPerMonth !== undefined;
    this.tokenBudgets = entries.some((e) => e !== undefined && [e, ...Object.values(e.models)].some(spendsTokens));
  }

  forConsumer(id: string): Policy {
    return this.consumers.match(id) ?? this.fallback;
  }
}
