// Counters from an Envoy's admin endpoint: how many connections and requests each hop saw, so
// the report can show connections being reused (connections ≪ requests).

/** Parses the admin /stats text format ("name: value" lines); histograms and text are skipped. */
export function parseCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+): (\d+)$/.exec(line.trim());
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

export async function readCounters(adminPort: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/stats?usedonly`);
  if (!res.ok) throw new Error(`Envoy admin :${adminPort} /stats answered ${res.status}`);
  return parseCounters(await res.text());
}

/** What one hop saw between two readings of its counters. */
export interface HopCounts {
  connections: number;
  requests: number;
}

const sumMatching = (c: Map<string, number>, re: RegExp) => [...c].reduce((a, [k, v]) => (re.test(k) ? a + v : a), 0);

/**
 * Connections and requests an Envoy's HTTP listeners accepted between two readings
 * (`http.<prefix>.downstream_cx_total` / `downstream_rq_total`; the admin listener's own
 * `http.admin.*` left out).
 */
export function downstreamDelta(before: Map<string, number>, after: Map<string, number>): HopCounts {
  const cx = /^http\.(?!admin\.)[^.]+\.downstream_cx_total$/;
  const rq = /^http\.(?!admin\.)[^.]+\.downstream_rq_total$/;
  return {
    connections: sumMatching(after, cx) - sumMatching(before, cx),
    requests: sumMatching(after, rq) - sumMatching(before, rq),
  };
}

/** Connections and requests Envoy opened/sent to one cluster between two readings. */
export function clusterDelta(before: Map<string, number>, after: Map<string, number>, cluster: string): HopCounts {
  const get = (c: Map<string, number>, k: string) => c.get(`cluster.${cluster}.${k}`) ?? 0;
  return {
    connections: get(after, 'upstream_cx_total') - get(before, 'upstream_cx_total'),
    requests: get(after, 'upstream_rq_total') - get(before, 'upstream_rq_total'),
  };
}

/**
 * Polls one counter every `everyMs` until stopped and returns the epoch ms of each poll that saw
 * it rise (once per unit of rise): when Envoy opened new ext_proc connections, to ±everyMs.
 */
export function watchCounter(adminPort: number, name: string, everyMs: number): { stop(): Promise<number[]> } {
  const rises: number[] = [];
  let last: number | undefined;
  let running = true;
  const url = `http://127.0.0.1:${adminPort}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`;
  const loop = (async () => {
    while (running) {
      const v = parseCounters(await (await fetch(url)).text().catch(() => '')).get(name);
      const now = Date.now();
      if (v !== undefined && last !== undefined) for (let i = last; i < v; i++) rises.push(now);
      if (v !== undefined) last = v;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return rises;
    },
  };
}
