import type { BaseContext } from '../sdk/index.js';
import type { Scope } from './limit-store.js';
import type { ConsumerLimitsOptions, Policies, Policy } from './options.js';

/** The scopes a request counts in, with those its token usage is charged to. */
export interface ScopeSet {
  readonly scopes: readonly Scope[];
  /** Scopes with a token budget or token quota; undefined when none has. */
  readonly budgets: readonly Scope[] | undefined;
}

/** Who a request counts against: a consumer, or an anonymous key. */
export interface Caller {
  /** Store key: consumers and anonymous clients never share one. */
  readonly key: string;
  readonly consumer: string | undefined;
  readonly policy: Policy;
  /** Scopes of a request whose model has no limit of its own: the caller's own limit, if any. */
  readonly own: ScopeSet;
  /** Scopes per model with a limit of its own, made on first use (model names are the catalog's). */
  readonly onModel: Map<string, ScopeSet>;
}

/** Consumers remembered at most; past this the cache starts over (ids may come from tokens without end). */
const MAX_CACHED_CALLERS = 10_000;

const ANONYMOUS_HEADER_VALUE = /^[\x21-\x7e]{1,128}$/;

/**
 * The caller of each request, with its store keys and scope sets built once per consumer:
 * strings and arrays made anew per request were each a cost on the cold path (new memory to
 * touch, and each new key string hashed again on every Map lookup in the store).
 */
export class Callers {
  private readonly consumers = new Map<string, Caller>();
  private readonly sharedAnonymous: Caller;

  constructor(
    private readonly policies: Policies,
    private readonly anonymousKey: ConsumerLimitsOptions['anonymousKey'],
  ) {
    this.sharedAnonymous = caller('a\0', undefined, policies.anonymous);
  }

  of(ctx: BaseContext): Caller {
    const id = ctx.vars.consumer?.id;
    if (id !== undefined) {
      const known = this.consumers.get(id);
      if (known !== undefined) return known;
      if (this.consumers.size >= MAX_CACHED_CALLERS) this.consumers.clear();
      const made = caller(`c\0${id}`, id, this.policies.forConsumer(id));
      this.consumers.set(id, made);
      return made;
    }
    if (this.anonymousKey === 'shared') return this.sharedAnonymous;
    // The last entry is the one the nearest trusted proxy added; the ones before it are the client's word.
    const value = ctx.request.headers.get(this.anonymousKey.header)?.split(',').at(-1)?.trim() ?? '';
    // One per client: not cached, clients are without number.
    return ANONYMOUS_HEADER_VALUE.test(value) ? caller(`a\0${value}`, undefined, this.policies.anonymous) : this.sharedAnonymous;
  }
}

function caller(key: string, consumer: string | undefined, policy: Policy): Caller {
  return { key, consumer, policy, own: scopeSet(policy.own ? [{ key, limit: policy.own }] : []), onModel: new Map() };
}

/** For messages and logs: `consumer 'demo'` or `unauthenticated requests`. */
export function labelOf(who: Caller): string {
  return who.consumer === undefined ? 'unauthenticated requests' : `consumer '${who.consumer}'`;
}

/** The scopes a request on `model` counts in: the caller's own limit, then the model's, if any. */
export function scopesOf(who: Caller, model: string | undefined): ScopeSet {
  if (model === undefined || who.policy.models.empty) return who.own;
  const known = who.onModel.get(model);
  if (known !== undefined) return known;
  const modelLimit = who.policy.models.match(model);
  const made = modelLimit ? scopeSet([...who.own.scopes, { key: `${who.key}\0${model}`, limit: modelLimit }]) : who.own;
  who.onModel.set(model, made);
  return made;
}

function scopeSet(scopes: Scope[]): ScopeSet {
  const budgets = scopes.filter((s) => s.limit.tokens !== undefined || s.limit.quotas?.some((q) => q.what === 'tokens'));
  return { scopes, budgets: budgets.length > 0 ? budgets : undefined };
}
