import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { startLauncher, type Launcher } from '../harness/launcher.js';

// Every shell example in README.md and docs/ that calls the gateway runs, as written, against
// the `npm start` stack (the real launcher on examples/gateway.yaml, on free ports: the test
// rewrites the documented ports and paths to the running stack's). A file's `sh` blocks run in
// order in one shell (walkthroughs define helpers in their first block), with `set -e`,
// `pipefail` and curl failing on HTTP errors, so a 401 or 404 fails the test. A block preceded
// by `<!-- doc-test: skip (reason) -->` is skipped, and the reason printed.

interface Block {
  file: string;
  line: number;
  code: string;
  skip?: string;
}

const DOCS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const CALLS_GATEWAY = /(localhost|127\.0\.0\.1):8080\b/;

function blocksOf(file: string): Block[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const out: Block[] = [];
  for (const m of text.matchAll(/(?:<!-- doc-test: skip \(([^)]*)\) -->\n)?```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    out.push({ file, line: text.slice(0, m.index).split('\n').length, code: m[2] as string, skip: m[1] });
  }
  return out;
}

/** Files with at least one block that is not skipped and calls the gateway, with all their blocks. */
const files = DOCS.map((file) => ({ file, blocks: blocksOf(file) })).filter((f) => f.blocks.some((b) => !b.skip && CALLS_GATEWAY.test(b.code)));

const configText = readFileSync(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8');
const config = parse(configText) as GatewayConfigInput;
let launcher: Launcher;
beforeAll(async () => {
  // The example file as it is (the walkthrough edits it with sed), only its ports replaced.
  launcher = await startLauncher(config, {
    configText: (effective) => replacePorts(configText, portPairs(config, effective), ''),
  });
}, 120_000);
afterAll(async () => {
  await launcher?.stop();
});

/** Each port the example config names → the running stack's. */
function portPairs(config: GatewayConfigInput, e: GatewayConfigInput): [string, string][] {
  const port = (hostPort: string) => hostPort.slice(hostPort.lastIndexOf(':') + 1);
  const pairs: [string, string][] = [
    [String(config.envoy?.listener?.port ?? 8080), String(e.envoy?.listener?.port)],
    [String(config.envoy?.admin?.port ?? 9901), String(e.envoy?.admin?.port)],
    [String(config.extProc?.port ?? 50051), String(e.extProc?.port)],
    [String(config.extProc?.http?.port ?? 9464), String(e.extProc?.http?.port)],
  ];
  for (const [model, m] of Object.entries(config.models)) {
    for (const [version, v] of Object.entries(m.versions)) {
      v.endpoints.forEach((ep, i) => pairs.push([port(ep), port(e.models[model]?.versions[version]?.endpoints[i] as string)]));
    }
  }
  return pairs;
}

/** Replaces every documented port at once (a new port may equal another old one), after `prefix` (a regex source). */
function replacePorts(text: string, pairs: [string, string][], prefix: string): string {
  const map = new Map(pairs);
  return text.replace(new RegExp(`(${prefix})\\b(${[...map.keys()].join('|')})\\b`, 'g'), (_m, before: string, port: string) => `${before}${map.get(port)}`);
}

/** A doc example with the documented addresses and paths of the running stack. */
function rewrite(code: string): string {
  return replacePorts(code, portPairs(config, launcher.effective), '(?:localhost|127\\.0\\.0\\.1):')
    .replace(/examples\/gateway\.yaml/g, launcher.configPath)
    .replace(/\.tmp\/stack\//g, `${join(launcher.workDir, 'stack')}/`);
}

function runShell(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('shell examples in the docs, against the npm start stack', () => {
  it('finds the examples (and every skipped one says why)', () => {
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['README.md', 'docs/routing.md', 'docs/security.md']));
    for (const { blocks } of files) {
      for (const b of blocks.filter((x) => x.skip !== undefined)) {
        expect(b.skip?.trim().length, `${b.file}:${b.line}`).toBeGreaterThan(10);
        console.log(`skipped ${b.file}:${b.line}: ${b.skip}`);
      }
    }
  });

  for (const { file, blocks } of files) {
    it(`${file}: ${blocks.filter((b) => !b.skip).length} block(s) run and every request succeeds`, async () => {
      let script = 'set -euo pipefail\ncurl() { command curl --fail-with-body --show-error "$@"; }\n';
      for (const b of blocks.filter((x) => !x.skip)) {
        script += `echo "--- ${b.file}:${b.line}"\n${rewrite(b.code)}\n`;
      }
      const { code, output } = await runShell(script);
      expect(code, `${file} examples failed:\n${output.slice(-3000)}`).toBe(0);
      console.log(output);
    }, 180_000);
  }
});
