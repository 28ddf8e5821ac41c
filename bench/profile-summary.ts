// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function and
// by package, so the hot path's biggest costs are visible without a flame-graph viewer.
//   node --import tsx bench/profile-summary.ts .tmp/bench/prof/full/CPU.*.cpuprofile [--top 30]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });

function bucket(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? '(gc)' : fn === '(idle)' || fn === '(program)' ? fn : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(\w+).*/, 'node:$1');
  const local = /\/(ext-proc|plugins|envoy|examples|scripts)\/(.*)$/.exec(url);
  return local ? `${local[1]}/${local[2]}` : url;
}

for (const file of positionals) {
  const p = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const fnTimes = new Map<string, number>();
  const pkgTimes = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = (byId.get(id) as Node).callFrame;
    if (functionName === '(idle)') continue;
    const key = `${functionName || '(anonymous)'}  ${bucket(url, functionName)}:${lineNumber + 1}`;
    fnTimes.set(key, (fnTimes.get(key) ?? 0) + t);
    const pkg = bucket(url, functionName);
    pkgTimes.set(pkg, (pkgTimes.get(pkg) ?? 0) + t);
  }
  const busy = total - idle;
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  process.stdout.write(`\n${file}\n  busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled\n\n  by package / file (self time, % of busy):\n`);
  for (const [k, t] of [...pkgTimes].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`  ${pct(t)}  ${k}\n`);
  process.stdout.write(`\n  top functions:\n`);
  for (const [k, t] of [...fnTimes].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) process.stdout.write(`  ${pct(t)}  ${k}\n`);
}
