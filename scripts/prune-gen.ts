// Deletes generated stubs that the ext_proc service stub does not reach by import. buf's
// --include-imports emits every proto the service's protos import, including option-only ones
// (validate, udpa/xds annotations, descriptor) that ts-proto's output never imports; keeping
// them would commit ~15,000 lines nothing runs. Reachability comes from an esbuild metafile.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const genDir = path.resolve(process.argv[2] ?? 'ext-proc/gen');
const entry = path.join(genDir, 'envoy/service/ext_proc/v3/external_processor.ts');

const { metafile } = await build({
  entryPoints: [entry],
  bundle: true,
  packages: 'external',
  write: false,
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: genDir,
});
const reached = new Set(Object.keys(metafile.inputs).map((p) => path.resolve(genDir, p)));

for (const d of readdirSync(genDir, { recursive: true, withFileTypes: true })) {
  const file = path.join(d.parentPath, d.name);
  if (d.isFile() && !reached.has(file)) rmSync(file);
}
// Remove directories left empty (deepest first).
const dirs = readdirSync(genDir, { recursive: true, withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => path.join(d.parentPath, d.name))
  .sort((a, b) => b.length - a.length);
for (const dir of dirs) if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
