import { isDeepStrictEqual } from 'node:util';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load.js';
import { createRegistry, type PluginRegistry } from './registry.js';
import type { PluginDef } from '../plugins/sdk/types.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { startExtProcServer, type ExtProcServer, type ExtProcServerOptions } from './server.js';

/**
 * What serves streams in one process: the runtime in force (plugins, routing) and the gRPC
 * server. A reload is two-phase, so that Envoy learns new clusters between building the next
 * runtime and swapping it in (and several worker processes swap together): `prepare` builds,
 * `commit` swaps, `abort` drops what was prepared.
 */
export class DataPlane {
  private pending: { runtime: Runtime; registry: PluginRegistry } | undefined;

  private constructor(
    private current: { runtime: Runtime; registry: PluginRegistry },
    readonly server: ExtProcServer,
    private readonly log: Logger,
    private readonly configDir: string,
    private readonly builtins: readonly PluginDef[],
  ) {}

  /** @param builtins the built-in plugin types (main.ts wires them in: the core knows none) */
  static async start(loaded: LoadedConfig, builtins: readonly PluginDef[], log: Logger, server: Omit<ExtProcServerOptions, 'runtime' | 'log'>): Promise<DataPlane> {
    const configDir = resolve(loaded.path, '..');
    const registry = await createRegistry(builtins, loaded.config.pluginSources, configDir);
    const runtime = await buildRuntime(loaded, registry, log);
    let plane: DataPlane | undefined;
    const grpc = await startExtProcServer({ ...server, log, runtime: () => plane?.runtime ?? runtime });
    plane = new DataPlane({ runtime, registry }, grpc, log, configDir, builtins);
    return plane;
  }

  get runtime(): Runtime {
    return this.current.runtime;
  }

  /** Builds the runtime of `next`; throws (nothing changes) when its plugins refuse it. */
  async prepare(next: LoadedConfig): Promise<Runtime> {
    await this.abort();
    // New plugin sources load now; a module already loaded keeps its code (ESM modules are
    // cached for the life of the process), so editing a plugin's code still needs a restart.
    const registry = isDeepStrictEqual(next.config.pluginSources, this.runtime.config.pluginSources)
      ? this.current.registry
      : await createRegistry(this.builtins, next.config.pluginSources, this.configDir);
    const runtime = await buildRuntime(next, registry, this.log);
    this.pending = { runtime, registry };
    return runtime;
  }

  /** Swaps in what `prepare` built; streams that started on the old runtime keep it until they end. */
  commit(graceMs: number): { previous: Runtime; next: Runtime } {
    if (!this.pending) throw new Error('nothing prepared to commit');
    const previous = this.current.runtime;
    this.current = this.pending;
    this.pending = undefined;
    setTimeout(() => void previous.close(), graceMs).unref();
    return { previous, next: this.current.runtime };
  }

  async abort(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await pending?.runtime.close();
  }

  async shutdown(graceMs: number, delayMs: number): Promise<void> {
    await this.server.shutdown(graceMs, delayMs);
    await this.abort();
    await this.runtime.close();
  }
}
