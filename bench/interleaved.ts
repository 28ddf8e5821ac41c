// Open-loop latency at a fixed rate, finely interleaved: every target runs at once (its own
// Envoy and ext-proc, one shared upstream) and short slices of load go to each in turn, again
// and again. A slow moment of the shared machine then lands on neighbouring slices of every
// target alike, where a whole measured phase per target and round lets it land on one target.
// Used by `npm run bench` (its p50 column) and `npm run bench:latency`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOpenLoop } from './open-loop.js';
import type { Running, Target } from './targets.js';

export interface InterleavedSettings {
  rate: number;
  slices: number;
  sliceS: number;
  /** Most connections vegeta may open per slice (requests beyond wait, and the wait counts). */
  maxConnections: number;
  workDir: string;
}

/** Per target key: the p50 of each slice (index = slice), and failed + non-2xx over all slices. */
export interface InterleavedResult {
  rate: number;
  slices: number;
  sliceS: number;
  p50Ms: Record<string, number[]>;
  problems: Record<string, number>;
}

/**
 * Warms every running target up (one slice each), then runs `slices` rounds of one slice per
 * target; the order rotates each round so that no target always follows the same one.
 */
export async function runInterleaved(
  vegeta: string,
  targets: readonly Target[],
  running: readonly Running[],
  s: InterleavedSettings,
  onSlice: (slice: number, latest: Record<string, number>) => void = () => {},
): Promise<InterleavedResult> {
  const bodies = await Promise.all(
    targets.map(async (t) => {
      const file = join(s.workDir, `body-interleaved-${t.key.replace('@', '-')}.json`);
      await writeFile(file, t.body);
      return file;
    }),
  );
  const slice = (i: number, suffix: string) => {
    const t = targets[i] as Target;
    const load = { url: (running[i] as Running).url, bodyFile: bodies[i] as string, headers: t.headers };
    return runOpenLoop(vegeta, load, s.rate, s.sliceS, s.maxConnections, join(s.workDir, `vegeta-interleaved-${t.key.replace('@', '-')}${suffix}.bin`));
  };
  for (const i of targets.keys()) await slice(i, '-warm');
  const result: InterleavedResult = {
    rate: s.rate,
    slices: s.slices,
    sliceS: s.sliceS,
    p50Ms: Object.fromEntries(targets.map((t) => [t.key, []])),
    problems: Object.fromEntries(targets.map((t) => [t.key, 0])),
  };
  for (let n = 0; n < s.slices; n++) {
    const latest: Record<string, number> = {};
    for (let k = 0; k < targets.length; k++) {
      const i = (n + k) % targets.length;
      const key = (targets[i] as Target).key;
      const r = await slice(i, '');
      result.p50Ms[key]?.push(r.p50Ms);
      result.problems[key] = (result.problems[key] ?? 0) + r.failed + r.non2xx;
      latest[key] = r.p50Ms;
    }
    onSlice(n, latest);
  }
  return result;
}
