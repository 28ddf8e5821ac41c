import { register } from 'node:module';

/** The specifiers plugin authors import the SDK by (package.json `exports` of this repo). */
export const SDK_MODULES: Readonly<Record<string, string>> = {
  '@inference-gateway/sdk': new URL('../plugins/sdk/index.ts', import.meta.url).href,
  '@inference-gateway/sdk/testing': new URL('../plugins/sdk/testing.ts', import.meta.url).href,
  '@inference-gateway/sdk/shared': new URL('../plugins/sdk/shared.ts', import.meta.url).href,
  // The names before the SDK was its own package, for plugins written against them.
  'inference-gateway/sdk': new URL('../plugins/sdk/index.ts', import.meta.url).href,
  'inference-gateway/sdk/testing': new URL('../plugins/sdk/testing.ts', import.meta.url).href,
};

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
