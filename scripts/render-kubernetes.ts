// Renders the config-derived files of deploy/kubernetes from each gateway config there:
//   npm run render:k8s
// - every kustomization with a gateway-config.yaml that runs our own Envoy gets its Envoy
//   bootstrap (envoy.yaml) beside it, rendered as the Pod wires it (envoy/kubernetes.ts);
// - the Envoy Gateway variant gets its HTTPRoute, ext_proc policy and friends
//   (envoy-gateway-resources.yaml), rendered by scripts/kubernetes/envoy-gateway.ts.
// test/unit/kubernetes-drift.test.ts fails when a committed file differs from a fresh render.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfigFile } from '../ext-proc/config/load.js';
import { parseHostMap } from '../ext-proc/config/host-map.js';
import { kubernetesRender } from '../envoy/kubernetes.js';
import { renderEnvoyYaml } from '../envoy/render.js';
import { REPO_ROOT } from './envoy-bin.js';
import { renderEnvoyGatewayResources } from './kubernetes/envoy-gateway.js';

export const KUBERNETES_DIR = join(REPO_ROOT, 'deploy/kubernetes');
/** Kustomizations whose Pods run our Envoy next to the ext-proc, each with its own gateway config. */
export const SIDECAR_CONFIG_DIRS = ['base', 'overlays/production'] as const;
export const ENVOY_GATEWAY_DIR = 'envoy-gateway';
/** How the Envoy Gateway variant's ext-proc reaches the demo servers (its Deployment passes the same --host-map). */
export const ENVOY_GATEWAY_HOST_MAP = ['127.0.0.1=demo-models'] as const;

export const GATEWAY_CONFIG_FILE = 'gateway-config.yaml';
export const ENVOY_BOOTSTRAP_FILE = 'envoy.yaml';
export const ENVOY_GATEWAY_RESOURCES_FILE = 'envoy-gateway-resources.yaml';

/** Every rendered file, by path relative to deploy/kubernetes. */
export async function renderKubernetesFiles(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of SIDECAR_CONFIG_DIRS) {
    const { config } = await loadConfigFile(join(KUBERNETES_DIR, dir, GATEWAY_CONFIG_FILE));
    out.set(`${dir}/${ENVOY_BOOTSTRAP_FILE}`, renderEnvoyYaml(config, kubernetesRender(config)));
  }
  const { config } = await loadConfigFile(join(KUBERNETES_DIR, ENVOY_GATEWAY_DIR, GATEWAY_CONFIG_FILE));
  const docs = renderEnvoyGatewayResources(config, parseHostMap(ENVOY_GATEWAY_HOST_MAP));
  out.set(
    `${ENVOY_GATEWAY_DIR}/${ENVOY_GATEWAY_RESOURCES_FILE}`,
    `# Rendered from ${GATEWAY_CONFIG_FILE} by \`npm run render:k8s\`; do not edit by hand.\n${docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')}`,
  );
  return out;
}

async function main(): Promise<void> {
  for (const [file, text] of await renderKubernetesFiles()) {
    await writeFile(join(KUBERNETES_DIR, file), text);
    process.stdout.write(`wrote deploy/kubernetes/${file}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
