import { Options, Policies } from './options.js';

/** A consumer's own limits as configured, in the config's words (for the gateway's console). */
export interface ConfiguredLimits {
  requestLimit?: { amount: number; unit: string };
  tokenBudget?: { amount: number; unit: string };
}

/**
 * Reads the first `consumer-limits` instance of a chain: a consumer id ('' for requests no
 * auth plugin identified) → its own request limit and token budget. Undefined when the chain
 * has no valid instance.
 */
export function configuredLimits(chain: readonly { type: string; options?: unknown }[]): ((consumer: string) => ConfiguredLimits) | undefined {
  const instance = chain.find((p) => p.type === 'consumer-limits');
  const parsed = instance ? Options.safeParse(instance.options ?? {}) : undefined;
  if (!parsed?.success) return undefined;
  const policies = new Policies(parsed.data);
  return (consumer) => {
    const own = (consumer === '' ? policies.anonymous : policies.forConsumer(consumer)).own;
    return {
      ...(own?.rate && { requestLimit: { amount: own.rate.amount, unit: own.rate.unit } }),
      ...(own?.tokens && { tokenBudget: { amount: own.tokens.amount, unit: own.tokens.unit } }),
    };
  };
}
