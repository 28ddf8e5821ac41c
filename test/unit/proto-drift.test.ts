// The ts-proto stubs in ext-proc/gen/ are committed; this fails when they differ from a fresh
// `bash scripts/gen-proto.sh` run (protos from node_modules, buf and ts-proto from npm, no network).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const committedDir = path.join(repoRoot, 'ext-proc', 'gen');

/** Relative paths (with '/') of all files under dir, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .sort();
}

describe('generated proto stubs', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'proto-drift-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ext-proc/gen/ matches a fresh scripts/gen-proto.sh run', () => {
    const freshDir = path.join(tmp, 'gen');
    try {
      execFileSync('bash', ['scripts/gen-proto.sh', freshDir], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
    } catch (err) {
      const e = err as Error & { stdout?: string; stderr?: string };
      throw new Error(`scripts/gen-proto.sh failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }

    const fresh = listFiles(freshDir);
    const committed = listFiles(committedDir);
    expect(fresh.length, 'gen-proto.sh generated no files').toBeGreaterThan(0);

    const drifted: string[] = [];
    for (const f of committed.filter((f) => !fresh.includes(f))) drifted.push(`${f} (stale: no longer generated)`);
    for (const f of fresh.filter((f) => !committed.includes(f))) drifted.push(`${f} (missing from ext-proc/gen/)`);
    for (const f of fresh.filter((f) => committed.includes(f))) {
      if (!readFileSync(path.join(freshDir, f)).equals(readFileSync(path.join(committedDir, f)))) {
        drifted.push(`${f} (content differs)`);
      }
    }

    if (drifted.length > 0) {
      throw new Error(
        `ext-proc/gen/ is out of date with the protos/generator; run \`npm run gen:proto\` and commit the result.\n` +
          `Drifted files under ext-proc/gen/:\n  ${drifted.join('\n  ')}`,
      );
    }
  }, 120_000);
});
