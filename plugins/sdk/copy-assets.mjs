// tsc emits JavaScript and declarations only; files the emitted code reads at run time
// (the consumer-limits Redis scripts) are copied next to it, mirroring the repository's paths.
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const sdk = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(sdk, '../..');
const ASSET = /\.lua$/;

for (const dir of ['plugins', 'ext-proc']) {
  for (const d of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
    const file = path.join(d.parentPath, d.name);
    if (!d.isFile() || !ASSET.test(d.name) || file.includes(`${path.sep}node_modules${path.sep}`) || file.startsWith(path.join(sdk, 'dist'))) continue;
    cpSync(file, path.join(sdk, 'dist', path.relative(root, file)));
  }
}
