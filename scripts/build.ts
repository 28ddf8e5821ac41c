// `npm run build`: the ext-proc as plain JavaScript in dist/, run by plain node (no TypeScript
// loader at run time: less memory, faster start). Dependencies stay in node_modules.
// dist/sdk/index.js is the SDK team plugins import ('inference-gateway/sdk'): split into shared
// chunks with the ext-proc, so a plugin and the gateway share one SDK (one zod, one PluginError).
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = join(REPO_ROOT, 'dist');
/** The built ext-proc's entry point. */
export const BUILT_EXT_PROC = join(DIST_DIR, 'ext-proc.js');

/** Source folder → folder in dist/, for files read at run time relative to the module. */
const ASSETS: readonly [string, string][] = [
  ['plugins/consumer-limits/redis', 'redis'],
  ['ext-proc/console/static', 'static'],
];

export async function buildExtProc(outdir = DIST_DIR): Promise<string> {
  await build({
    entryPoints: { 'ext-proc': join(REPO_ROOT, 'ext-proc/main.ts'), 'sdk/index': join(REPO_ROOT, 'plugins/sdk/index.ts'), 'sdk/shared': join(REPO_ROOT, 'plugins/sdk/shared.ts') },
    outdir,
    // Chunks beside ext-proc.js: code that locates dist/sdk/ does so from its own URL.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // Files the code reads beside itself (readFileSync(new URL('./x', import.meta.url))): in the
  // build, import.meta.url is a file directly in dist/.
  for (const [from, to] of ASSETS) await cp(join(REPO_ROOT, from), join(outdir, to), { recursive: true });
  return join(outdir, 'ext-proc.js');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const entry = await buildExtProc();
  process.stdout.write(`built ${entry}\n`);
}
