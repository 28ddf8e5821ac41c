import type { TokenUsage } from '../sdk/index.js';
import { definePlugin, type BaseContext, type PluginDef, type RequestVars, type Respond } from '../sdk/index.js';
import { jsonObjectOrUndefined } from '../shared/json-body.js';
import { CarryOver } from './carry-over.js';
import { Options, Policies, type CountTokens, type Policy } from './options.js';
import { rateHeaders, rejection } from './responses.js';
import type { Admission, Lease, LimitStore, Scope, Views } from './limit-store.js';
import { openStore, storeIdentity } from './open-store.js';
import { KeyStore } from './store.js';
import { usageSourceProblem } from './usage-source.js';

/** Who a request counts against: a consumer, or an anonymous key. */
interface Caller {
  /** Store key: consumers and anonymous clients never share one. */
  readonly key: string;
  /** For messages and logs: `consumer 'demo'` or `unauthenticated requests`. */
  readonly label: string;
  readonly consumer: string | undefined;
  readonly policy: Policy;
}

/** Per-request state: waiting for the body to name the model, or admitted. */
type Pending = { readonly deferred: Caller };
type Admitted = {
  readonly lease: Lease;
  readonly views: Views;
  /** Scopes with a token budget or token quota this request's usage is still to be charged to; cleared once charged. */
  budgets: readonly Scope[] | undefined;
};
type Refused = Admission & { ok: false };

export interface ConsumerLimitsFactoryOptions {
  /** Monotonic clock in milliseconds; tests pass their own. Default `performance.now`. */
  now?: () => number;
  /** Wall clock (ms since the epoch) for calendar quotas; tests pass their own. Default `Date.now`. */
  wallNow?: () => number;
  /** Plugin type; the built-in is `consumer-limits` (tests register copies under another type). */
  type?: string;
  /** Called with each instance's in-process store when it is set up: tests and the fuzzer count slots in flight. */
  onStore?: (store: Pick<KeyStore, 'totalInflight'>) => void;
}

const ANONYMOUS_HEADER_VALUE = /^[\x21-\x7e]{1,128}$/;

/**
 * A limits plugin with its own clock and its own state carried across reloads. The gateway
 * registers one (the default export); tests make their own with a controllable clock.
 */
export function createConsumerLimits(factory: ConsumerLimitsFactoryOptions = {}): PluginDef<typeof Options> {
  const now = factory.now ?? (() => performance.now());
  const wall = factory.wallNow ?? (() => Date.now());
  const carried = new CarryOver<LimitStore>((store) => void store.close());

  return definePlugin({
    type: factory.type ?? 'consumer-limits',
    description: 'Per-consumer (and per-model) request rates, concurrency and token budgets; 429 in the client protocol beyond them',
    options: Options,
    setup(options, host) {
      const policies = new Policies(options);
      const problem = policies.tokenBudgets ? usageSourceProblem(host) : undefined;
      if (problem !== undefined) throw new Error(problem);
      // A reload that changes where the state lives (memory, or another Redis) starts a new store.
      const claim = carried.claim(`${host.name}\0${storeIdentity(options)}`, host.models, () => openStore(options, host));
      const store = claim.value;
      if (store instanceof KeyStore) {
        store.maxKeys = options.maxKeys;
        factory.onStore?.(store);
      }
      if (!claim.shared) {
        host.log.warn({ plugin: host.name }, 'another consumer-limits instance has this name in the config; this one starts from zero on every reload (give it its own name)');
      }
      const requests = new WeakMap<RequestVars, Pending | Admitted>();

      const caller = (ctx: BaseContext): Caller => {
        const id = ctx.vars.consumer?.id;
        if (id !== undefined) return { key: `c\0${id}`, label: `consumer '${id}'`, consumer: id, policy: policies.forConsumer(id) };
        let client = '';
        if (options.anonymousKey !== 'shared') {
          // The last entry is the one the nearest trusted proxy added; the ones before it are the client's word.
          const value = ctx.request.headers.get(options.anonymousKey.header)?.split(',').at(-1)?.trim() ?? '';
          if (ANONYMOUS_HEADER_VALUE.test(value)) client = value;
        }
        return { key: `a\0${client}`, label: 'unauthenticated requests', consumer: undefined, policy: policies.anonymous };
      };

      const scopesOf = (who: Caller, model: string | undefined): Scope[] => {
        const scopes: Scope[] = [];
        if (who.policy.own) scopes.push({ key: who.key, limit: who.policy.own });
        const modelLimit = model === undefined ? undefined : who.policy.models.match(model);
        if (modelLimit) scopes.push({ key: `${who.key}\0${model as string}`, limit: modelLimit });
        return scopes;
      };

      const refuse = (ctx: BaseContext, who: Caller, model: string | undefined, scopes: readonly Scope[], result: Refused): Respond => {
        const onModel = result.scope === 1 || !who.policy.own ? model : undefined;
        const retryAfterMs = result.retryAfterMs === undefined ? undefined : Math.ceil(result.retryAfterMs);
        const quota = result.quota && `${result.quota.what}Per${result.quota.period === 'day' ? 'Day' : 'Month'}`;
        ctx.log.info({ consumer: who.consumer, model: onModel, limit: result.reason, quota, retryAfterMs }, REFUSED[result.reason]);
        const limit = (scopes[result.scope] as Scope).limit;
        return rejection(ctx, {
          who: who.label,
          model: onModel,
          reason: result.reason,
          limit,
          retryAfterMs: result.retryAfterMs,
          quota: result.quota,
          wallMs: wall(),
          views: result.views,
          counted: options.countTokens,
        });
      };

      /** Remembers the admission for the request's later hooks (headers, release, charge). */
      const keep = (ctx: BaseContext, scopes: readonly Scope[], lease: Lease, views: Views): undefined => {
        // One lease per request: the core never admits twice (phase order), but a lease
        // overwritten here would never be given back.
        const held = requests.get(ctx.vars);
        if (isAdmitted(held)) store.release(held.lease);
        const budgets = spendsTokens(ctx) ? scopes.filter((s) => s.limit.tokens !== undefined || s.limit.quotas?.some((q) => q.what === 'tokens')) : [];
        requests.set(ctx.vars, { lease, views, budgets: budgets.length > 0 ? budgets : undefined });
        return undefined;
      };

      /**
       * Charges the answer's token usage to its budgets, once, as soon as it is known: before
       * the last bytes of the answer leave, so a client that waits for each answer finds its
       * charge there; else in `end`.
       */
      const charge = (ctx: BaseContext): void => {
        const state = requests.get(ctx.vars);
        if (!isAdmitted(state) || state.budgets === undefined || ctx.vars.usage === undefined) return;
        const amount = counted(ctx.vars.usage, options.countTokens);
        if (amount > 0) store.charge(state.budgets, amount, now(), wall());
        state.budgets = undefined;
      };

      /** Admitted, or refused: a lease taken for a request that ended meanwhile goes straight back. */
      const decide = (ctx: BaseContext, who: Caller, model: string | undefined, scopes: readonly Scope[], result: Admission, waited: boolean): Respond | undefined => {
        if (!result.ok) return refuse(ctx, who, model, scopes, result);
        // The request ended while its admission was decided (client gone, hook timed out): its
        // end hook has run, so a slot kept now would never be given back. Only an admission that
        // waited (the store, a slot) can see that; reading ctx.signal otherwise costs an AbortController.
        if (waited && ctx.signal.aborted) {
          store.release(result.lease);
          return undefined;
        }
        return keep(ctx, scopes, result.lease, result.views);
      };

      const admit = (ctx: BaseContext, who: Caller, model: string | undefined): Respond | undefined | Promise<Respond | undefined> => {
        const scopes = scopesOf(who, model);
        if (scopes.length === 0) return undefined;
        const tokens = spendsTokens(ctx);
        const first = store.admit(scopes, now(), tokens, wall());
        const settle = async (result: Admission): Promise<Respond | undefined> => {
          // Only a concurrency limit frees up soon enough to wait for; a rate, budget or quota refuses at once.
          if (result.ok || result.reason !== 'concurrency' || options.waitForSlotMs === 0) return decide(ctx, who, model, scopes, result, true);
          await store.waitForSlot(result.key, options.waitForSlotMs, ctx.signal);
          if (ctx.signal.aborted) return undefined;
          return decide(ctx, who, model, scopes, await store.admit(scopes, now(), tokens, wall()), true);
        };
        if (first instanceof Promise) return first.then(settle);
        if (first.ok || first.reason !== 'concurrency' || options.waitForSlotMs === 0) return decide(ctx, who, model, scopes, first, false);
        return settle(first);
      };

      return {
        needs: {
          requestBody: (_request, _route, vars) => isPending(requests.get(vars)),
          // Only to charge tokens: openai-usage reads the same body, so this adds no round trip.
          responseBody: (response, _request, vars) => {
            const state = requests.get(vars);
            return response.status === 200 && isAdmitted(state) && state.budgets !== undefined;
          },
        },

        requestHeaders(ctx) {
          const who = caller(ctx);
          if (who.policy.unlimited) return undefined;
          if (ctx.route.model === undefined && !who.policy.models.empty) {
            // OpenAI names the model in the body: admit once the router has read it, all limits at once.
            if (ctx.request.protocol === 'openai' && ctx.request.hasBody) {
              requests.set(ctx.vars, { deferred: who });
              return undefined;
            }
            const target = ctx.request.target;
            if (target?.model !== undefined) throw misplaced();
          }
          return admit(ctx, who, ctx.route.model);
        },

        requestBody(ctx) {
          const state = requests.get(ctx.vars);
          if (!isPending(state)) return undefined;
          requests.delete(ctx.vars);
          // A body that names a model the router has not resolved: this instance runs before the router.
          if (ctx.route.model === undefined && typeof jsonObjectOrUndefined(ctx)?.model === 'string') throw misplaced();
          return admit(ctx, state.deferred, ctx.route.model);
        },

        responseHeaders(ctx) {
          // Response headers reach the ext-proc on every request it saw: this adds no round trip.
          const state = requests.get(ctx.vars);
          if (!isAdmitted(state)) return;
          // A whole answer is done with the model. Releasing now, before the client can see it,
          // means its next request finds the slot free; a stream holds its slot until it ends.
          if (!ctx.response.streaming) store.release(state.lease);
          for (const [name, value] of Object.entries(rateHeaders(state.views))) ctx.headers.set(name, value);
        },

        // Charging changes nothing in this answer; the gateway runs it before any later request (PluginHooks.observesResponseBody).
        observesResponseBody: true,
        // A whole answer: its one chunk comes after every responseBody hook, so after openai-usage read it.
        responseChunk(ctx) {
          if (ctx.endOfStream && !ctx.response.streaming) charge(ctx);
        },

        // A stream: its usage chunk comes before `[DONE]`.
        responseEvent(ctx) {
          if (ctx.done) charge(ctx);
        },

        end(ctx) {
          const state = requests.get(ctx.vars);
          if (state === undefined) return;
          charge(ctx); // a stream cut after its usage chunk, or one without [DONE]
          requests.delete(ctx.vars);
          if (isAdmitted(state)) store.release(state.lease);
        },

        close() {
          claim.release();
        },
      };
    },
  });
}

const REFUSED = {
  rate: 'request over its rate limit',
  concurrency: 'request over its concurrency limit',
  tokens: 'request over its token limit',
  quota: 'request over its calendar quota',
  unavailable: 'limits store unavailable; request refused (onFailure: closed)',
} as const;

/** Only OpenAI answers report token usage: budgets neither refuse nor charge other protocols. */
function spendsTokens(ctx: BaseContext): boolean {
  return ctx.request.protocol === 'openai';
}

function counted(usage: TokenUsage, which: CountTokens): number {
  return which === 'prompt' ? usage.prompt : which === 'completion' ? usage.completion : usage.prompt + usage.completion;
}

function isPending(state: Pending | Admitted | undefined): state is Pending {
  return state !== undefined && 'deferred' in state;
}

function isAdmitted(state: Pending | Admitted | undefined): state is Admitted {
  return state !== undefined && 'lease' in state;
}

function misplaced(): Error {
  return new Error('consumer-limits has per-model limits but ran before the model was resolved; place it after model-router');
}

/**
 * Per-consumer request rates (token buckets), concurrency, OpenAI token budgets and calendar
 * quotas, per ext-proc process or shared in Redis. Place it after the auth plugins and
 * model-router. See README.md.
 */
export default createConsumerLimits();
