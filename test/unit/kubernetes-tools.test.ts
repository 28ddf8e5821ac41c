// deploy/kubernetes checked by the tools a cluster would use, offline: every manifest of every
// kustomization against the Kubernetes schemas and the Gateway API / Envoy Gateway CRDs, each
// rendered Envoy bootstrap through `envoy --mode validate`, and the Envoy Gateway variant through
// Envoy Gateway's own translator (egctl x translate), which must produce our ext_proc filter.
// Tools come from scripts/install-k8s-tools.sh (.ci/run runs it); without them these skip, saying so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import { parseHostMap, withHostMap } from '../../ext-proc/config/host-map.js';
import { KUBERNETES_XDS_DIR, kubernetesRender } from '../../envoy/kubernetes.js';
import { modelResources, renderEnvoyYaml, renderXdsFiles } from '../../envoy/render.js';
import { resolveEnvoyBin, REPO_ROOT } from '../../scripts/envoy-bin.js';
import { EG_NAMES, egProcessingMode } from '../../scripts/kubernetes/envoy-gateway.js';
import { GATEWAY_CONFIG_FILE, SIDECAR_CONFIG_DIRS } from '../../scripts/render-kubernetes.js';
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
    const bootstrap = renderEnvoyYaml(config, kubernetesRender(config));
    expect(bootstrap).toContain(KUBERNETES_XDS_DIR);
    // And the same model clusters and routes inline, so Envoy checks them too (it does not open the xDS files in validate mode).
    const inline = renderEnvoyYaml(config, { ...kubernetesRender(config), xdsDir: undefined });
    for (const [name, text] of [['bootstrap', bootstrap.replaceAll(KUBERNETES_XDS_DIR, xds)], ['inline', inline]] as const) {
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
  it('egctl x translate: the Gateway’s listener runs ext_proc with our modes, and each version is a header-matched route', () => {
    const file = join(work, 'envoy-gateway.yaml');
    writeFileSync(file, kustomizeBuildText('envoy-gateway'));
    const r = spawnSync(toolPath('egctl') as string, ['x', 'translate', '--from', 'gateway-api', '--to', 'xds', '--type', 'all', '--output', 'json', '--file', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    const xds = r.stdout;
    expect(xds).toContain('"name": "envoy.filters.http.ext_proc/envoyextensionpolicy');
    expect(xds).toContain(`${EG_NAMES.extensionPolicy}`);
    // Our processing mode, as the policy asked: request headers and buffered body, responses on demand.
    expect(xds).toMatch(/"request_body_mode":\s*"BUFFERED"|"requestBodyMode":\s*"BUFFERED"/);
    expect(xds).toMatch(/"allow_mode_override":\s*true|"allowModeOverride":\s*true/);
    expect(egProcessingMode()).toEqual({ request: { body: 'Buffered' }, allowModeOverride: true });
    // The ext-proc Service is the processor's cluster; each version a route on the cluster header.
    expect(xds).toMatch(/ext-proc/);
    expect(xds).toContain('x-gateway-cluster');
    expect(xds).toContain('sentiment@v2');
  }, 120_000);
});
