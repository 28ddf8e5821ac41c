import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';

// The template as a team would use it: copied out of this repo, with the gateway installed as
// a dev dependency (`npm install --save-dev <path or git URL of the gateway>` links it as
// node_modules/inference-gateway). Its types, module augmentation and tests must work there.

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'team-plugin-')), 'team-tag');
  await cp(join(REPO_ROOT, 'examples/plugin-template'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  await mkdir(join(dir, 'node_modules'));
  // What `npm install` would create: the gateway (peer + dev dependency) and the dev tools.
  await symlink(REPO_ROOT, join(dir, 'node_modules/inference-gateway'));
  for (const dep of ['@types', 'vitest', 'typescript']) await symlink(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
});

describe('examples/plugin-template, copied out of the repo', () => {
  it('type-checks, including its RequestVars augmentation of inference-gateway/sdk', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }).catch((e: { stdout: string }) => e);
    expect(stdout).toBe('');
  }, 60_000);

  it('passes its own tests with the harness', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/Tests\s+4 passed/);
  }, 60_000);
});
