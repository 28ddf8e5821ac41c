/** One upstream host of a model version's cluster, as Envoy sees it. */
export interface EndpointHealth {
  address: string;
  /** `healthy`, or why Envoy won't send it traffic (`failed_active_hc`, `outlier_ejected`, …). */
  health: string;
  healthy: boolean;
}

export type ClusterHealth = ReadonlyMap<string, EndpointHealth[]>;

interface HostStatus {
  address?: { socket_address?: { address?: string; port_value?: number } };
  health_status?: Record<string, unknown> & { eds_health_status?: string };
}
interface ClustersJson {
  cluster_statuses?: { name?: string; host_statuses?: HostStatus[] }[];
}

/** Envoy's health flags, in the order the console names the first one set. */
const FLAGS: [string, string][] = [
  ['failed_active_health_check', 'failed_active_hc'],
  ['failed_outlier_check', 'outlier_ejected'],
  ['pending_active_hc', 'pending_active_hc'],
  ['pending_dynamic_removal', 'pending_removal'],
  ['excluded_via_immediate_hc_fail', 'excluded'],
  ['active_hc_timeout', 'active_hc_timeout'],
  ['failed_eds_health', 'failed_eds_health'],
];

/** Hosts and their health per cluster, from the admin API's `/clusters?format=json`. */
export function parseClusters(json: unknown): ClusterHealth {
  const out = new Map<string, EndpointHealth[]>();
  for (const c of (json as ClustersJson | undefined)?.cluster_statuses ?? []) {
    if (typeof c.name !== 'string') continue;
    out.set(
      c.name,
      (c.host_statuses ?? []).map((h) => {
        const sa = h.address?.socket_address;
        const status = h.health_status ?? {};
        const flag = FLAGS.find(([field]) => status[field] === true)?.[1];
        const eds = status.eds_health_status;
        const health = flag ?? (eds === undefined || eds === 'HEALTHY' ? 'healthy' : eds.toLowerCase());
        return { address: `${sa?.address ?? '?'}:${sa?.port_value ?? '?'}`, health, healthy: health === 'healthy' };
      }),
    );
  }
  return out;
}

/**
 * Reads Envoy's clusters, at most once per `maxAgeMs` however many pages poll; a failed
 * read is reported as such (the console shows Envoy as unreachable), never thrown.
 */
export class EnvoyClusters {
  private cached: { at: number; value: Promise<{ clusters: ClusterHealth; error?: string }> } | undefined;

  constructor(
    private readonly adminUrl: string,
    private readonly maxAgeMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  read(): Promise<{ clusters: ClusterHealth; error?: string }> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.maxAgeMs) return this.cached.value;
    const value = fetch(`${this.adminUrl}/clusters?format=json`, { signal: AbortSignal.timeout(2_000) })
      .then(async (res) => {
        if (!res.ok) throw new Error(`Envoy admin answered ${res.status}`);
        return { clusters: parseClusters(await res.json()) };
      })
      .catch((err: unknown) => ({ clusters: new Map() as ClusterHealth, error: `Envoy admin ${this.adminUrl} unreachable: ${(err as Error).message}` }));
    this.cached = { at: now, value };
    return value;
  }
}
