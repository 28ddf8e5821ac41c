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

export type HookName = 'requestHeaders' | 'requestBody' | 'responseHeaders' | 'responseBody' | 'responseChunk' | 'responseEvent';

export function appliesTo(instance: PluginInstance, protocol: Protocol | undefined): boolean {
  return !instance.protocols || (protocol !== undefined && instance.protocols.has(protocol));
}

export function anyHas(chain: readonly PluginInstance[], hook: HookName): boolean {
  return chain.some((p) => p.hooks[hook] !== undefined);
}
