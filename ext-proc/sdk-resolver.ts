import { register } from 'node:module';

/** Run from the TypeScript sources (a loader is active), or from the build in dist/ (plain JavaScript). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The specifiers plugin authors import the SDK by (package.json `exports` of this repo). From
 * the build, the SDK is dist/sdk/index.js, which shares its chunks with the running gateway.
 */
export const SDK_MODULES: Readonly<Record<string, string>> = {
  '@inference-gateway/sdk': new URL(FROM_SOURCE ? '../plugins/sdk/index.ts' : './sdk/index.js', import.meta.url).href,
  '@inference-gateway/sdk/shared': new URL(FROM_SOURCE ? '../plugins/sdk/shared.ts' : './sdk/shared.js', import.meta.url).href,
  // The name before the SDK was its own package, for plugins written against it.
  'inference-gateway/sdk': new URL(FROM_SOURCE ? '../plugins/sdk/index.ts' : './sdk/index.js', import.meta.url).href,
  // Tests only, always from the sources (dist/ and ext-proc/ are both one level below the root).
  '@inference-gateway/sdk/testing': new URL('../plugins/sdk/testing.ts', import.meta.url).href,
  'inference-gateway/sdk/testing': new URL('../plugins/sdk/testing.ts', import.meta.url).href,
};

let typeScriptLoader: Promise<void> | undefined;

/**
 * Team plugins may be TypeScript. The built gateway runs without a loader; it registers tsx
 * the first time a plugin file needs it (and never when every plugin is JavaScript).
 */
export function loadsAsTypeScript(file: string): Promise<void> {
  if (FROM_SOURCE || !/\.[cm]?tsx?$/.test(file)) return Promise.resolve();
  typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => void register());
  return typeScriptLoader;
}

// Plain JS on purpose: it runs in Node's loader thread, before any TypeScript loader applies.
const HOOKS = `
let modules = {};
export function initialize(data) { modules = data; }
export async function resolve(specifier, context, next) {
  // Hand the mapped URL on (no short-circuit) so the TypeScript loader still resolves it.
  return next(modules[specifier] ?? specifier, context);
}`;

let provided = false;

/**
 * Makes `import ... from 'inference-gateway/sdk'` in a team's plugin resolve to this
 * gateway's own SDK, wherever the plugin lives and whatever copy it was developed against.
 * The running gateway is the SDK (like a peer dependency): one zod, one PluginError, one
 * set of types at runtime.
 */
export function provideSdkToPlugins(): void {
  if (provided) return;
  provided = true;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { parentURL: import.meta.url, data: SDK_MODULES });
}
