import type { ConfiguredPlugin, PluginHost } from '../sdk/index.js';

const forcesStreamUsage = (p: ConfiguredPlugin): boolean =>
  typeof p.options === 'object' && p.options !== null && (p.options as { forceStreamUsage?: unknown }).forceStreamUsage === true;

/**
 * Token budgets are charged from `ctx.vars.usage`, which only `openai-usage` sets. Without it
 * nothing is ever charged; without its `forceStreamUsage`, a client that streams without
 * asking for usage is never charged: either way the budget silently does not hold. Returns
 * why, for the config error, or undefined when every OpenAI model this instance sees is covered.
 */
export function usageSourceProblem(host: PluginHost): string | undefined {
  const usage = (chain: readonly ConfiguredPlugin[] | undefined) => (chain ?? []).filter((p) => p.type === 'openai-usage');
  const global = usage(host.chains.global);
  // A global instance sees every model; one in a model's chain sees only that model.
  const models = (host.modelChain === undefined ? host.models.names() : [host.modelChain]).filter((m) => host.models.get(m)?.protocol === 'openai');
  const uncovered: string[] = [];
  const unforced = new Set<string>();
  for (const model of models) {
    const readers = [...global, ...usage(host.chains.models[model])];
    if (readers.length === 0) uncovered.push(model);
    else if (!readers.some(forcesStreamUsage)) for (const r of readers) unforced.add(r.name);
  }
  if (uncovered.length > 0) {
    return (
      `token budgets are charged from the token usage the openai-usage plugin reads, and no openai-usage instance runs for model(s) ${uncovered.join(', ')}: ` +
      'add `{ type: openai-usage, options: { forceStreamUsage: true } }` to the global chain'
    );
  }
  if (unforced.size > 0) {
    return (
      `token budgets need openai-usage instance(s) ${[...unforced].map((n) => `'${n}'`).join(', ')} to set \`forceStreamUsage: true\`: ` +
      'without it a streamed answer whose client did not ask for usage is never charged'
    );
  }
  return undefined;
}
