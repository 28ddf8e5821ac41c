import { Counter, Registry } from 'prom-client';
import type { PluginCounter, PluginMetrics } from '../plugins/sdk/types.js';

/**
 * The plugins' own metrics, one registry per process: plugins are set up again on every
 * reload, and a counter must keep counting across reloads, so it outlives the runtime that
 * asked for it. `/metrics` serves it after the gateway's own registry.
 */
export const pluginRegistry = new Registry();

export const pluginMetrics: PluginMetrics = {
  counter<L extends string>(definition: { name: string; help: string; labelNames: readonly L[] }): PluginCounter<L> {
    if (!/^gateway_[a-z0-9_]+_total$/.test(definition.name)) throw new Error(`plugin counter "${definition.name}": names are gateway_<what>_total`);
    const existing = pluginRegistry.getSingleMetric(definition.name);
    if (existing instanceof Counter) {
      const labels = (existing as unknown as { labelNames: readonly string[] }).labelNames;
      if (labels.join() !== definition.labelNames.join()) throw new Error(`plugin counter "${definition.name}" exists with labels ${labels.join(', ')}`);
      return existing as Counter<L>;
    }
    return new Counter<L>({ name: definition.name, help: definition.help, labelNames: [...definition.labelNames], registers: [pluginRegistry] });
  },
};
