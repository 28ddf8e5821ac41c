import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVOY_VERSION, REPO_ROOT, envoyVersion, resolveEnvoyBin } from '../../scripts/envoy-bin.js';

let dir: string;

/** Writes an executable stand-in for envoy that prints the given `--version` output. */
function fakeEnvoy(file: string, version: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `#!/bin/sh\necho ""\necho "${file}  version: 9e5580933739775e8bce696a57a2e1bc99368f23/${version}/Clean/RELEASE/BoringSSL"\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'envoy-bin-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('envoyVersion', () => {
  it('parses the version number from --version', () => {
    expect(envoyVersion(fakeEnvoy(path.join(dir, 'envoy'), '1.40.0'))).toBe('1.40.0');
    expect(envoyVersion(fakeEnvoy(path.join(dir, 'old', 'envoy'), '1.36.2'))).toBe('1.36.2');
  });

  it('throws for a binary that prints no Envoy version or does not run', () => {
    const notEnvoy = path.join(dir, 'not-envoy');
    writeFileSync(notEnvoy, '#!/bin/sh\necho "something else 1.2"\n');
    chmodSync(notEnvoy, 0o755);
    expect(() => envoyVersion(notEnvoy)).toThrow(/no Envoy version/);
    expect(() => envoyVersion(path.join(dir, 'missing'))).toThrow(/--version failed/);
  });
});

describe('resolveEnvoyBin', () => {
  const root = () => path.join(dir, 'repo');
  const local = () => path.join(root(), '.envoy', ENVOY_VERSION, 'envoy');

  it('prefers an executable ENVOY_BIN, whatever its version', () => {
    const bin = fakeEnvoy(path.join(dir, 'custom', 'envoy'), '1.30.0');
    fakeEnvoy(local(), ENVOY_VERSION);
    expect(resolveEnvoyBin({ env: { ENVOY_BIN: bin, PATH: '' }, repoRoot: root() })).toBe(bin);
  });

  it('ignores an ENVOY_BIN that is not executable and uses .envoy/<version>/envoy', () => {
    fakeEnvoy(local(), ENVOY_VERSION);
    const env = { ENVOY_BIN: path.join(dir, 'nope'), PATH: '' };
    expect(resolveEnvoyBin({ env, repoRoot: root() })).toBe(local());
  });

  it('uses .envoy/<version>/envoy before envoy on PATH', () => {
    fakeEnvoy(local(), ENVOY_VERSION);
    const pathDir = path.join(dir, 'bin');
    fakeEnvoy(path.join(pathDir, 'envoy'), ENVOY_VERSION);
    expect(resolveEnvoyBin({ env: { PATH: pathDir }, repoRoot: root() })).toBe(local());
  });

  it('falls back to the first envoy on PATH with the pinned version', () => {
    const oldDir = path.join(dir, 'old-bin');
    const goodDir = path.join(dir, 'good-bin');
    fakeEnvoy(path.join(oldDir, 'envoy'), '1.36.2');
    const good = fakeEnvoy(path.join(goodDir, 'envoy'), ENVOY_VERSION);
    const env = { PATH: [oldDir, goodDir].join(path.delimiter) };
    expect(resolveEnvoyBin({ env, repoRoot: root() })).toBe(good);
  });

  it('throws telling to run npm run envoy:install when nothing fits', () => {
    const oldDir = path.join(dir, 'old-bin');
    fakeEnvoy(path.join(oldDir, 'envoy'), '1.36.2');
    const run = () => resolveEnvoyBin({ env: { PATH: oldDir }, repoRoot: root() });
    expect(run).toThrow(/npm run envoy:install/);
    expect(run).toThrow(/version 1\.36\.2/);
    expect(() => resolveEnvoyBin({ env: {}, repoRoot: root() })).toThrow(/npm run envoy:install/);
  });

  it('defaults to the repository root of this checkout', () => {
    expect(path.join(REPO_ROOT, 'scripts', 'envoy-bin.ts')).toBe(path.resolve('scripts/envoy-bin.ts'));
  });
});

// After `npm run envoy:install` (as .ci/run does), the real binary must report the pinned version.
const installed = path.join(REPO_ROOT, '.envoy', ENVOY_VERSION, 'envoy');
describe.skipIf(!existsSync(installed))('installed Envoy', () => {
  it(`.envoy/${ENVOY_VERSION}/envoy reports ${ENVOY_VERSION}`, () => {
    expect(envoyVersion(installed)).toBe(ENVOY_VERSION);
  });
});
