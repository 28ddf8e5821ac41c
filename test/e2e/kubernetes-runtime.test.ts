// The Kubernetes Pod's Envoy (envoy/kubernetes.ts) reads runtime values from the
// `envoy-runtime` ConfigMap: one edit of the shadow kill switch reaches every Pod's Envoy,
// without a restart, instead of a `runtime_modify` per Pod. Real Envoy, with the bootstrap the
// base renders, and a directory updated exactly as the kubelet updates a ConfigMap volume.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import { kubernetesRender } from '../../envoy/kubernetes.js';
import { modelResources, renderEnvoyYaml, renderXdsFiles, SHADOW_RUNTIME_KEY } from '../../envoy/render.js';
import { resolveEnvoyBin, REPO_ROOT } from '../../scripts/envoy-bin.js';
import { freePort, httpOk, spawnChild, waitFor, type Child } from '../../scripts/stack/processes.js';
import { ConfigMapVolume } from '../harness/configmap-volume.js';

let work: string;
let envoy: Child;
let adminUrl: string;
let runtime: ConfigMapVolume;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'k8s-runtime-'));
  const { config } = await loadConfigFile(join(REPO_ROOT, 'deploy/kubernetes/base/gateway-config.yaml'));
  config.envoy.listener.port = await freePort();
  config.envoy.admin.port = await freePort();
  adminUrl = `http://127.0.0.1:${config.envoy.admin.port}`;
  const xdsDir = join(work, 'xds');
  await mkdir(xdsDir);
  for (const [file, text] of Object.entries(renderXdsFiles(modelResources(config), 'initial'))) await writeFile(join(xdsDir, file), text);
  runtime = new ConfigMapVolume(join(work, 'runtime'));
  await mkdir(runtime.dir);
  await runtime.publish({ [SHADOW_RUNTIME_KEY]: '100' });
  // The Pod's bootstrap, on loopback and with this test's directories in place of the Pod's volumes.
  const bootstrap = join(work, 'envoy.yaml');
  await writeFile(bootstrap, renderEnvoyYaml(config, { ...kubernetesRender(config), bindAddress: '127.0.0.1', xdsDir, runtimeDir: runtime.dir }));
  envoy = spawnChild({ name: 'envoy', command: resolveEnvoyBin(), args: ['-c', bootstrap, '--use-dynamic-base-id', '--log-level', 'warn'], logFile: join(work, 'envoy.log') });
  await waitFor(`Envoy admin (log: ${envoy.logFile})`, () => httpOk(`${adminUrl}/server_info`));
});

afterAll(async () => {
  await envoy?.stop();
  await rm(work, { recursive: true, force: true });
});

async function shadowPercent(): Promise<{ final: string | undefined; layers: string[] }> {
  const res = await fetch(`${adminUrl}/runtime?format=json`);
  const body = (await res.json()) as { layers: string[]; entries: Record<string, { final_value: string }> };
  return { final: body.entries[SHADOW_RUNTIME_KEY]?.final_value, layers: body.layers };
}

describe('the Kubernetes bootstrap’s runtime layer from a ConfigMap', () => {
  it('takes the shadow kill switch from the ConfigMap, follows each update, and still lets the admin override one Envoy', async () => {
    expect(await shadowPercent()).toEqual({ final: '100', layers: ['static', 'configmap', 'admin'] });

    await runtime.publish({ [SHADOW_RUNTIME_KEY]: '0' });
    await vi.waitFor(async () => expect((await shadowPercent()).final).toBe('0'), { timeout: 10_000, interval: 100 });
    await runtime.publish({ [SHADOW_RUNTIME_KEY]: '25' });
    await vi.waitFor(async () => expect((await shadowPercent()).final).toBe('25'), { timeout: 10_000, interval: 100 });

    // The admin layer sits above: a per-Pod override wins until it is removed.
    expect((await fetch(`${adminUrl}/runtime_modify?${SHADOW_RUNTIME_KEY}=5`, { method: 'POST' })).status).toBe(200);
    expect((await shadowPercent()).final).toBe('5');
  });
});
