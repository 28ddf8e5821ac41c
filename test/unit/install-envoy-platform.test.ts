import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';

// scripts/install-envoy.sh refuses non-glibc systems before downloading anything. These tests
// run a copy of it in an empty repo with a PATH of stand-ins, and without python3, so a run that
// passes the platform check stops at "python3 is needed" and never reaches the network.

let root: string;
let bin: string;

function tool(name: string, script: string): void {
  const file = path.join(bin, name);
  writeFileSync(file, `#!/bin/bash\n${script}\n`);
  chmodSync(file, 0o755);
}

function runInstall(): { status: number | null; stderr: string } {
  const run = spawnSync('/bin/bash', [path.join(root, 'scripts', 'install-envoy.sh')], {
    env: { PATH: bin, HOME: root, XDG_CACHE_HOME: path.join(root, 'cache') },
    encoding: 'utf8',
  });
  return { status: run.status, stderr: run.stderr };
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'install-envoy-'));
  bin = path.join(root, 'bin');
  mkdirSync(bin);
  mkdirSync(path.join(root, 'scripts'));
  copyFileSync(path.join(REPO_ROOT, 'scripts', 'install-envoy.sh'), path.join(root, 'scripts', 'install-envoy.sh'));
  for (const name of ['dirname', 'grep', 'mktemp', 'rm', 'uname']) {
    for (const dir of ['/usr/bin', '/bin']) {
      try {
        symlinkSync(path.join(dir, name), path.join(bin, name));
        break;
      } catch {
        // not in this directory; try the next
      }
    }
  }
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('install-envoy.sh platform check', () => {
  it('accepts glibc even when ldd writes more than the check reads (no SIGPIPE failure under pipefail)', () => {
    // The CI failure this guards against: `ldd --version | grep -q glibc` under pipefail exits 141
    // whenever grep stops reading before ldd stops writing. A long output makes that certain.
    tool('ldd', 'echo "ldd (Debian GLIBC 2.36-9+deb12u14) 2.36"; for ((i = 0; i < 20000; i++)); do echo "line $i"; done');
    tool('getconf', 'exit 1');
    const { status, stderr } = runInstall();
    expect(stderr).not.toMatch(/glibc Linux/);
    expect(stderr).toMatch(/python3 is needed/);
    expect(status).toBe(1);
  });

  it('accepts glibc from getconf when ldd is missing', () => {
    tool('getconf', '[ "$1" = GNU_LIBC_VERSION ] && echo "glibc 2.36"');
    const { stderr } = runInstall();
    expect(stderr).toMatch(/python3 is needed/);
  });

  it('refuses musl with a message that says how to bring an Envoy of ones own', () => {
    tool('ldd', 'echo "musl libc (x86_64)"; echo "Version 1.2.4" >&2; exit 1');
    tool('getconf', 'exit 1');
    const { status, stderr } = runInstall();
    expect(status).toBe(1);
    expect(stderr).toMatch(/needs a glibc Linux .*set ENVOY_BIN/);
  });
});
