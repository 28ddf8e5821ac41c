import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../plugins/index.js';
import { createTestGateway } from '../plugins/sdk/testing.js';
import { createRegistry } from './registry.js';

// Teams' plugins live outside this repo and import the SDK by package name.
const REPO = resolve(dirname(new URL(import.meta.url).pathname), '..');

const pluginSource = (type: string, extra = '') => `
import { definePlugin, PluginError, z } from 'inference-gateway/sdk';

declare module 'inference-gateway/sdk' {
  interface RequestVars { ${type.replace(/-/g, '_')}?: string }
}

export default definePlugin({
  type: '${type}',
  options: z.object({ header: z.string().default('x-${type}') }).strict(),
  setup(options) {
    return {
      requestHeaders(ctx) {
        if (ctx.request.headers.get('x-deny') === 'yes') throw new PluginError(403, 'denied', 'not for you');
        ctx.headers.set(options.header, '${type}');
      },
    };
  },
});
${extra}`;

async function write(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'team-plugins-'));
  // A plugin package folder (package.json + exports).
  await write(join(root, 'pkg-dir/package.json'), JSON.stringify({ name: '@team/pkg-dir', type: 'module', exports: './src/index.ts' }));
  await write(join(root, 'pkg-dir/src/index.ts'), pluginSource('team-pkg'));
  // A folder of plugins: a sub-folder with index.ts, a single file, and files that are not plugins.
  await write(join(root, 'many/package.json'), JSON.stringify({ type: 'module' }));
  await write(join(root, 'many/alpha/index.ts'), pluginSource('team-alpha'));
  await write(join(root, 'many/beta.ts'), pluginSource('team-beta'));
  await write(join(root, 'many/beta.test.ts'), 'throw new Error("tests are not plugins");');
  await write(join(root, 'many/vitest.config.ts'), 'throw new Error("configs are not plugins");');
  // An npm package installed next to the gateway config.
  await write(join(root, 'deploy/node_modules/@team/gw-plugins/package.json'), JSON.stringify({ name: '@team/gw-plugins', type: 'module', exports: { '.': { import: './dist/index.js' } } }));
  await write(
    join(root, 'deploy/node_modules/@team/gw-plugins/dist/index.js'),
    `import { definePlugin, z } from 'inference-gateway/sdk';
export const plugins = [
  definePlugin({ type: 'team-npm-a', options: z.object({}), setup: () => ({}) }),
  definePlugin({ type: 'team-npm-b', options: z.object({}), setup: () => ({}) }),
];`,
  );
  await write(join(root, 'empty/index.ts'), 'export const nothing = 1;');
  await write(join(root, 'clash/index.ts'), `import { definePlugin, z } from 'inference-gateway/sdk';\nexport default definePlugin({ type: 'model-router', options: z.object({}), setup: () => ({}) });`);
});

describe('pluginSources', () => {
  it('loads a plugin package folder (relative to the config) and a folder of plugins', async () => {
    const registry = await createRegistry(builtinPlugins, ['../pkg-dir', join(root, 'many')], join(root, 'deploy'));
    expect(registry.types()).toEqual(expect.arrayContaining(['model-router', 'team-pkg', 'team-alpha', 'team-beta']));
  });

  it('a loaded plugin runs like a built-in: options defaulted, headers set, its PluginError shown to the client', async () => {
    const registry = await createRegistry([], [join(root, 'pkg-dir')]);
    const def = registry.get('team-pkg');
    if (!def) throw new Error('not loaded');
    const gw = await createTestGateway({ plugins: ['model-router', def], models: { sentiment: { protocol: 'kserve-v2' } } });
    const ok = await gw.request({ path: '/v2/models/sentiment/infer', json: {} });
    expect(ok.upstream?.headers['x-team-pkg']).toBe('team-pkg');
    const denied = await gw.request({ path: '/v2/models/sentiment/infer', json: {}, headers: { 'x-deny': 'yes' } });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ error: 'not for you', code: 'denied' });
  });

  it('says which source failed and why', async () => {
    await expect(createRegistry([], ['@team/not-installed'], join(root, 'deploy'))).rejects.toThrow(/pluginSources\[0\]: cannot load "@team\/not-installed": npm package "@team\/not-installed" is not installed/);
    await expect(createRegistry([], ['./nope'], root)).rejects.toThrow(/pluginSources\[0\]: cannot load "\.\/nope"/);
    await expect(createRegistry([], [join(root, 'empty')])).rejects.toThrow(/exports no plugin \(export default definePlugin/);
    await expect(createRegistry(builtinPlugins, [join(root, 'clash')])).rejects.toThrow(/plugin type "model-router" is already registered/);
  });

  it('outside the test runner, the gateway hands its own SDK to plugin folders and npm packages that import it by package name', async () => {
    // The production path: plain Node with tsx, no vitest aliases, plugins with no node_modules of their own.
    const script = `
      import { createRegistry } from ${JSON.stringify(join(REPO, 'ext-proc/registry.ts'))};
      import { PluginError } from ${JSON.stringify(join(REPO, 'plugins/sdk/index.ts'))};
      const registry = await createRegistry([], [${JSON.stringify(join(root, 'pkg-dir'))}, '@team/gw-plugins'], ${JSON.stringify(join(root, 'deploy'))});
      const hooks = await registry.get('team-pkg').setup({ header: 'x' }, {});
      let thrown;
      try { hooks.requestHeaders({ request: { headers: new Map([['x-deny', 'yes']]) } }); } catch (e) { thrown = e; }
      console.log(JSON.stringify({ types: registry.types(), sameSdk: thrown instanceof PluginError }));
    `;
    const scriptPath = join(root, 'check.mts');
    await writeFile(scriptPath, script);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', scriptPath], { cwd: REPO });
    expect(JSON.parse(stdout.trim())).toEqual({ types: ['team-npm-a', 'team-npm-b', 'team-pkg'], sameSdk: true });
  });
});
