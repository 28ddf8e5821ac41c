// The layers point one way (issue 11.3): the SDK a plugin author imports needs nothing of the
// ext-proc; the core needs no built-in plugin; rendering Envoy's config loads no server code;
// the wire names module imports nothing; the ext-proc has no import cycles. Read from the
// source's imports (type-only and literal dynamic ones too: they tie the files as much for a reader).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Repository-relative `.ts` files under `dir`, tests and generated stubs left out. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts'))
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)).split(path.sep).join('/'))
    .filter((f) => !f.startsWith('ext-proc/gen/') && !f.includes('/dist/') && !f.endsWith('.d.ts'));
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** What `file` imports: repository files (relative, `.ts`) and packages (bare names). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[1] ?? m[2] ?? m[3]) as string;
    if (!spec.startsWith('.')) return spec;
    return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
  });
}

/** What `file` loads at run time: its imports that are not type-only, generated stubs included. */
function valueImportsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^\s*(import|export)(\s+type\b)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    .filter((m) => m[2] === undefined)
    .map((m) => {
      const spec = (m[3] ?? m[4] ?? m[5]) as string;
      if (!spec.startsWith('.')) return spec;
      return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    });
}

/** Every repository file and package `entry` loads at run time. */
function loads(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.endsWith('.ts')) todo.push(...valueImportsOf(f));
  }
  return seen;
}

/** Every repository file and package `entry` reaches by import. */
function reach(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.endsWith('.ts') && !f.startsWith('ext-proc/gen/')) todo.push(...importsOf(f));
  }
  seen.delete(entry);
  return seen;
}

const SDK_HARNESS = new Set(['plugins/sdk/testing.ts', 'plugins/sdk/envoy-sim.ts']);
const SERVER_CODE = ['ext-proc/server.ts', 'ext-proc/main.ts', '@grpc/grpc-js', 'grpc-health-check'];

describe('layers', () => {
  it('the SDK a plugin imports reaches nothing of ext-proc/ (the harness runs the pipeline, never the server)', () => {
    for (const f of sources('plugins/sdk').filter((f) => !SDK_HARNESS.has(f))) {
      const repoFile = (r: string) => r.endsWith('.ts') && r.includes('/');
      expect([...reach(f)].filter((r) => repoFile(r) && !r.startsWith('plugins/sdk/') && !r.startsWith('plugins/shared/')), f).toEqual([]);
    }
    for (const f of SDK_HARNESS) {
      expect([...reach(f)].filter((r) => SERVER_CODE.includes(r)), f).toEqual([]);
      expect([...loads(f)].filter((r) => SERVER_CODE.includes(r)), `${f} loads`).toEqual([]);
    }
  });

  it('the core imports no built-in plugin (only the SDK contract and its shared helpers)', () => {
    // Not the core: main.ts wires the built-ins in; the console shows their configuration.
    const composition = (f: string) => f === 'ext-proc/main.ts' || f.startsWith('ext-proc/console/');
    for (const f of sources('ext-proc').filter((f) => !composition(f))) {
      expect(importsOf(f).filter((i) => i.startsWith('plugins/') && !i.startsWith('plugins/sdk/') && !i.startsWith('plugins/shared/')), f).toEqual([]);
    }
  });

  it('rendering the Envoy config loads no server code, logger or gRPC', () => {
    const reached = [...reach('envoy/render.ts')];
    expect(reached.filter((r) => [...SERVER_CODE, 'pino', 'ext-proc/stream.ts'].includes(r))).toEqual([]);
  });

  it('the wire names module imports nothing', () => {
    expect(importsOf('plugins/sdk/wire.ts')).toEqual([]);
  });

  it("ext-proc/'s folders point one way: config below pipeline below routing below runtime and stream", () => {
    // Each folder may import the ones after it in this list, never one before it.
    const order = ['ext-proc/stream.ts', 'ext-proc/runtime.ts', 'ext-proc/routing/', 'ext-proc/pipeline/', 'ext-proc/config/'];
    const rank = (f: string) => order.findIndex((o) => f === o || (o.endsWith('/') && f.startsWith(o)));
    const upward: string[] = [];
    for (const f of sources('ext-proc').filter((f) => rank(f) !== -1)) {
      for (const i of importsOf(f)) if (rank(i) !== -1 && rank(i) < rank(f)) upward.push(`${f} -> ${i}`);
    }
    expect(upward).toEqual([]);
  });

  it('ext-proc/ has no import cycles', () => {
    const files = sources('ext-proc');
    const edges = new Map(files.map((f) => [f, importsOf(f).filter((i) => i.startsWith('ext-proc/') && !i.startsWith('ext-proc/gen/'))]));
    const cycles: string[] = [];
    // A file is in a cycle when it reaches itself.
    for (const f of files) {
      const seen = new Set<string>();
      const todo = [...(edges.get(f) ?? [])];
      while (todo.length > 0) {
        const g = todo.pop() as string;
        if (g === f) {
          cycles.push(f);
          break;
        }
        if (seen.has(g)) continue;
        seen.add(g);
        todo.push(...(edges.get(g) ?? []));
      }
    }
    expect(cycles).toEqual([]);
  });
});
