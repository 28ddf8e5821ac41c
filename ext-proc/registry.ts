import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { PluginDef } from '../plugins/sdk/types.js';
import { ConfigError } from './config/load.js';

export interface PluginRegistry {
  get(type: string): PluginDef | undefined;
  types(): string[];
}

function isPluginDef(value: unknown): value is PluginDef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === 'string' && typeof v.setup === 'function' && typeof v.options === 'object' && v.options !== null;
}

/** A module may export a definition as default, as `plugin`, or several as `plugins`. */
function defsOf(mod: Record<string, unknown>): PluginDef[] {
  const found: PluginDef[] = [];
  for (const candidate of [mod.default, mod.plugin]) if (isPluginDef(candidate)) found.push(candidate);
  if (Array.isArray(mod.plugins)) found.push(...mod.plugins.filter(isPluginDef));
  return found;
}

async function importSource(source: string, configDir: string): Promise<PluginDef[]> {
  const looksLikePath = source.startsWith('.') || isAbsolute(source);
  if (!looksLikePath) {
    // An npm package, resolved from the config's folder first so a deployment can vendor it.
    const require = createRequire(join(configDir, 'noop.js'));
    let entry: string;
    try {
      entry = require.resolve(source);
    } catch {
      entry = createRequire(import.meta.url).resolve(source);
    }
    return defsOf((await import(pathToFileURL(entry).href)) as Record<string, unknown>);
  }
  const dir = resolve(configDir, source);
  const info = await stat(dir);
  if (info.isFile()) return defsOf((await import(pathToFileURL(dir).href)) as Record<string, unknown>);
  // A directory of plugins: each sub-folder with an index.(ts|js), or each file in it.
  const defs: PluginDef[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.endsWith('.test.ts') || entry.name.startsWith('.')) continue;
    let file: string | undefined;
    if (entry.isDirectory()) {
      for (const index of ['index.ts', 'index.js', 'index.mjs']) {
        const candidate = join(dir, entry.name, index);
        if (await stat(candidate).then(() => true, () => false)) {
          file = candidate;
          break;
        }
      }
    } else if (/\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      file = join(dir, entry.name);
    }
    if (file) defs.push(...defsOf((await import(pathToFileURL(file).href)) as Record<string, unknown>));
  }
  return defs;
}

export async function createRegistry(
  builtins: readonly PluginDef[],
  sources: readonly string[] = [],
  configDir = process.cwd(),
): Promise<PluginRegistry> {
  const byType = new Map<string, PluginDef>();
  const add = (def: PluginDef, origin: string) => {
    if (byType.has(def.type)) throw new ConfigError(`${origin}: plugin type "${def.type}" is already registered`);
    byType.set(def.type, def);
  };
  for (const def of builtins) add(def, 'built-in');
  for (const [i, source] of sources.entries()) {
    let defs: PluginDef[];
    try {
      defs = await importSource(source, configDir);
    } catch (err) {
      throw new ConfigError(`pluginSources[${i}]: cannot load "${source}": ${(err as Error).message}`);
    }
    if (defs.length === 0) throw new ConfigError(`pluginSources[${i}]: "${source}" exports no plugin (export default definePlugin(...))`);
    for (const def of defs) add(def, `pluginSources[${i}]`);
  }
  return { get: (type) => byType.get(type), types: () => [...byType.keys()].sort() };
}
