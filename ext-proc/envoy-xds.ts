import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CDS_FILE, mergeResources, modelResources as renderModelResources, RDS_FILE, renderXdsFiles, type ModelResources, type RenderOptions } from '../envoy/render.js';
import { PIPELINED_EXT_PROC_FILTER, pipelinesOpenAiBodies } from '../envoy/pipelined.js';
import type { GatewayConfig } from './config/schema.js';

export interface XdsPublisherOptions {
  /** The directory Envoy's bootstrap watches (`npm run render:envoy -- --xds-dir`). */
  dir: string;
  /** Envoy's admin, to see when it has applied what we wrote. */
  adminUrl: string;
  log: Logger;
  /** How long Envoy gets to apply a change before the reload is refused. */
  applyTimeoutMs?: number;
  /** As for the bootstrap (host names as Envoy sees them). */
  render?: RenderOptions;
}

type Files = Record<string, string>;

/** Names Envoy must know before the ext-proc may route to them. */
interface Names {
  clusters: string[];
  routes: string[];
}

function namesOf({ clusters, routeConfig }: ModelResources): Names {
  const hosts = routeConfig.virtual_hosts as { routes: { name: string }[] }[];
  return { clusters: clusters.map((c) => c.name as string), routes: hosts.flatMap((h) => h.routes.map((r) => r.name)) };
}

/**
 * Keeps Envoy's model clusters and routes (file-based CDS and RDS) in step with the gateway
 * config, so a new version needs no Envoy restart. A change is two-phase: first the union of
 * old and new resources is published and confirmed through Envoy's admin API, then the
 * ext-proc switches its routing, then the leftovers are removed. At no moment does the
 * ext-proc route to a cluster Envoy does not have.
 */
export class XdsPublisher {
  private written: Files | undefined;
  private generation = 0;
  /** Whether Envoy's bootstrap has the pipelined ext_proc filter (see RenderOptions.pipelinedRoute). */
  private pipelinedRoute: boolean | undefined;
  private readonly applyTimeoutMs: number;

  constructor(private readonly opts: XdsPublisherOptions) {
    this.applyTimeoutMs = opts.applyTimeoutMs ?? 10_000;
  }

  /** At start-up: write the files (Envoy may not be up yet; nothing to wait for). */
  async init(config: GatewayConfig): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    // A running Envoy says what its bootstrap has; one still starting was rendered from this config.
    this.pipelinedRoute = (await this.envoyHasPipelinedFilter(config)) ?? pipelinesOpenAiBodies(config);
    const current = await this.readCurrent();
    const files = this.render(this.modelResources(config));
    // Another replica (or the renderer) may have written the same content already: keep its version.
    if (current && sameResources(current, files)) {
      this.written = current;
      return;
    }
    await this.write(files, [CDS_FILE, RDS_FILE]);
  }

  /**
   * Phase one of a reload: make Envoy know every cluster and route of both configs. Throws
   * (and restores the previous files) when Envoy does not confirm in time.
   */
  async prepare(prev: GatewayConfig, next: GatewayConfig): Promise<void> {
    const wanted = this.modelResources(next);
    const files = this.render(mergeResources(this.modelResources(prev), wanted));
    if (this.written && sameResources(this.written, files)) return;
    const previous = this.written;
    // Clusters before routes: a route may only name a cluster Envoy has.
    await this.write(files, [CDS_FILE, RDS_FILE]);
    try {
      await this.waitForEnvoy(namesOf(wanted));
    } catch (err) {
      if (previous) await this.write(previous, [RDS_FILE, CDS_FILE]);
      throw err;
    }
  }

  /** Phase two, after the ext-proc routes by `next`: drop what only the old config used. */
  async commit(next: GatewayConfig): Promise<void> {
    const files = this.render(this.modelResources(next));
    if (this.written && sameResources(this.written, files)) return;
    // Routes before clusters: nothing may route to a cluster that is about to go.
    await this.write(files, [RDS_FILE, CDS_FILE]);
  }

  private modelResources(config: GatewayConfig): ModelResources {
    return renderModelResources(config, { ...this.opts.render, pipelinedRoute: this.pipelinedRoute });
  }

  /** Whether the running Envoy's bootstrap listeners have the pipelined filter; undefined when its admin does not answer. */
  private async envoyHasPipelinedFilter(config: GatewayConfig): Promise<boolean | undefined> {
    try {
      const res = await fetch(`${this.opts.adminUrl}/config_dump?resource=static_listeners`, { signal: AbortSignal.timeout(1_000) });
      if (!res.ok) return undefined;
      const has = (await res.text()).includes(`"${PIPELINED_EXT_PROC_FILTER}"`);
      if (!has && pipelinesOpenAiBodies(config)) this.opts.log.warn('Envoy runs without the pipelined ext_proc filter: OpenAI bodies stay unpipelined until Envoy restarts with a bootstrap rendered from this config');
      return has;
    } catch {
      return undefined;
    }
  }

  private render(resources: ModelResources): Files {
    return renderXdsFiles(resources, `${process.pid}-${++this.generation}`);
  }

  private async readCurrent(): Promise<Files | undefined> {
    try {
      return {
        [CDS_FILE]: await readFile(join(this.opts.dir, CDS_FILE), 'utf8'),
        [RDS_FILE]: await readFile(join(this.opts.dir, RDS_FILE), 'utf8'),
      };
    } catch {
      return undefined;
    }
  }

  /** Envoy re-reads a watched file when one is renamed over it: never a half-written file. */
  private async write(files: Files, order: string[]): Promise<void> {
    for (const name of order) {
      const tmp = join(this.opts.dir, `.${name}.${process.pid}.tmp`);
      await writeFile(tmp, files[name] as string);
      await rename(tmp, join(this.opts.dir, name));
    }
    this.written = files;
  }

  private async waitForEnvoy(want: Names): Promise<void> {
    const deadline = performance.now() + this.applyTimeoutMs;
    let missing: string[] = [];
    for (;;) {
      try {
        const have = await this.envoyNames();
        missing = [
          ...want.clusters.filter((c) => !have.clusters.has(c)).map((c) => `cluster ${c}`),
          ...want.routes.filter((r) => !have.routes.has(r)).map((r) => `route ${r}`),
        ];
        if (missing.length === 0) return;
      } catch (err) {
        missing = [`Envoy admin unreachable at ${this.opts.adminUrl}: ${(err as Error).message}`];
      }
      if (performance.now() > deadline) {
        throw new Error(
          `Envoy did not apply the new clusters/routes within ${this.applyTimeoutMs} ms (still missing: ${missing.slice(0, 5).join(', ')}); ` +
            `Envoy's log says why it rejected ${join(this.opts.dir, CDS_FILE)} or ${RDS_FILE}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async envoyNames(): Promise<{ clusters: Set<string>; routes: Set<string> }> {
    const get = async (path: string) => {
      const res = await fetch(`${this.opts.adminUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      return (await res.json()) as unknown;
    };
    const clusters = (await get('/clusters?format=json')) as { cluster_statuses?: { name: string }[] };
    const routes = (await get('/config_dump?resource=dynamic_route_configs')) as {
      configs?: { route_config?: { virtual_hosts?: { routes?: { name?: string }[] }[] } }[];
    };
    return {
      clusters: new Set((clusters.cluster_statuses ?? []).map((c) => c.name)),
      routes: new Set(
        (routes.configs ?? []).flatMap((c) => (c.route_config?.virtual_hosts ?? []).flatMap((h) => (h.routes ?? []).map((r) => r.name ?? ''))),
      ),
    };
  }
}

/** Same resources whatever the version line says. */
function sameResources(a: Files, b: Files): boolean {
  const strip = (s: string | undefined) => (s ?? '').replace(/^version_info: .*$/m, '');
  return strip(a[CDS_FILE]) === strip(b[CDS_FILE]) && strip(a[RDS_FILE]) === strip(b[RDS_FILE]);
}
