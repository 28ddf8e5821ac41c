// Every place that starts the ext-proc gives it the same node flags (ext-proc/node-flags.ts):
// the image, docker-compose, the Kubernetes manifests, the launcher / e2e stack and the bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extProcArgs } from '../../bench/procs.js';
import { EXT_PROC_NODE_FLAGS } from '../../ext-proc/node-flags.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { BUILT_EXT_PROC } from '../../scripts/build.js';
import { extProcCommand } from '../../scripts/stack/index.js';

const BUILT_ENTRY = 'dist/ext-proc.js';
const expected = ['node', ...EXT_PROC_NODE_FLAGS, BUILT_ENTRY];

interface Container {
  name: string;
  command?: string[];
}

/** The `command` of every container named ext-proc in a manifest file (init containers too). */
function manifestCommands(file: string): (string[] | undefined)[] {
  const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  return docs.flatMap((doc) => {
    const spec = (doc?.spec as { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } } | undefined)?.template?.spec;
    return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].filter((c) => c.name === 'ext-proc').map((c) => c.command);
  });
}

describe('the ext-proc node flags are the same everywhere it starts', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('are not empty (the drift checks below would pass vacuously)', () => {
    expect(EXT_PROC_NODE_FLAGS.length).toBeGreaterThan(0);
  });

  it('the Docker image', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect((JSON.parse(cmd ?? '[]') as string[]).slice(0, expected.length)).toEqual(expected);
  });

  it('docker-compose', () => {
    const [compose] = parseAllDocuments(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).map((d) => d.toJS() as { services: Record<string, { command?: string[] }> });
    expect(compose?.services['ext-proc']?.command?.slice(0, expected.length)).toEqual(expected);
  });

  it.each(['deploy/kubernetes/base/deployment.yaml', 'deploy/kubernetes/envoy-gateway/ext-proc.yaml'])('Kubernetes: %s', (file) => {
    const commands = manifestCommands(file);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toEqual(expected);
  });

  it('npm start and the e2e stack (from the build and from the sources)', async () => {
    vi.stubEnv('GATEWAY_EXT_PROC_BUILT', '1');
    vi.stubEnv('GATEWAY_EXT_PROC_FROM', undefined);
    expect(await extProcCommand('build')).toEqual([...EXT_PROC_NODE_FLAGS, BUILT_EXT_PROC]);
    expect((await extProcCommand('source')).slice(0, EXT_PROC_NODE_FLAGS.length)).toEqual(EXT_PROC_NODE_FLAGS);
  });

  it('the bench, with its own --node-args after them (so they win)', () => {
    const args = extProcArgs({ configFile: 'c.yaml', grpcPort: 1, httpPort: 2, bundle: 'x.mjs', nodeArgs: ['--heap-growing-percent=0'] });
    expect(args.slice(0, EXT_PROC_NODE_FLAGS.length + 2)).toEqual([...EXT_PROC_NODE_FLAGS, '--heap-growing-percent=0', 'x.mjs']);
  });
});
