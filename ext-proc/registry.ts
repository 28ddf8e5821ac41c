import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginDef } from '../plugins/sdk/types.js';
import { ConfigError } from './config/load.js';
import { loadsAsTypeScript, provideSdkToPlugins } from './sdk-resolver.js';

export interface PluginRegistry {
  get(type: string): PluginDef | undefined;
  types(): string[];
}

const GATEWAY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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

const exists = (path: string) => stat(path).then(() => true, () => false);
const isDir = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);

/** The entry of a package folder: `exports["."]` (import/default condition), then `main`, then index.*. */
async function packageEntry(dir: string): Promise<string | undefined> {
  const pkgPath = join(dir, 'package.json');
  if (await exists(pkgPath)) {
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { exports?: unknown; main?: unknown };
    const dot = typeof pkg.exports === 'object' && pkg.exports !== null && '.' in pkg.exports ? (pkg.exports as Record<string, unknown>)['.'] : pkg.exports;
    const target =
      typeof dot === 'string'
        ? dot
        : typeof dot === 'object' && dot !== null
          ? ((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default)
          : pkg.main;
    if (typeof target === 'string') return resolve(dir, target);
  }
  for (const index of ['index.ts', 'index.js', 'index.mjs']) {
    if (await exists(join(dir, index))) return join(dir, index);
  }
  return undefined;
}

/** `node_modules/<name>` seen from the config's folder upwards, then from the gateway's own install. */
async function findPackage(name: string, configDir: string): Promise<string> {
  for (const start of [configDir, GATEWAY_ROOT]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (await exists(join(candidate, 'package.json'))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`npm package "${name}" is not installed (looked in node_modules from ${configDir} and from the gateway)`);
}

const importDefs = async (file: string) => {
  await loadsAsTypeScript(file);
  return defsOf((await import(pathToFileURL(file).href)) as Record<string, unknown>);
};

const SKIPPED_FILE = /(?:\.test|\.spec|\.config|\.d)\.[cm]?[jt]s$/;

/**
 * A source is an npm package name, a plugin file, a plugin package folder (one with a
 * package.json or an index.*), or a folder of such plugin folders and files.
 */
async function importSource(source: string, configDir: string): Promise<PluginDef[]> {
  const looksLikePath = source.startsWith('.') || isAbsolute(source);
  const path = looksLikePath ? resolve(configDir, source) : await findPackage(source, configDir);
  if (!(await isDir(path))) return importDefs(path);
  const entry = await packageEntry(path);
  if (entry) return importDefs(entry);
  if (!looksLikePath) throw new Error(`package "${source}" has no entry point (exports, main or index.*)`);

  const defs: PluginDef[] = [];
  for (const dirent of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (dirent.name.startsWith('.') || dirent.name === 'node_modules') continue;
    const full = join(path, dirent.name);
    if (dirent.isDirectory()) {
      const sub = await packageEntry(full);
      if (sub) defs.push(...(await importDefs(sub)));
    } else if (/\.(ts|js|mjs)$/.test(dirent.name) && !SKIPPED_FILE.test(dirent.name)) {
      defs.push(...(await importDefs(full)));
    }
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
  if (sources.length > 0) provideSdkToPlugins();
  for (const [i, source] of sources.entries()) {
    let defs: PluginDef[];
    try {
      defs = await importSource(source, configDir);
    } catch (err) {
      throw new ConfigError(`pluginSources[${i}]: cannot load "${source}": ${(err as Error).message}`);
    }
    if (defs.length === 0) throw new ConfigError(`pluginSources[${i}]: "${source}" exports no plugin (export default definePlugin(...))`);
    for (const def of defs) add(def, `pluginSources[${i}] ("${source}")`);
  }
  return { get: (type) => byType.get(type), types: () => [...byType.keys()].sort() };
}
