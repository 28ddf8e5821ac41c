import { Options, Policies } from './options.js';

/** A consumer's own configured limits, as an operator reads them (the console shows these). */
export interface ConsumerLimitSummary {
  requestLimit?: { amount: number; unit: string };
  tokenBudget?: { amount: number; unit: string };
}

/**
 * The first `consumer-limits` instance's limits per consumer id ('' is the anonymous
 * consumer), or undefined when the chain has none. Structural input, so the core can call it
 * without importing the config schema into a plugin.
 */
export function describeConsumerLimits(
  plugins: readonly { type: string; options?: unknown }[],
): ((consumer: string) => ConsumerLimitSummary) | undefined {
  const p = plugins.find((x) => x.type === 'consumer-limits');
  const parsed = p ? Options.safeParse(p.options ?? {}) : undefined;
  if (!parsed?.success) return undefined;
  const policies = new Policies(parsed.data);
  return (id) => {
    const own = (id === '' ? policies.anonymous : policies.forConsumer(id))?.own;
    return {
      ...(own?.rate && { requestLimit: { amount: own.rate.amount, unit: own.rate.unit } }),
      ...(own?.tokens && { tokenBudget: { amount: own.tokens.amount, unit: own.tokens.unit } }),
    };
  };
}
