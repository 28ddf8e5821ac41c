import type { PluginHooks, Protocol } from '../../plugins/sdk/types.js';

/** One configured plugin instance, set up and ready to run. */
export interface PluginInstance {
  readonly name: string;
  readonly type: string;
  readonly hooks: PluginHooks;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  readonly protocols: ReadonlySet<Protocol> | undefined;
}

/** The chains of the config in force (the runtime), as the chain runner reads them. */
export interface Chains {
  /** The instances a request of this protocol runs before its model is known (routing step included). */
  requestChain(protocol: Protocol | undefined): readonly PluginInstance[];
  /** Each model's own chain, joining once the model is known. */
  readonly modelChains: ReadonlyMap<string, readonly PluginInstance[]>;
  /** The instances of a model's own chain that a request of this protocol runs (none for an unknown model). */
  modelChain(model: string, protocol: Protocol | undefined): readonly PluginInstance[];
}

export type HookName = 'requestHeaders' | 'requestBody' | 'responseHeaders' | 'responseBody' | 'responseChunk' | 'responseEvent';

export function appliesTo(instance: PluginInstance, protocol: Protocol | undefined): boolean {
  return !instance.protocols || (protocol !== undefined && instance.protocols.has(protocol));
}
