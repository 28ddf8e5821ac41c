import { ROUTER_TYPE, RoutingOptions } from '../../plugins/sdk/routing-options.js';
import type { PluginInstanceConfig } from '../config/schema.js';
import { appliesTo, type PluginInstance } from '../pipeline/chain.js';
import { routingStep } from './stage.js';

/** Who answers for the routing step when no `model-router` entry names it (outcome.answeredBy, logs). */
const CORE_NAME = 'gateway';

/**
 * The global chain with the core's routing step in its place: where the first `model-router`
 * entry is (it keeps that entry's name, so answers, logs and metrics read as before, and its
 * options), or after the global chain's plugins, so authentication has run (401 before 404, and
 * the consumer a sticky key reads is known) and the model's own chain follows right after.
 */
export function withRoutingStep(globalChain: readonly PluginInstance[], configured: readonly PluginInstanceConfig[]): PluginInstance[] {
  const at = globalChain.findIndex((p) => p.type === ROUTER_TYPE);
  const marker = at === -1 ? undefined : globalChain[at];
  const entry = marker && configured.find((c) => (c.name ?? c.type) === marker.name);
  // Already checked by the compatibility plugin's own (same) schema when the config loaded.
  const settings = RoutingOptions.parse(entry?.options ?? {});
  const step: PluginInstance = {
    name: marker?.name ?? CORE_NAME,
    type: ROUTER_TYPE,
    // The model Envoy read from an OpenAI body is what the step would read, unless a plugin before it may rewrite the body.
    hooks: routingStep(settings, { bodyUntouchedBefore: !(at === -1 ? globalChain : globalChain.slice(0, at)).some((p) => p.hooks.requestBody && appliesTo(p, 'openai')) }),
    timeoutMs: marker?.timeoutMs ?? 1_000,
    failOpen: false,
    protocols: undefined,
  };
  const chain = [...globalChain];
  if (at === -1) chain.push(step);
  else chain[at] = step;
  return chain;
}
