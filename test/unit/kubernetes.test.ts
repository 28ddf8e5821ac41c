// deploy/kubernetes can't be applied here (no cluster), so this checks what a broken install
// would get wrong: the ports, paths and names the two containers, the rendered Envoy bootstrap,
// the Services and the gateway config must agree on, in every overlay as kustomize renders it.
// Schemas, `envoy --mode validate` and Envoy Gateway's translation: kubernetes-tools.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import type { GatewayConfig } from '../../ext-proc/config/schema.js';
import { KUBERNETES_RUNTIME_DIR, KUBERNETES_XDS_DIR, kubernetesRender } from '../../envoy/kubernetes.js';
import { CDS_FILE, renderEnvoyYaml, SHADOW_RUNTIME_KEY } from '../../envoy/render.js';
import { demoLaunches } from '../../scripts/demo-models.js';
import { builtinPlugins } from '../../plugins/index.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { GATEWAY_CONFIG_FILE, renderKubernetesFiles } from '../../scripts/render-kubernetes.js';
import { find, INSTALL_HINT, KUBERNETES_DIR, kustomizeBuild, toolPath, type K8sObject } from '../../scripts/kubernetes/tools.js';
import { expectToolInCi } from './kubernetes-tools-ci.js';

interface Probe { httpGet?: { path: string; port: string | number }; tcpSocket?: { port: string | number }; exec?: unknown }
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: { cpu?: string; memory?: string } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
  terminationGracePeriodSeconds?: number;
}
type Deployment = K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
type Service = K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] } };
type ConfigMap = K8sObject & { data: Record<string, string> };

const haveKustomize = toolPath('kustomize') !== undefined;
expectToolInCi('kustomize');

const argAfter = (c: Container, flag: string) => {
  const i = (c.args ?? []).indexOf(flag);
  return i === -1 ? undefined : c.args?.[i + 1];
};
const portNamed = (c: Container, name: string | number) => (typeof name === 'number' ? name : c.ports?.find((p) => p.name === name)?.containerPort);
const mountOf = (c: Container, volume: string) => c.volumeMounts?.find((m) => m.name === volume);

function gatewayPod(objects: K8sObject[]) {
  const deployment = find<Deployment>(objects, 'Deployment', 'inference-gateway');
  const pod = deployment.spec.template.spec;
  const extProc = pod.initContainers?.find((c) => c.name === 'ext-proc') as Container;
  const envoy = pod.containers.find((c) => c.name === 'envoy') as Container;
  const volume = (mount: { name: string } | undefined) => pod.volumes.find((v) => v.name === mount?.name);
  return { deployment, pod, extProc, envoy, volume };
}

describe('deploy/kubernetes: committed renders', () => {
  it('envoy.yaml and the Envoy Gateway resources are what `npm run render:k8s` renders', async () => {
    for (const [file, text] of await renderKubernetesFiles()) {
      expect(readFileSync(join(KUBERNETES_DIR, file), 'utf8'), `${file} (fix: npm run render:k8s)`).toBe(text);
    }
  });

  it('the base and the Envoy Gateway variant run the example gateway config', () => {
    const example = readFileSync(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8');
    for (const dir of ['base', 'envoy-gateway']) {
      expect(readFileSync(join(KUBERNETES_DIR, dir, GATEWAY_CONFIG_FILE), 'utf8'), `${dir} (fix: cp examples/gateway.yaml)`).toBe(example);
    }
  });
});

describe.skipIf(!haveKustomize)(`deploy/kubernetes as kustomize renders it${haveKustomize ? '' : ` (skipped: kustomize not installed; ${INSTALL_HINT})`}`, () => {
  const overlays = ['overlays/demo', 'overlays/production'] as const;
  const built = new Map<string, K8sObject[]>();
  const configs = new Map<string, GatewayConfig>();
  beforeAll(async () => {
    for (const dir of [...overlays, 'envoy-gateway'] as const) built.set(dir, kustomizeBuild(dir));
    for (const dir of overlays) {
      const cm = find<ConfigMap>(built.get(dir) as K8sObject[], 'ConfigMap', 'gateway-config');
      configs.set(dir, (await loadConfigFile(join(KUBERNETES_DIR, dir === 'overlays/demo' ? 'base' : dir, GATEWAY_CONFIG_FILE))).config);
      // What the Pod mounts is that file, byte for byte.
      expect(cm.data['gateway.yaml']).toBe(readFileSync(join(KUBERNETES_DIR, dir === 'overlays/demo' ? 'base' : dir, GATEWAY_CONFIG_FILE), 'utf8'));
    }
  });

  it.each(overlays)('%s: every plugin instance of its gateway config has valid options (what the ext-proc checks at start)', (dir) => {
    const config = configs.get(dir) as GatewayConfig;
    const instances = [...config.plugins, ...Object.values(config.models).flatMap((m) => m.plugins ?? [])];
    expect(instances.length).toBeGreaterThan(2);
    for (const inst of instances) {
      const def = builtinPlugins.find((d) => d.type === inst.type);
      expect(def, inst.type).toBeDefined();
      const parsed = def?.options.safeParse(inst.options ?? {});
      expect(parsed?.success, `${inst.type}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
    }
  });

  it.each(overlays)('%s: the gateway config is a ConfigMap with a fixed name, mounted as a directory (edits reload, no restart)', (dir) => {
    const { extProc, volume } = gatewayPod(built.get(dir) as K8sObject[]);
    const configPath = argAfter(extProc, '--config') as string;
    const mount = mountOf(extProc, 'gateway-config');
    // subPath mounts never see ConfigMap updates; the ext-proc watches the directory's `..data` swap.
    expect(mount?.subPath).toBeUndefined();
    expect(configPath).toBe(`${mount?.mountPath}/gateway.yaml`);
    expect(volume(mount)?.configMap?.name).toBe('gateway-config');
  });

  it.each(overlays)('%s: Envoy runs the bootstrap rendered from that config, and a bootstrap change rolls the Pods', (dir) => {
    const objects = built.get(dir) as K8sObject[];
    const config = configs.get(dir) as GatewayConfig;
    const { envoy, volume } = gatewayPod(objects);
    const mount = mountOf(envoy, 'envoy-bootstrap');
    expect(argAfter(envoy, '-c')).toBe(`${mount?.mountPath}/envoy.yaml`);
    const cmName = volume(mount)?.configMap?.name as string;
    expect(cmName).toMatch(/^envoy-bootstrap-[a-z0-9]+$/);
    expect(find<ConfigMap>(objects, 'ConfigMap', cmName).data['envoy.yaml']).toBe(renderEnvoyYaml(config, kubernetesRender(config)));
  });

  it.each(overlays)('%s: Envoy reads runtime values (the shadow kill switch) from a ConfigMap every Pod mounts, by a fixed name', (dir) => {
    const objects = built.get(dir) as K8sObject[];
    const { envoy, volume } = gatewayPod(objects);
    const mount = mountOf(envoy, 'envoy-runtime');
    expect(mount?.mountPath).toBe(KUBERNETES_RUNTIME_DIR);
    expect(mount?.subPath).toBeUndefined();
    expect(volume(mount)?.configMap?.name).toBe('envoy-runtime');
    expect(find<ConfigMap>(objects, 'ConfigMap', 'envoy-runtime').data).toEqual({ [SHADOW_RUNTIME_KEY]: '100' });
  });

  it.each(overlays)('%s: Envoy dials the ext-proc on loopback, reads the model clusters it writes, and confirms reloads through the admin', (dir) => {
    const config = configs.get(dir) as GatewayConfig;
    const { extProc, envoy, volume } = gatewayPod(built.get(dir) as K8sObject[]);
    const bootstrap = parse(renderEnvoyYaml(config, kubernetesRender(config))) as {
      admin: { address: { socket_address: { address: string; port_value: number } } };
      static_resources: { listeners: { address: { socket_address: { address: string; port_value: number } } }[]; clusters: { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] };
      dynamic_resources: { cds_config: { path_config_source: { path: string } } };
    };
    const ep = bootstrap.static_resources.clusters.find((c) => c.name === 'ext_proc')?.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address;
    expect(ep).toEqual({ address: '127.0.0.1', port_value: config.extProc.port });
    expect(argAfter(extProc, '--host')).toBe('127.0.0.1');
    expect(argAfter(extProc, '--port') ?? String(config.extProc.port)).toBe(String(config.extProc.port));
    // The ext-proc is a native sidecar: up (its startup probe passed, files written) before Envoy starts.
    expect(extProc.restartPolicy).toBe('Always');
    expect(extProc.startupProbe?.httpGet?.path).toBe('/readyz');
    const xds = mountOf(extProc, 'xds');
    expect(argAfter(extProc, '--envoy-xds-dir')).toBe(KUBERNETES_XDS_DIR);
    expect(xds?.mountPath).toBe(KUBERNETES_XDS_DIR);
    expect(mountOf(envoy, 'xds')).toEqual({ name: 'xds', mountPath: KUBERNETES_XDS_DIR, readOnly: true });
    expect(volume(xds)?.emptyDir).toBeDefined();
    expect(bootstrap.dynamic_resources.cds_config.path_config_source.path).toBe(`${KUBERNETES_XDS_DIR}/${CDS_FILE}`);
    expect(argAfter(extProc, '--envoy-admin')).toBe(`http://127.0.0.1:${bootstrap.admin.address.socket_address.port_value}`);
    // The Service and the kubelet reach the listener and admin on the Pod's address.
    expect(bootstrap.static_resources.listeners[0]?.address.socket_address).toEqual({ address: '0.0.0.0', port_value: portNamed(envoy, 'http') });
    expect(bootstrap.admin.address.socket_address).toEqual({ address: '0.0.0.0', port_value: portNamed(envoy, 'envoy-admin') });
  });

  it.each(overlays)('%s: both containers have readiness and liveness probes on ports they serve, and resource requests', (dir) => {
    const config = configs.get(dir) as GatewayConfig;
    const { extProc, envoy } = gatewayPod(built.get(dir) as K8sObject[]);
    expect(argAfter(extProc, '--http-host')).toBe('0.0.0.0');
    for (const probe of [extProc.readinessProbe, extProc.livenessProbe, extProc.startupProbe]) {
      expect(portNamed(extProc, probe?.httpGet?.port as string)).toBe(config.extProc.http.port);
    }
    expect(extProc.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(extProc.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(envoy.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'envoy-admin' });
    expect(envoy.livenessProbe?.httpGet?.port).toBe('envoy-admin');
    for (const c of [extProc, envoy]) {
      expect(c.resources?.requests?.cpu, c.name).toBeDefined();
      expect(c.resources?.requests?.memory, c.name).toBeDefined();
    }
  });

  it.each(overlays)('%s: the grace period covers Envoy’s preStop wait and the ext-proc’s drain', (dir) => {
    const config = configs.get(dir) as GatewayConfig;
    const { pod, envoy } = gatewayPod(built.get(dir) as K8sObject[]);
    const needed = (envoy.lifecycle?.preStop?.sleep?.seconds ?? 0) + (config.extProc.shutdownDelayMs + config.extProc.shutdownGraceMs) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });

  it.each(overlays)('%s: the Service, PodDisruptionBudget and HorizontalPodAutoscaler select the gateway Pods', (dir) => {
    const objects = built.get(dir) as K8sObject[];
    const { deployment, envoy } = gatewayPod(objects);
    const labels = deployment.spec.template.metadata.labels;
    const svc = find<Service>(objects, 'Service', 'inference-gateway');
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(labels[k]).toBe(v);
    expect(portNamed(envoy, svc.spec.ports[0]?.targetPort as string)).toBe(configs.get(dir)?.envoy.listener.port);
    const pdb = find<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable: number } }>(objects, 'PodDisruptionBudget', 'inference-gateway');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const hpa = find<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(objects, 'HorizontalPodAutoscaler', 'inference-gateway');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'inference-gateway' });
    // The budget leaves a Pod serving at the HPA's floor.
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.maxUnavailable);
  });

  it('overlays/demo: every model endpoint of the example config is a port of the demo-models Service the ext-proc is pointed at', () => {
    const objects = built.get('overlays/demo') as K8sObject[];
    const { extProc } = gatewayPod(objects);
    expect(argAfter(extProc, '--host-map')).toBe('127.0.0.1=demo-models');
    const svc = find<Service>(objects, 'Service', 'demo-models');
    const demo = find<Deployment>(objects, 'Deployment', 'demo-models').spec.template.spec.containers[0] as Container;
    const config = configs.get('overlays/demo') as GatewayConfig;
    const launches = demoLaunches(config, '0.0.0.0');
    expect(launches.length).toBeGreaterThan(3);
    for (const l of launches) {
      const port = svc.spec.ports.find((p) => p.port === l.port);
      expect(port, `${l.key} on :${l.port}`).toBeDefined();
      expect(portNamed(demo, port?.targetPort as string), l.key).toBe(l.port);
    }
    expect(mountOf(demo, 'gateway-config')?.mountPath).toBe(argAfter(demo, '--config')?.replace(/\/gateway\.yaml$/, ''));
  });

  it('overlays/production: its own config and image, more replicas, and Redis', () => {
    const objects = built.get('overlays/production') as K8sObject[];
    const { extProc, deployment } = gatewayPod(objects);
    expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'inference-gateway')).toBe(true);
    expect(argAfter(extProc, '--host-map')).toBeUndefined();
    expect((extProc as Container & { image: string }).image).toBe('registry.example.com/inference-gateway/ext-proc:0.1.0');
    expect((deployment.spec as unknown as { replicas: number }).replicas).toBe(3);
    const redis = find<Service>(objects, 'Service', 'redis');
    find<Deployment>(objects, 'Deployment', 'redis');
    // The limits are counted in that Redis, reached by its Service name in the Pods' namespace.
    const limits = configs.get('overlays/production')?.plugins.find((p) => p.type === 'consumer-limits');
    const options = limits?.options as { store?: string; redis?: { url?: string } } | undefined;
    expect(options?.store).toBe('redis');
    const url = new URL(options?.redis?.url as string);
    expect(url.hostname).toBe(redis.metadata.name);
    expect(Number(url.port)).toBe(redis.spec.ports[0]?.port);
    // Model endpoints are Services (KServe predictors), not the demo servers.
    for (const m of Object.values(configs.get('overlays/production')?.models ?? {})) {
      for (const v of Object.values(m.versions)) for (const e of v.endpoints) expect(e).toMatch(/-predictor\.[a-z-]+\.svc\.cluster\.local:\d+$/);
    }
  });

  it('envoy-gateway: the policy, the ext-proc Service and Deployment, the Gateway and the stream-timeout patch agree', async () => {
    const objects = built.get('envoy-gateway') as K8sObject[];
    const config = (await loadConfigFile(join(KUBERNETES_DIR, 'envoy-gateway', GATEWAY_CONFIG_FILE))).config;
    const policy = find<K8sObject & { spec: { targetRefs: { kind: string; name: string }[]; extProc: { backendRefs: { name: string; port: number }[] }[] } }>(objects, 'EnvoyExtensionPolicy', /.*/);
    const gateway = find<K8sObject & { spec: { listeners: { name: string }[] } }>(objects, 'Gateway', policy.spec.targetRefs[0]?.name as string);
    const ref = policy.spec.extProc[0]?.backendRefs[0];
    const svc = find<Service>(objects, 'Service', ref?.name as string);
    expect(svc.spec.ports[0]?.port).toBe(ref?.port);
    expect(ref?.port).toBe(config.extProc.port);
    const deployment = find<Deployment>(objects, 'Deployment', 'ext-proc');
    const extProc = deployment.spec.template.spec.containers[0] as Container;
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    expect(portNamed(extProc, svc.spec.ports[0]?.targetPort as string)).toBe(config.extProc.port);
    expect(argAfter(extProc, '--host')).toBe('0.0.0.0');
    expect(argAfter(extProc, '--envoy-xds-dir')).toBeUndefined();
    expect(mountOf(extProc, 'gateway-config')?.subPath).toBeUndefined();
    const route = find<K8sObject & { spec: { parentRefs: { name: string }[] } }>(objects, 'HTTPRoute', /.*/);
    expect(route.spec.parentRefs[0]?.name).toBe(gateway.metadata.name);
    // Envoy Gateway names the listener <namespace>/<gateway>/<listener>.
    const patch = find<K8sObject & { spec: { targetRef: { name: string }; jsonPatches: { name: string }[] } }>(objects, 'EnvoyPatchPolicy', /.*/);
    expect(patch.spec.targetRef.name).toBe(gateway.metadata.name);
    expect(patch.spec.jsonPatches[0]?.name).toBe(`${gateway.metadata.namespace}/${gateway.metadata.name}/${gateway.spec.listeners[0]?.name}`);
  });
});
