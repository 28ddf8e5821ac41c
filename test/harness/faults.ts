// Fault-injection helpers for e2e tests: the demo servers' /__demo/fault surface, Envoy's
// admin stats and host health, and polling.

export interface FaultSpec {
  mode: 'ok' | 'slow' | 'error' | 'notready' | 'reset';
  delayMs?: number;
  status?: number;
  /** Only the next N inference requests, then back to ok. */
  count?: number;
}

export async function setFault(demoUrl: string, spec: FaultSpec): Promise<void> {
  const res = await fetch(`${demoUrl}/__demo/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  if (!res.ok) throw new Error(`setting fault on ${demoUrl} failed: ${res.status} ${await res.text()}`);
}

/** One counter or gauge from Envoy's admin `/stats` (0 when absent). */
export async function envoyStat(adminUrl: string, name: string): Promise<number> {
  const res = await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^${name.replace(/[.@]/g, '\\$&')}$`)}`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : 0;
}

/** Health flags Envoy reports for each host of a cluster, keyed by host:port (`healthy` when none). */
export async function hostHealth(adminUrl: string, cluster: string): Promise<Map<string, string>> {
  const text = await (await fetch(`${adminUrl}/clusters`)).text();
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${cluster}::`)) continue;
    const m = /^[^:]+::([^:]+:\d+)::health_flags::(.*)$/.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** Polls until `check` holds; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
