// Finds the Envoy binary the gateway runs, the same way scripts/install-envoy.sh does:
//   1. $ENVOY_BIN, when set and executable (any version: an explicit choice wins);
//   2. .envoy/<ENVOY_VERSION>/envoy under the repo root (what `npm run envoy:install` installs);
//   3. an `envoy` on PATH that reports ENVOY_VERSION.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned Envoy version; keep in sync with ENVOY_VERSION in scripts/install-envoy.sh. */
export const ENVOY_VERSION = '1.40.0';

/** The repository root (this file lives in <root>/scripts/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ResolveEnvoyOptions {
  /** Environment to read ENVOY_BIN and PATH from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Repository root holding .envoy/; defaults to REPO_ROOT. */
  repoRoot?: string;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `<bin> --version` and returns the version number, e.g. "1.40.0" from
 * "envoy  version: 9e55.../1.40.0/Clean/RELEASE/BoringSSL". Throws when it does not run
 * or prints no Envoy version.
 */
export function envoyVersion(bin: string): string {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
  } catch (err) {
    throw new Error(`${bin} --version failed: ${(err as Error).message}`);
  }
  const m = /version:\s*\S*?\/(\d+\.\d+\.\d+)\//.exec(out) ?? /\/(\d+\.\d+\.\d+)\/\w+\/\w+/.exec(out);
  if (!m?.[1]) throw new Error(`${bin} --version printed no Envoy version: ${out.trim().split('\n')[0] ?? ''}`);
  return m[1];
}

function findOnPath(name: string, envPath: string | undefined): string[] {
  if (!envPath) return [];
  const found: string[] = [];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate) && !found.includes(candidate)) found.push(candidate);
  }
  return found;
}

/** Returns the path of the Envoy binary to run, or throws saying how to install it. */
export function resolveEnvoyBin(opts: ResolveEnvoyOptions = {}): string {
  const env = opts.env ?? process.env;
  const root = opts.repoRoot ?? REPO_ROOT;
  const tried: string[] = [];

  const fromEnv = env.ENVOY_BIN;
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return fromEnv;
    tried.push(`ENVOY_BIN=${fromEnv} (not an executable file)`);
  }

  const local = path.join(root, '.envoy', ENVOY_VERSION, 'envoy');
  if (isExecutableFile(local)) return local;
  tried.push(`${local} (missing)`);

  const onPath = findOnPath('envoy', env.PATH);
  for (const bin of onPath) {
    let version: string;
    try {
      version = envoyVersion(bin);
    } catch {
      tried.push(`${bin} (no version)`);
      continue;
    }
    if (version === ENVOY_VERSION) return bin;
    tried.push(`${bin} (version ${version})`);
  }
  if (onPath.length === 0) tried.push('envoy on PATH (none)');

  throw new Error(
    `Envoy ${ENVOY_VERSION} not found; run \`npm run envoy:install\` (or set ENVOY_BIN). Tried: ${tried.join('; ')}`,
  );
}
