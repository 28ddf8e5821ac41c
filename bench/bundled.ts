// Runs a bench script the way the ext-proc runs in production: bundled by esbuild (the options
// of scripts/build.ts), not through tsx. tsx keeps function names by wrapping every function
// and closure it creates (`__name`), a cost the build does not have and that grows with the
// number of closures per request; measured through tsx, a change could look slower or faster
// than it is.
//   node --import tsx bench/bundled.ts bench/processor.ts [args for it...]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { EXT_PROC_NODE_FLAGS } from '../ext-proc/node-flags.js';
import { REPO_ROOT } from '../scripts/envoy-bin.js';

const [entry, ...args] = process.argv.slice(2);
if (!entry) throw new Error('usage: bench/bundled.ts <script.ts> [args...]');
// One folder below the repository, as the sources are: code that finds the repository from its
// own URL (REPO_ROOT = its folder's parent) finds it from the bundle too.
const outdir = join(REPO_ROOT, '.tmp');
mkdirSync(outdir, { recursive: true });
const outfile = join(outdir, `bundled-${basename(entry).replace(/\.ts$/, '.mjs')}`);
await build({ entryPoints: [resolve(entry)], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' });
// With the ext-proc's node flags, as it runs in production (GC sizing changes the CPU per request).
const run = spawnSync(process.execPath, [...EXT_PROC_NODE_FLAGS, outfile, ...args], { stdio: 'inherit', cwd: REPO_ROOT });
process.exit(run.status ?? 1);
