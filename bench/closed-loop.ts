// Throughput at saturation: h2load (nghttp2, C) over HTTP/1.1 keep-alive, each connection
// sending its next request as soon as the last one is answered (closed loop).
import { spawn } from 'node:child_process';

export interface LoadTarget {
  url: string;
  bodyFile: string;
  headers: Record<string, string>;
}

export interface SaturationResult {
  /** Requests answered 2xx per second of the run. */
  rps: number;
  /** Requests h2load completed (any status). */
  done: number;
  non2xx: number;
  /** Requests that errored or timed out (no status at all). */
  failed: number;
}

/** Reads h2load's summary ("requests: …", "status codes: …", "finished in …"). */
export function parseH2loadSummary(out: string): SaturationResult {
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const fin = /finished in ([\d.]+)(ms|s),/.exec(out);
  if (!req || !codes || !fin) throw new Error(`unexpected h2load output:\n${out}`);
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
  const ok = n(codes, 1);
  return {
    rps: seconds > 0 ? ok / seconds : 0,
    done: n(req, 3),
    non2xx: n(codes, 2) + n(codes, 3) + n(codes, 4),
    // h2load's "failed" also counts answers with a 4xx/5xx status; those are in non2xx.
    failed: n(req, 6) + n(req, 7) + Math.max(0, n(req, 5) - n(codes, 3) - n(codes, 4)),
  };
}

export async function runSaturation(h2load: string, target: LoadTarget, durationS: number, connections: number): Promise<SaturationResult> {
  const args = ['--h1', '-t', '1', '-c', String(connections), '-m', '1', '-D', String(durationS), '-d', target.bodyFile];
  for (const [k, v] of Object.entries(target.headers)) args.push('-H', `${k}: ${v}`);
  args.push(target.url);
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(h2load, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += String(c)));
    p.stderr.on('data', (c: Buffer) => (text += String(c)));
    p.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`h2load exited ${code}:\n${text}`))));
  });
  return parseH2loadSummary(out);
}
