import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify, parse } from 'yaml';
import { parseConfigText } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { XdsPublisher } from './envoy-xds.js';
import { parseHostMap, withHostMap } from './config/host-map.js';
import { createLogger } from './logger.js';

const configWith = (versions: string[], fallback?: string): GatewayConfig =>
  parseConfigText(
    stringify({
      models: {
        m: {
          protocol: 'kserve-v2',
          versions: Object.fromEntries(versions.map((v, i) => [v, { endpoints: [`127.0.0.1:${1000 + i}`] }])),
          ...(fallback ? { traffic: { fallback } } : {}),
        },
      },
    }),
  );

/** A stand-in for Envoy's admin API that reports whatever clusters and routes the test says it has. */
class FakeAdmin {
  clusters: string[] = [];
  routes: string[] = [];
  /** The HTTP filters of Envoy's bootstrap listener (config_dump?resource=static_listeners). */
  staticFilters: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const body = req.url?.startsWith('/clusters')
        ? { cluster_statuses: this.clusters.map((name) => ({ name })) }
        : req.url?.includes('static_listeners')
          ? { configs: [{ listener: { filter_chains: [{ filters: [{ typed_config: { http_filters: this.staticFilters.map((name) => ({ name })) } }] }] } }] }
          : { configs: [{ route_config: { virtual_hosts: [{ routes: this.routes.map((name) => ({ name })) }] } }] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** Envoy "applies" whatever is in the files. */
  async applyFrom(dir: string): Promise<void> {
    const cds = parse(await readFile(join(dir, 'cds.yaml'), 'utf8')) as { resources: { name: string }[] };
    const rds = parse(await readFile(join(dir, 'rds.yaml'), 'utf8')) as { resources: { virtual_hosts: { routes: { name: string }[] }[] }[] };
    this.clusters = cds.resources.map((r) => r.name);
    this.routes = rds.resources.flatMap((r) => r.virtual_hosts.flatMap((h) => h.routes.map((x) => x.name)));
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

const clustersIn = async (dir: string) =>
  (parse(await readFile(join(dir, 'cds.yaml'), 'utf8')) as { resources: { name: string }[] }).resources.map((r) => r.name);

describe('XdsPublisher', () => {
  let dir: string;
  let admin: FakeAdmin;
  let publisher: XdsPublisher;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xds-test-'));
    admin = new FakeAdmin();
    await admin.start();
    publisher = new XdsPublisher({ dir, adminUrl: admin.url, log: createLogger('silent'), applyTimeoutMs: 400 });
  });
  afterEach(async () => {
    await admin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes old and new resources together until Envoy has them, then drops the old ones', async () => {
    // A generous deadline: this test is about ordering, and a busy machine can take longer than
    // the 400 ms the refusal test below relies on.
    publisher = new XdsPublisher({ dir, adminUrl: admin.url, log: createLogger('silent'), applyTimeoutMs: 10_000 });
    const v1 = configWith(['v1']);
    const v2 = configWith(['v2']);
    await publisher.init(v1);
    await admin.applyFrom(dir);

    let resolved = false;
    const prepared = publisher.prepare(v1, v2).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 150));
    // Envoy has not applied the files yet: the ext-proc must not switch.
    expect(resolved).toBe(false);
    expect((await clustersIn(dir)).sort()).toEqual(['m@v1', 'm@v2']);
    await admin.applyFrom(dir);
    await prepared;

    await publisher.commit(v2);
    expect(await clustersIn(dir)).toEqual(['m@v2']);
  });

  it('refuses when Envoy never applies the change, and puts the previous files back', async () => {
    const v1 = configWith(['v1']);
    await publisher.init(v1);
    await admin.applyFrom(dir);
    const before = await readFile(join(dir, 'cds.yaml'), 'utf8');
    await expect(publisher.prepare(v1, configWith(['v1', 'v3'], 'v1'))).rejects.toThrow(/did not apply .*still missing: cluster m@v3/);
    expect(await readFile(join(dir, 'cds.yaml'), 'utf8')).toBe(before);
  });

  it('writes nothing and waits for nothing when the resources are unchanged (a weights-only edit)', async () => {
    const v1 = configWith(['v1']);
    await publisher.init(v1);
    const before = await readFile(join(dir, 'cds.yaml'), 'utf8');
    await admin.stop(); // would make any wait fail
    await publisher.prepare(v1, v1);
    await publisher.commit(v1);
    expect(await readFile(join(dir, 'cds.yaml'), 'utf8')).toBe(before);
    await admin.start();
  });

  describe('the pipelined OpenAI route', () => {
    const pipelining = parseConfigText(
      stringify({
        plugins: [{ type: 'openai-validation' }, { type: 'model-router' }, { type: 'openai-usage' }],
        models: { tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1000'] } } } },
      }),
    );
    const routesIn = async () =>
      (parse(await readFile(join(dir, 'rds.yaml'), 'utf8')) as { resources: { virtual_hosts: { routes: { name: string }[] }[] }[] }).resources.flatMap((r) =>
        r.virtual_hosts.flatMap((h) => h.routes.map((x) => x.name)),
      );

    it('is written when the running Envoy has the pipelined filter', async () => {
      admin.staticFilters = ['envoy.filters.http.ext_proc', 'envoy.filters.http.ext_proc.pipelined', 'envoy.filters.http.router'];
      await publisher.init(pipelining);
      expect(await routesIn()).toContain('openai_pipelined');
    });

    it('is left out when the running Envoy was started without it: that route would turn the only ext_proc filter off (a 404 for every OpenAI body)', async () => {
      admin.staticFilters = ['envoy.filters.http.ext_proc', 'envoy.filters.http.router'];
      await publisher.init(pipelining);
      expect(await routesIn()).not.toContain('openai_pipelined');
      // …and stays out on a reload, for as long as this Envoy runs.
      await admin.applyFrom(dir);
      await publisher.prepare(pipelining, pipelining);
      await publisher.commit(pipelining);
      expect(await routesIn()).not.toContain('openai_pipelined');
    });

    it('follows the config when Envoy is not up yet (its bootstrap is rendered from the same config)', async () => {
      await admin.stop();
      publisher = new XdsPublisher({ dir, adminUrl: admin.url, log: createLogger('silent'), applyTimeoutMs: 400 });
      await publisher.init(pipelining);
      expect(await routesIn()).toContain('openai_pipelined');
      await admin.start();
    });
  });
});

describe('--host-map', () => {
  it('maps config hosts to the names this deployment dials, and refuses a pair missing a side', () => {
    expect(parseHostMap(['127.0.0.1=demo-models', 'models.internal = 10.0.0.5'])).toEqual({ '127.0.0.1': 'demo-models', 'models.internal': '10.0.0.5' });
    expect(() => parseHostMap(['demo-models'])).toThrow(/from=to .*'demo-models'/);
    expect(() => parseHostMap(['127.0.0.1='])).toThrow(/from=to/);
  });

  it('renames the hosts of every model endpoint, ports and unmapped hosts kept', () => {
    const config = parseConfigText(
      stringify({ models: { m: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:9001', 'other:9002'] }, v2: { endpoints: ['127.0.0.1:9003'] } } } } }),
    );
    const mapped = withHostMap({ config, hash: 'h', path: '/g.yaml' }, { '127.0.0.1': 'demo-models' }).config.models.m?.versions;
    expect(mapped?.v1?.endpoints).toEqual(['demo-models:9001', 'other:9002']);
    expect(mapped?.v2?.endpoints).toEqual(['demo-models:9003']);
    expect(config.models.m?.versions.v1?.endpoints).toEqual(['127.0.0.1:9001', 'other:9002']);
  });
});
