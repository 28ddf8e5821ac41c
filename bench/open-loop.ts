// Latency at a fixed rate, open loop: vegeta sends each request at its scheduled time whether
// or not earlier ones were answered (a new worker, and if need be a new connection, takes a
// request when all are busy), so a slow answer cannot hold back the requests behind it and hide
// itself — no coordinated omission. Keep-alive on: requests reuse idle connections.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { percentile } from './stats.js';
import type { LoadTarget } from './closed-loop.js';

export interface OpenLoopResult {
  rate: number;
  /** Requests sent. */
  requests: number;
  /** Requests actually sent per second (below `rate` when the generator fell behind). */
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  non2xx: number;
  /** Requests with no HTTP answer (connection error, timeout). */
  failed: number;
  /** What went wrong, counted: "HTTP 503", or vegeta's error text. Empty when all were 2xx. */
  problems: Record<string, number>;
  /** The requests at or above p99, grouped into episodes: a few long ones mean stalls. */
  tailEpisodes: Episode[];
}

/** Slow requests sent close together (each within EPISODE_GAP_MS of the last). */
export interface Episode {
  /** Epoch ms when the first of them was sent. */
  startMs: number;
  /** Epoch ms when the last of them was sent. */
  endMs: number;
  requests: number;
  worstMs: number;
}

export const EPISODE_GAP_MS = 100;

/** Groups slow requests (send time, latency; in send order) into episodes. */
export function episodes(slow: readonly { atMs: number; latencyMs: number }[]): Episode[] {
  const out: Episode[] = [];
  for (const s of slow) {
    const last = out.at(-1);
    if (last && s.atMs - last.endMs <= EPISODE_GAP_MS) {
      last.endMs = s.atMs;
      last.requests++;
      last.worstMs = Math.max(last.worstMs, s.latencyMs);
    } else out.push({ startMs: s.atMs, endMs: s.atMs, requests: 1, worstMs: s.latencyMs });
  }
  return out;
}

/** One line of `vegeta encode -to json`. */
interface VegetaHit {
  code: number;
  timestamp: string;
  /** Nanoseconds. */
  latency: number;
  error: string;
}

/** Summarises vegeta's JSON lines: percentiles of the 2xx answers, counts of the rest. */
export function summarizeHits(jsonLines: string, rate: number): OpenLoopResult {
  const hits = jsonLines
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as VegetaHit);
  const ok = hits
    .filter((h) => h.code >= 200 && h.code < 300)
    .map((h) => h.latency / 1e6)
    .sort((a, b) => a - b);
  const starts = hits.map((h) => Date.parse(h.timestamp)).sort((a, b) => a - b);
  const p99 = percentile(ok, 0.99);
  const slow = hits
    .filter((h) => h.code >= 200 && h.code < 300 && h.latency / 1e6 >= p99)
    .map((h) => ({ atMs: Date.parse(h.timestamp), latencyMs: h.latency / 1e6 }))
    .sort((a, b) => a.atMs - b.atMs);
  const spanS = starts.length > 1 ? ((starts.at(-1) as number) - (starts[0] as number)) / 1000 : 0;
  return {
    rate,
    requests: hits.length,
    // n requests at a steady rate span n-1 intervals.
    achievedRate: spanS > 0 ? (hits.length - 1) / spanS : 0,
    p50Ms: percentile(ok, 0.5),
    p99Ms: p99,
    p999Ms: percentile(ok, 0.999),
    maxMs: ok.at(-1) ?? NaN,
    non2xx: hits.filter((h) => h.code !== 0 && (h.code < 200 || h.code >= 300)).length,
    failed: hits.filter((h) => h.code === 0).length,
    problems: countProblems(hits),
    tailEpisodes: episodes(slow),
  };
}

function countProblems(hits: VegetaHit[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of hits) {
    if (h.code >= 200 && h.code < 300) continue;
    // Error texts name the URL and sometimes a port: keep the part after the last ": ".
    const key = h.code === 0 ? (h.error.split(': ').at(-1) ?? h.error).slice(0, 80) : `HTTP ${h.code}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function run(bin: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += String(c)));
    p.stderr.on('data', (c: Buffer) => (err += String(c)));
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin} ${args[0]} exited ${code}: ${err}`))));
    p.stdin.end(stdin ?? '');
  });
}

/**
 * Sends `rate` requests a second for `durationS`. At most `maxConnections` connections: when all
 * are busy a request waits for one inside vegeta, and that wait counts in its latency (vegeta
 * times a request from its scheduled start), so the cap bounds connection churn without
 * hiding queueing.
 */
export async function runOpenLoop(vegeta: string, target: LoadTarget, rate: number, durationS: number, maxConnections: number, resultsFile: string): Promise<OpenLoopResult> {
  await rm(resultsFile, { force: true });
  const args = [
    'attack',
    `-rate=${Math.max(1, Math.round(rate))}/s`,
    `-duration=${durationS}s`,
    `-body=${target.bodyFile}`,
    '-keepalive=true',
    // Idle connections kept per host: every connection opened is kept for reuse.
    `-connections=${maxConnections}`,
    `-max-connections=${maxConnections}`,
    '-max-body=0',
    '-timeout=10s',
    `-output=${resultsFile}`,
  ];
  for (const [k, v] of Object.entries(target.headers)) args.push(`-header=${k}: ${v}`);
  await run(vegeta, args, `POST ${target.url}\n`);
  const json = await run(vegeta, ['encode', '-to=json', resultsFile]);
  return summarizeHits(json, rate);
}

