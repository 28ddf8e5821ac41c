// docker-compose.yml can't be brought up here (no Docker engine), so this checks what a broken
// compose stack would get wrong: files it mounts, the ports and service names Envoy's rendered
// config dials, what Prometheus scrapes, and that envoy.docker.yaml is the renderer's output.
// `.ci/run` also runs `docker-compose config -q` (the compose schema) where it can.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import { XdsPublisher } from '../../ext-proc/envoy-xds.js';
import { parseHostMap, withHostMap } from '../../ext-proc/config/host-map.js';
import { createLogger } from '../../ext-proc/logger.js';
import { CDS_FILE, renderEnvoyYaml } from '../../envoy/render.js';
import { DOCKER_RENDER } from '../../scripts/render-envoy.js';
import { demoLaunches } from '../../scripts/demo-models.js';
import { ENVOY_LOG_FLUSH_MS } from '../../scripts/stack/index.js';
import { ENVOY_VERSION, REPO_ROOT } from '../../scripts/envoy-bin.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const envoyDocker = readFileSync(join(REPO_ROOT, 'envoy/envoy.docker.yaml'), 'utf8');
const envoyCfg = parse(envoyDocker) as {
  admin: { address: { socket_address: { port_value: number } } };
  static_resources: {
    listeners: { address: { socket_address: { port_value: number } } }[];
    clusters: Cluster[];
  };
  dynamic_resources?: { cds_config: { path_config_source: { path: string; watched_directory: { path: string } } } };
};
type Cluster = { name: string; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } };
const exampleConfig = (await loadConfigFile(join(REPO_ROOT, 'examples/gateway.yaml'))).config;

/** Container paths of a service's bind mounts, by host path. */
function mounts(s: Service): Map<string, string> {
  return new Map((s.volumes ?? []).map((v) => v.split(':') as [string, string]));
}
function publishedContainerPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
}
function argAfter(cmd: string[] | undefined, flag: string): string | undefined {
  const i = (cmd ?? []).indexOf(flag);
  return i === -1 ? undefined : cmd?.[i + 1];
}
function endpoints(clusterName: string, clusters: Cluster[] = envoyCfg.static_resources.clusters): { address: string; port_value: number }[] {
  const c = clusters.find((x) => x.name === clusterName);
  if (!c) throw new Error(`no cluster ${clusterName} in envoy.docker.yaml`);
  return c.load_assignment.endpoints.flatMap((e) => e.lb_endpoints.map((l) => l.endpoint.address.socket_address));
}
/** Named-volume mounts of a service: container path by volume name. */
function volumeMounts(s: Service): Map<string, string> {
  return new Map([...mounts(s).entries()].filter(([host]) => !host.startsWith('.') && !host.startsWith('/')));
}
function argsAfter(cmd: string[] | undefined, flag: string): string[] {
  return (cmd ?? []).flatMap((a, i, all) => (all[i - 1] === flag ? [a] : []));
}


/** The built ext-proc and the source it is built from (scripts/build.ts). */
const BUILT_ENTRY = 'dist/ext-proc.js';
const BUILD_SCRIPT = 'scripts/build.ts';
const sourceOf = (arg: string) => (arg === BUILT_ENTRY ? 'ext-proc/main.ts' : arg);

describe('docker-compose.yml', () => {
  it('runs the official Envoy image of the pinned version with the rendered docker config', () => {
    expect(services.envoy?.image).toBe(`envoyproxy/envoy:v${ENVOY_VERSION}`);
    const m = mounts(services.envoy as Service);
    expect(m.get('./envoy/envoy.docker.yaml')).toBe(argAfter(services.envoy?.command, '-c'));
    // Access-log lines as soon as under npm start.
    expect(argAfter(services.envoy?.command, '--file-flush-interval-msec')).toBe(String(ENVOY_LOG_FLUSH_MS));
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const host of mounts(s).keys()) {
        if (volumeMounts(s).has(host)) continue;
        expect(existsSync(join(REPO_ROOT, host)), `${name} mounts ${host}`).toBe(true);
      }
    }
  });

  it('envoy.docker.yaml is what `npm run render:envoy` renders from the example config', () => {
    expect(envoyDocker).toBe(renderEnvoyYaml(exampleConfig, DOCKER_RENDER));
  });

  it('Envoy dials the ext-proc service on the port the ext-proc binds, on all interfaces', () => {
    const [extProc] = endpoints('ext_proc');
    expect(extProc?.address).toBe('ext-proc');
    expect(services['ext-proc']).toBeDefined();
    const cmd = services['ext-proc']?.command;
    // The config file the ext-proc reads is the example config, mounted.
    expect(mounts(services['ext-proc'] as Service).get('./examples/gateway.yaml')).toBe(argAfter(cmd, '--config'));
    expect(extProc?.port_value).toBe(Number(argAfter(cmd, '--port') ?? exampleConfig.extProc.port));
    expect(argAfter(cmd, '--host')).toBe('0.0.0.0');
    expect(argAfter(cmd, '--http-host')).toBe('0.0.0.0');
  });

  it('Envoy reads model clusters and routes from the volume the ext-proc writes them to', () => {
    const cds = envoyCfg.dynamic_resources?.cds_config.path_config_source;
    expect(cds?.path).toBe(`${DOCKER_RENDER.xdsDir}/${CDS_FILE}`);
    const extProc = services['ext-proc'] as Service;
    const [volume, atInEnvoy] = [...volumeMounts(services.envoy as Service).entries()].find(([, c]) => c.startsWith(DOCKER_RENDER.xdsDir)) ?? [];
    expect(atInEnvoy).toBe(DOCKER_RENDER.xdsDir);
    expect(volumeMounts(extProc).get(volume as string)).toBe(DOCKER_RENDER.xdsDir);
    expect(compose.volumes).toHaveProperty(volume as string);
    expect(argAfter(extProc.command, '--envoy-xds-dir')).toBe(DOCKER_RENDER.xdsDir);
    // The image runs as `node`; a fresh named volume copies the owner of the image's directory.
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const user = /^USER\s+(\S+)$/m.exec(dockerfile)?.[1];
    expect(dockerfile).toMatch(new RegExp(`mkdir -p ${DOCKER_RENDER.xdsDir} && chown ${user}:${user} ${DOCKER_RENDER.xdsDir}`));
    expect(dockerfile.indexOf(`chown ${user}`)).toBeLessThan(dockerfile.indexOf(`USER ${user}`));
    // Reloads are confirmed through Envoy's admin, which the docker render binds on all interfaces.
    expect(argAfter(extProc.command, '--envoy-admin')).toBe(`http://envoy:${envoyCfg.admin.address.socket_address.port_value}`);
  });

  it('every model cluster the ext-proc publishes (and every endpoint its plugins dial) is on the demo-models service', async () => {
    const demo = services['demo-models'] as Service;
    expect(argAfter(demo.command, '--host')).toBe('0.0.0.0');
    expect(mounts(demo).get('./examples/gateway.yaml')).toBe(argAfter(demo.command, '--config'));
    // What the ext-proc container writes at start, with the host map its command line gives.
    const dir = mkdtempSync(join(tmpdir(), 'compose-xds-'));
    try {
      const hostMap = parseHostMap(argsAfter(services['ext-proc']?.command, '--host-map'));
      const asLoaded = withHostMap({ config: exampleConfig, hash: 'h', path: 'gateway.yaml' }, hostMap).config;
      await new XdsPublisher({ dir, adminUrl: 'http://envoy.invalid', log: createLogger('silent') }).init(asLoaded);
      const published = (parse(readFileSync(join(dir, CDS_FILE), 'utf8')) as { resources: Cluster[] }).resources;
      const served = new Map(demoLaunches(exampleConfig, '0.0.0.0').map((l) => [l.key, l.port]));
      for (const [model, m] of Object.entries(exampleConfig.models)) {
        for (const version of Object.keys(m.versions)) {
          const key = `${model}@${version}`;
          const [ep] = endpoints(key, published);
          expect(ep?.address, key).toBe('demo-models');
          expect(ep?.port_value, key).toBe(served.get(key));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the image builds dist/ when a service runs the build', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(services['ext-proc']?.command).toContain(BUILT_ENTRY);
    expect(dockerfile).toMatch(new RegExp(`^RUN node --import tsx ${BUILD_SCRIPT}$`, 'm'));
    // Node's flags may come first (ext-proc/node-flags.ts; test/unit/node-flags-drift.test.ts).
    expect(dockerfile).toMatch(new RegExp(`^CMD \\["node", (?:"--[^"]+", )*"${BUILT_ENTRY}"`, 'm'));
  });

  it('the image holds the entry scripts its services run', () => {
    const copied = [...readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').matchAll(/^COPY\s+(\S+)\s+\S+$/gm)].map((m) => m[1] as string);
    const built = Object.values(services).filter((s) => s.build !== undefined);
    expect(built.length).toBeGreaterThan(1);
    for (const s of built) {
      const script = (s.command ?? []).map(sourceOf).find((a) => a.endsWith('.ts')) as string;
      expect(script).toBeDefined();
      expect(existsSync(join(REPO_ROOT, script)), script).toBe(true);
      expect(copied.some((c) => script === c || (c.endsWith('/') && script.startsWith(c))), `${script} is copied into the image`).toBe(true);
    }
  });

  it('the image holds every source file its entry scripts import, and their packages are runtime dependencies', async () => {
    const copied = [...readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').matchAll(/^COPY\s+(\S+)\s+\S+$/gm)].map((m) => m[1] as string);
    const inImage = (file: string) => copied.some((c) => file === c || (c.endsWith('/') && file.startsWith(c)));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const scripts = [
      ...Object.values(services).flatMap((s) => (s.build !== undefined ? (s.command ?? []).map(sourceOf).filter((a) => a.endsWith('.ts')) : [])),
      BUILD_SCRIPT,
    ];
    // esbuild follows the imports the way Node will at run time; packages stay external.
    const { metafile } = await build({ entryPoints: scripts, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', outdir: 'out', absWorkingDir: REPO_ROOT, logLevel: 'silent' });
    const local = Object.keys(metafile.inputs);
    expect(local.length).toBeGreaterThan(20);
    for (const file of local) expect(inImage(file), `${file} is copied into the image`).toBe(true);
    const packages = new Set(
      Object.values(metafile.outputs)
        .flatMap((o) => o.imports)
        .filter((i) => i.external && !i.path.startsWith('node:'))
        .map((i) => (i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : (i.path.split('/')[0] as string))),
    );
    expect(packages.size).toBeGreaterThan(3);
    for (const name of packages) expect(Object.keys(pkg.dependencies), `${name} is installed by npm ci --omit=dev`).toContain(name);
  });

  it('publishes the listener, the admin and the ext-proc metrics ports', () => {
    const listener = envoyCfg.static_resources.listeners[0]?.address.socket_address.port_value;
    const admin = envoyCfg.admin.address.socket_address.port_value;
    expect(publishedContainerPorts(services.envoy as Service)).toEqual(expect.arrayContaining([listener, admin]));
    expect(publishedContainerPorts(services['ext-proc'] as Service)).toContain(exampleConfig.extProc.http.port);
    expect(services['ext-proc']?.healthcheck?.test.join(' ')).toContain(`:${exampleConfig.extProc.http.port}/readyz`);
  });

  it('Prometheus scrapes Envoy admin /stats/prometheus and the ext-proc /metrics', () => {
    const prom = services.prometheus as Service;
    const file = [...mounts(prom).entries()].find(([, c]) => c === '/etc/prometheus/prometheus.yml')?.[0];
    expect(file).toBeDefined();
    const cfg = parse(readFileSync(join(REPO_ROOT, file as string), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = new Map(cfg.scrape_configs.map((j) => [j.job_name, j]));
    const admin = envoyCfg.admin.address.socket_address.port_value;
    expect(jobs.get('envoy')?.metrics_path).toBe('/stats/prometheus');
    expect(jobs.get('envoy')?.static_configs[0]?.targets).toEqual([`envoy:${admin}`]);
    expect(jobs.get('ext-proc')?.metrics_path).toBe('/metrics');
    expect(jobs.get('ext-proc')?.static_configs[0]?.targets).toEqual([`ext-proc:${exampleConfig.extProc.http.port}`]);
  });

  it('Grafana gets a Prometheus datasource and the gateway dashboard provisioned', () => {
    const m = mounts(services.grafana as Service);
    const provisioning = [...m.entries()].find(([, c]) => c === '/etc/grafana/provisioning')?.[0] as string;
    const ds = parse(readFileSync(join(REPO_ROOT, provisioning, 'datasources/prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string; uid: string }[];
    };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const providers = parse(readFileSync(join(REPO_ROOT, provisioning, 'dashboards/gateway.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashDir = [...m.entries()].find(([, c]) => c === providers.providers[0]?.options.path)?.[0];
    expect(dashDir).toBeDefined();
    const dash = JSON.parse(readFileSync(join(REPO_ROOT, dashDir as string, 'gateway.json'), 'utf8')) as {
      panels: { targets?: { datasource: { uid: string } }[] }[];
    };
    for (const p of dash.panels) for (const t of p.targets ?? []) expect(t.datasource.uid).toBe(ds.datasources[0]?.uid);
  });
});
