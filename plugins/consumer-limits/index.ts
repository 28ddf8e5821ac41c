import type { TokenUsage } from '../sdk/index.js';
import { definePlugin, type BaseContext, type PluginDef, type Respond } from '../sdk/index.js';
import { jsonObjectOrUndefined } from '../shared/json-body.js';
import { Callers, labelOf, scopesOf, type Caller, type ScopeSet } from './callers.js';
import { CarryOver } from './carry-over.js';
import { Options, Policies, type CountTokens } from './options.js';
import { rejection, writeRateHeaders } from './responses.js';
import type { Admission, Lease, LimitStore, Scope, Views } from './limit-store.js';
import { openStore, storeIdentity } from './open-store.js';
import { RequestSlot } from './request-slot.js';
import { KeyStore } from './store.js';
import { usageSourceProblem } from './usage-source.js';

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
      const requests = new RequestSlot<Pending | Admitted>(host.name);

      const callers = new Callers(policies, options.anonymousKey);

      const refuse = (ctx: BaseContext, who: Caller, model: string | undefined, scopes: readonly Scope[], result: Refused): Respond => {
        const onModel = result.scope === 1 || !who.policy.own ? model : undefined;
        const retryAfterMs = result.retryAfterMs === undefined ? undefined : Math.ceil(result.retryAfterMs);
        const quota = result.quota && `${result.quota.what}Per${result.quota.period === 'day' ? 'Day' : 'Month'}`;
        ctx.log.info({ consumer: who.consumer, model: onModel, limit: result.reason, quota, retryAfterMs }, REFUSED[result.reason]);
        const limit = (scopes[result.scope] as Scope).limit;
        return rejection(ctx, {
          who: labelOf(who),
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
      const keep = (ctx: BaseContext, set: ScopeSet, lease: Lease, views: Views, tokens: boolean): undefined => {
        // One lease per request: the core never admits twice (phase order), but a lease
        // overwritten here would never be given back.
        const held = requests.get(ctx.vars);
        if (isAdmitted(held)) store.release(held.lease);
        requests.set(ctx.vars, { lease, views, budgets: tokens ? set.budgets : undefined });
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
      const decide = (ctx: BaseContext, who: Caller, model: string | undefined, set: ScopeSet, result: Admission, waited: boolean): Respond | undefined => {
        if (!result.ok) return refuse(ctx, who, model, set.scopes, result);
        // The request ended while its admission was decided (client gone, hook timed out): its
        // end hook has run, so a slot kept now would never be given back. Only an admission that
        // waited (the store, a slot) can see that; reading ctx.signal otherwise costs an AbortController.
        if (waited && ctx.signal.aborted) {
          store.release(result.lease);
          return undefined;
        }
        return keep(ctx, set, result.lease, result.views, spendsTokens(ctx));
      };

      /** Whether a refusal is worth waiting out: only a concurrency limit frees up soon enough; a rate, budget or quota refuses at once. */
      const waitsForSlot = (result: Admission): boolean => !result.ok && result.reason === 'concurrency' && options.waitForSlotMs > 0;

      /** An admission that waits: for the store (Redis), or for a slot of its key, then once more. */
      const settle = async (ctx: BaseContext, who: Caller, model: string | undefined, set: ScopeSet, result: Admission): Promise<Respond | undefined> => {
        if (result.ok || !waitsForSlot(result)) return decide(ctx, who, model, set, result, true);
        await store.waitForSlot(result.key, options.waitForSlotMs, ctx.signal);
        if (ctx.signal.aborted) return undefined;
        return decide(ctx, who, model, set, await store.admit(set.scopes, now(), spendsTokens(ctx), wall()), true);
      };

      const admit = (ctx: BaseContext, who: Caller, model: string | undefined): Respond | undefined | Promise<Respond | undefined> => {
        const set = scopesOf(who, model);
        if (set.scopes.length === 0) return undefined;
        const tokens = spendsTokens(ctx);
        const first = store.admit(set.scopes, now(), tokens, wall());
        if (first instanceof Promise) return first.then((result) => settle(ctx, who, model, set, result));
        // Admitted at once (nearly every request): kept without decide's checks, which only a refusal or a wait needs.
        if (first.ok) return keep(ctx, set, first.lease, first.views, tokens);
        if (!waitsForSlot(first)) return decide(ctx, who, model, set, first, false);
        return settle(ctx, who, model, set, first);
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
          const who = callers.of(ctx);
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
          requests.clear(ctx.vars);
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
          writeRateHeaders(ctx.headers, state.views);
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
          requests.clear(ctx.vars);
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
