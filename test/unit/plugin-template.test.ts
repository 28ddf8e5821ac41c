import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';

// The template as a team would use it: copied into an empty folder outside this repository,
// with the SDK installed from the package `npm pack` makes of plugins/sdk (built JavaScript
// and .d.ts, not the gateway's sources). Its types — checked with strict and
// exactOptionalPropertyTypes — its module augmentation and its tests must work there.
// Offline: npm installs the tarball only; the SDK's peer dependencies and the dev tools are
// linked from this repository's node_modules, as `npm install` would have put them.

const run = promisify(execFile);
const SDK = join(REPO_ROOT, 'plugins/sdk');
/** The SDK's peer dependencies, linked by their top folder (`@opentelemetry/api` → `@opentelemetry`). */
const peers = async () => {
  const manifest = JSON.parse(await readFile(join(SDK, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  return [...new Set(Object.keys(manifest.peerDependencies).map((name) => name.split('/')[0] as string))];
};
const TOOLS = ['@types', 'vitest', 'typescript'];
let dir: string;

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'team-plugin-'));
  // `npm run build` in plugins/sdk, with the repo's tsc (npm may not find one on PATH).
  await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(SDK, 'tsconfig.build.json')], { cwd: SDK });
  await run(process.execPath, [join(SDK, 'copy-assets.mjs')], { cwd: SDK });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: SDK });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz')) as string;

  dir = join(work, 'team-tag');
  await cp(join(REPO_ROOT, 'examples/plugin-template'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  // The SDK from the tarball, as a team points its dev dependency at a release; npm would fetch
  // the dev tools, so offline they come from this repo instead (linked below).
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  manifest.devDependencies = { '@inference-gateway/sdk': `file:${join(work, tarball)}` };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps', '--ignore-scripts'], { cwd: dir });
  for (const dep of [...(await peers()), ...TOOLS]) await symlink(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep));
}, 600_000);

describe('examples/plugin-template against the packed @inference-gateway/sdk, outside the repo', () => {
  it('installs the SDK as built JavaScript and declarations, not the gateway sources', async () => {
    const pkg = join(dir, 'node_modules/@inference-gateway/sdk');
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { name: string };
    expect(manifest.name).toBe('@inference-gateway/sdk');
    const files = await readdir(pkg, { recursive: true });
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining([join('dist/plugins/sdk/index.d.ts'), join('dist/plugins/sdk/testing.js')]));
    // The harness runs the request pipeline, never the gRPC server.
    expect(files.some((f) => f.endsWith(join('ext-proc', 'server.js')))).toBe(false);
  });

  it('type-checks with strict and exactOptionalPropertyTypes, including its RequestVars augmentation', async () => {
    const tsconfig = JSON.parse(await readFile(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(tsconfig.compilerOptions).toMatchObject({ strict: true, exactOptionalPropertyTypes: true });
    const { stdout } = await run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }).catch((e: { stdout: string }) => e);
    expect(stdout).toBe('');
  }, 240_000);

  it('passes its own tests with the harness', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/Tests\s+4 passed/);
  }, 240_000);
});
