// The bench's tools, installed or built by the bench itself into a bench-local bin directory:
// h2load (closed loop, Debian nghttp2-client), vegeta (open loop, Go module proxy) and the
// floor's no-op Go ext_proc (bench/floor, built with `go build`).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/envoy-bin.js';

/** Pinned so runs stay comparable; bump deliberately. */
export const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12@v12.13.0';

const say = (s: string) => process.stdout.write(`bench: ${s}\n`);

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function ensureH2load(): string {
  const found = onPath('h2load');
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error('h2load is missing: apt-get install nghttp2-client');
  say('installing h2load (Debian nghttp2-client)…');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client'], { stdio: 'inherit' });
  const bin = onPath('h2load');
  if (!bin) throw new Error('h2load still missing after apt-get install nghttp2-client');
  return bin;
}

export function goBin(): string | undefined {
  return onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** vegeta from PATH, else `go install`ed into binDir (GOBIN) on first use. */
export function ensureVegeta(binDir: string): string {
  const local = join(binDir, 'vegeta');
  if (existsSync(local)) return local;
  const found = onPath('vegeta');
  if (found) return found;
  const go = goBin();
  if (!go) throw new Error(`vegeta is missing and Go is not installed to build it: install Go, or put vegeta on PATH (go install ${VEGETA_MODULE})`);
  say(`installing vegeta (go install ${VEGETA_MODULE})…`);
  execFileSync(go, ['install', VEGETA_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: binDir } });
  return local;
}

/**
 * Builds the floor's no-op Go ext_proc (bench/floor) into binDir; undefined, with the reason
 * printed, when Go is not installed: the run goes on without the floor.
 */
export function buildFloor(binDir: string): string | undefined {
  const go = goBin();
  if (!go) {
    say('Go is not installed: skipping the floor target (plain Envoy + a no-op Go ext_proc) (the report then has no ratios to the floor)');
    return undefined;
  }
  const out = join(binDir, 'floor');
  say('building the floor (bench/floor, go build)…');
  execFileSync(go, ['build', '-o', out, '.'], { cwd: join(REPO_ROOT, 'bench/floor'), stdio: 'inherit' });
  return out;
}

/** The vegeta module version a binary was built from (go version -m), or "?". */
export function vegetaVersion(bin: string): string {
  const go = goBin();
  if (!go) return '?';
  try {
    const info = execFileSync(go, ['version', '-m', bin], { encoding: 'utf8' });
    return /\bmod\s+github\.com\/tsenart\/vegeta\/v12\s+(\S+)/.exec(info)?.[1] ?? '?';
  } catch {
    return '?';
  }
}
