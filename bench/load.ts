// The load generator: h2load (nghttp2, C) over HTTP/1.1 keep-alive, open-loop at a fixed rate
// (--rps per client) or closed-loop at saturation; latencies come from its per-request log.
import { execFileSync, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface LoadResult {
  /** Completed requests per second over the measured window. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  /** Requests that errored or never completed. */
  failed: number;
}

export function ensureH2load(): string {
  const found = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v h2load'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  let bin = found();
  if (bin) return bin;
  if (process.getuid?.() !== 0) throw new Error('h2load is missing: apt-get install nghttp2-client');
  process.stdout.write('bench: installing h2load (Debian nghttp2-client)…\n');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client'], { stdio: 'inherit' });
  bin = found();
  if (!bin) throw new Error('h2load still missing after apt-get install nghttp2-client');
  return bin;
}

export interface LoadSpec {
  url: string;
  bodyFile: string;
  headers: Record<string, string>;
  /** Total requests per second; undefined drives at saturation. */
  rate?: number;
  durationS: number;
  warmupS: number;
  /** Connections (each keeps one request in flight). */
  connections: number;
}

export async function runLoad(h2load: string, spec: LoadSpec, workDir: string, tag: string): Promise<LoadResult> {
  const logFile = join(workDir, `h2load-${tag}.tsv`);
  await rm(logFile, { force: true });
  const args = ['--h1', '-t', '1', '-c', String(spec.connections), '-m', '1', '-D', String(spec.durationS), '--warm-up-time', String(spec.warmupS), '-d', spec.bodyFile, '--log-file', logFile];
  for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
  if (spec.rate !== undefined) args.push('--rps', String(Math.max(1, Math.round(spec.rate / spec.connections))));
  args.push(spec.url);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(h2load, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += String(c)));
    p.stderr.on('data', (c: Buffer) => (text += String(c)));
    p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`h2load exited ${code}:\n${text}`))));
  });
  const lines = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
  const rows = lines.map((l) => l.split('\t').map(Number) as [number, number, number]);
  // The log holds the measured window only; order by start time to be sure.
  const latencies = rows.filter((r) => r[1] >= 200 && r[1] < 300).map((r) => r[2] / 1000).sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const failed = Number(/requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(out)?.slice(1).reduce((a, b) => String(Number(a) + Number(b))) ?? 0);
  return {
    rps: rows.length / spec.durationS,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    requests: rows.length,
    non2xx: rows.filter((r) => r[1] < 200 || r[1] >= 300).length,
    failed,
  };
}
