// deploy/kubernetes checked by the tools a cluster would use, offline: every manifest of every
// kustomization against the Kubernetes schemas and the Gateway API / Envoy Gateway CRDs, each
// rendered Envoy bootstrap through `envoy --mode validate`, and the Envoy Gateway variant through
// Envoy Gateway's own translator (egctl x translate), which must produce our ext_proc filter.
// Tools come from scripts/install-k8s-tools.sh (.ci/run runs it); without them these skip, saying so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GatewayConfig } from '../../ext-proc/config/schema.js';
import { INTERNAL_REQUEST_HEADERS } from '../../plugins/sdk/wire.js';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import { parseHostMap, withHostMap } from '../../ext-proc/config/host-map.js';
import { KUBERNETES_RUNTIME_DIR, KUBERNETES_XDS_DIR, kubernetesRender } from '../../envoy/kubernetes.js';
import { modelResources, renderEnvoyYaml, renderXdsFiles, SHADOW_RUNTIME_KEY } from '../../envoy/render.js';
import { ConfigMapVolume } from '../harness/configmap-volume.js';
import { resolveEnvoyBin, REPO_ROOT } from '../../scripts/envoy-bin.js';
import { egProcessingMode } from '../../scripts/kubernetes/envoy-gateway.js';
import { ENVOY_GATEWAY_DIR, GATEWAY_CONFIG_FILE, SIDECAR_CONFIG_DIRS } from '../../scripts/render-kubernetes.js';
import { INSTALL_HINT, KUBERNETES_DIR, KUBERNETES_VERSIONS, KUSTOMIZATIONS, kustomizeBuildText, toolPath } from '../../scripts/kubernetes/tools.js';
import { expectToolInCi } from './kubernetes-tools-ci.js';

for (const tool of ['kustomize', 'validator', 'crds', 'egctl'] as const) expectToolInCi(tool);
const missing = (...tools: Parameters<typeof toolPath>[0][]) => {
  const absent = tools.filter((t) => toolPath(t) === undefined);
  return absent.length === 0 ? '' : ` (skipped: ${absent.join(', ')} not installed; ${INSTALL_HINT})`;
};

const work = mkdtempSync(join(tmpdir(), 'k8s-tools-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function validate(...files: string[]): { status: number | null; out: string } {
  const r = spawnSync(
    toolPath('validator') as string,
    [join(REPO_ROOT, 'scripts/kubernetes/validate.py'), ...KUBERNETES_VERSIONS.flatMap((v) => ['--kubernetes-version', v]), '--crds', toolPath('crds') as string, ...files],
    { encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const schemaTools = missing('kustomize', 'validator', 'crds');
describe.skipIf(schemaTools !== '')(`every manifest against the Kubernetes schemas and the CRDs${schemaTools}`, () => {
  const files = new Map<string, { file: string; docs: number }>();
  let result: { status: number | null; out: string };
  beforeAll(() => {
    for (const dir of KUSTOMIZATIONS) {
      const file = join(work, `${dir.replace('/', '-')}.yaml`);
      const text = kustomizeBuildText(dir);
      writeFileSync(file, text);
      files.set(dir, { file, docs: text.split(/^---$/m).length });
    }
    // One run for all: the CRDs and schemas load once.
    result = validate(...[...files.values()].map((f) => f.file));
  }, 120_000);

  it.each(KUSTOMIZATIONS)(`%s validates against Kubernetes ${KUBERNETES_VERSIONS.join(' and ')} (strict: unknown fields refused)`, (dir) => {
    const { file, docs } = files.get(dir) as { file: string; docs: number };
    const lines = result.out.split('\n').filter((l) => l.includes(`${file}:`));
    expect(lines.filter((l) => !l.startsWith('ok '))).toEqual([]);
    expect(lines.length).toBe(docs * KUBERNETES_VERSIONS.length);
    expect(result.status, result.out).toBe(0);
  });

  it('refuses a typo in a built-in kind and in a CRD kind, and a kind it has no schema for', () => {
    const file = join(work, 'broken.yaml');
    const text = kustomizeBuildText('envoy-gateway')
      .replace('maxUnavailable: 1', 'maxUnavailabel: 1')
      .replace('allowModeOverride: true', 'allowModeOveride: true')
      .concat('---\napiVersion: example.com/v1\nkind: Unknown\nmetadata: { name: x }\n');
    writeFileSync(file, text);
    const { status, out } = validate(file);
    expect(status).toBe(1);
    expect(out).toMatch(/INVALID .*PodDisruptionBudget ext-proc.*maxUnavailabel/);
    expect(out).toMatch(/INVALID .*EnvoyExtensionPolicy .*allowModeOveride/);
    expect(out).toMatch(/INVALID .*Unknown x.*no schema/);
  }, 120_000);
});

describe('the Pod’s Envoy bootstrap passes envoy --mode validate', () => {
  it.each(SIDECAR_CONFIG_DIRS)('%s/envoy.yaml, with the model clusters and routes the ext-proc writes beside it', async (dir) => {
    const { config } = withHostMap(await loadConfigFile(join(KUBERNETES_DIR, dir, GATEWAY_CONFIG_FILE)), parseHostMap(dir === 'base' ? ['127.0.0.1=demo-models'] : []));
    // The xDS directory is the Pod's emptyDir; here a temp dir stands in for it.
    const xds = mkdtempSync(join(work, 'xds-'));
    for (const [file, text] of Object.entries(renderXdsFiles(modelResources(config, {}), 'initial'))) writeFileSync(join(xds, file), text);
    // So is the envoy-runtime ConfigMap's volume.
    const runtime = new ConfigMapVolume(mkdtempSync(join(work, 'runtime-')));
    await runtime.publish({ [SHADOW_RUNTIME_KEY]: '100' });
    const inPod = renderEnvoyYaml(config, kubernetesRender(config));
    expect(inPod).toContain(KUBERNETES_XDS_DIR);
    expect(inPod).toContain(KUBERNETES_RUNTIME_DIR);
    const bootstrap = inPod.replaceAll(KUBERNETES_XDS_DIR, xds).replaceAll(KUBERNETES_RUNTIME_DIR, runtime.dir);
    // And the same model clusters and routes inline, so Envoy checks them too (it does not open the xDS files in validate mode).
    const inline = renderEnvoyYaml(config, { ...kubernetesRender(config), xdsDir: undefined, runtimeDir: runtime.dir });
    for (const [name, text] of [['bootstrap', bootstrap], ['inline', inline]] as const) {
      const file = join(work, `${dir.replace('/', '-')}-${name}.yaml`);
      writeFileSync(file, text);
      const r = spawnSync(resolveEnvoyBin(), ['--mode', 'validate', '-c', file, '--log-level', 'error'], { encoding: 'utf8' });
      expect(r.status, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/configuration .* OK/);
    }
  }, 60_000);
});

const egTools = missing('kustomize', 'egctl');
describe.skipIf(egTools !== '')(`Envoy Gateway translates the variant into our ext_proc filter${egTools}`, () => {
  type Obj = Record<string, unknown>;
  /** Every object in `tree` for which `pred` holds (the config dump nests deeply). */
  const all = (tree: unknown, pred: (o: Obj) => boolean): Obj[] => {
    if (Array.isArray(tree)) return tree.flatMap((t) => all(t, pred));
    if (tree === null || typeof tree !== 'object') return [];
    const o = tree as Obj;
    return [...(pred(o) ? [o] : []), ...Object.values(o).flatMap((v) => all(v, pred))];
  };
  let xds: unknown;
  let config: GatewayConfig;
  beforeAll(async () => {
    config = (await loadConfigFile(join(KUBERNETES_DIR, ENVOY_GATEWAY_DIR, GATEWAY_CONFIG_FILE))).config;
    // The kustomization plus the cluster-scoped GatewayClass applied beside it.
    const file = join(work, 'envoy-gateway.yaml');
    writeFileSync(file, `${readFileSync(join(KUBERNETES_DIR, ENVOY_GATEWAY_DIR, 'gatewayclass.yaml'), 'utf8')}---\n${kustomizeBuildText('envoy-gateway')}`);
    // Offline there are no EndpointSlices: egctl stands in addresses for the Services.
    const r = spawnSync(toolPath('egctl') as string, ['x', 'translate', '--from', 'gateway-api', '--to', 'xds', '--type', 'all', '--output', 'yaml', '--add-missing-resources', '--file', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    xds = parse(r.stdout);
  }, 120_000);

  it('the Gateway’s listener runs our ext_proc first, with our processing mode and timeouts, and no stream timeout', () => {
    const [listener] = all(xds, (o) => o['@type'] === 'type.googleapis.com/envoy.config.listener.v3.Listener' && o.name === 'inference-gateway/inference-gateway/http');
    const filters = all(listener, (o) => Array.isArray(o.httpFilters))[0]?.httpFilters as Obj[];
    const extProc = filters[0] as { name: string; typedConfig: Obj };
    expect(extProc.name).toMatch(/^envoy\.filters\.http\.ext_proc\/envoyextensionpolicy\/inference-gateway\/inference-gateway-ext-proc\//);
    // The same modes as our own bootstrap's filter (envoy/render.ts), in the config dump's camelCase.
    const ours = (parse(renderEnvoyYaml(config, kubernetesRender(config))) as Obj);
    const [ourFilter] = all(ours, (o) => o.name === 'envoy.filters.http.ext_proc') as { typed_config: { processing_mode: Record<string, string>; message_timeout: string; allow_mode_override: boolean } }[];
    const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    // The dump leaves out enum defaults (a body mode of NONE).
    const ourModes = Object.entries(ourFilter?.typed_config.processing_mode ?? {}).filter(([, v]) => v !== 'NONE');
    expect(ourModes.length).toBeGreaterThan(3);
    expect(extProc.typedConfig.processingMode).toEqual(Object.fromEntries(ourModes.map(([k, v]) => [camel(k), v])));
    expect(extProc.typedConfig.allowModeOverride).toBe(ourFilter?.typed_config.allow_mode_override);
    expect(extProc.typedConfig.messageTimeout).toBe(ourFilter?.typed_config.message_timeout);
    expect(extProc.typedConfig.statusOnError).toEqual({ code: 'ServiceUnavailable' });
    expect(extProc.typedConfig.failureModeAllow).toBeUndefined();
    // ext-proc-stream-timeout.yaml removed Envoy Gateway's 10 s limit on the whole stream.
    expect((extProc.typedConfig.grpcService as Obj).timeout).toBeUndefined();
    expect(JSON.stringify(all(listener, (o) => Array.isArray(o.mutations))[0]?.mutations)).toBe(JSON.stringify(INTERNAL_REQUEST_HEADERS.map((h) => ({ remove: h }))));
  });

  it('every model version is a route on the cluster header with ext_proc on, and the rest a 404 JSON after ext_proc', () => {
    const routes = all(xds, (o) => Array.isArray(o.routes) && String(o.name).startsWith('inference-gateway/inference-gateway/http'))[0]?.routes as { match: { headers?: { name: string; stringMatch: { exact: string } }[]; prefix?: string }; directResponse?: { status: number }; typedPerFilterConfig?: Obj }[];
    const versions = Object.entries(config.models).flatMap(([model, m]) => Object.keys(m.versions).map((v) => `${model}@${v}`));
    expect(versions.length).toBeGreaterThan(3);
    for (const key of versions) {
      const route = routes.find((r) => r.match.headers?.some((h) => h.name === 'x-gateway-cluster' && h.stringMatch.exact === key));
      expect(route, key).toBeDefined();
      expect(Object.keys(route?.typedPerFilterConfig ?? {}).some((k) => k.startsWith('envoy.filters.http.ext_proc/')), key).toBe(true);
    }
    const last = routes.at(-1);
    expect(last?.match).toEqual({ prefix: '/' });
    expect(last?.directResponse?.status).toBe(404);
    expect(Object.keys(last?.typedPerFilterConfig ?? {}).some((k) => k.startsWith('envoy.filters.http.ext_proc/'))).toBe(true);
    expect(egProcessingMode()).toEqual({ request: { body: 'Buffered' }, allowModeOverride: true });
  });
});
