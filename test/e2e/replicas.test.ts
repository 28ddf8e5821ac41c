// Two ext-proc replicas behind one Envoy, as two gateway Pods' worth of routing decisions: a
// sticky key must land on the same version whichever replica handles its request, because the
// assignment is a hash of the key and the config, with no per-process state (docs/routing.md).
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { useStack } from '../harness/e2e.js';
import { call, runConcurrently, sentimentWith, servedBy, v2Input } from '../harness/traffic.js';

// An even split, so that both versions own many keys and agreement is no accident.
const stack = useStack(sentimentWith({ weights: { v1: 50, v2: 50 }, stickyKey: { header: 'x-user-id' } }), { extProcReplicas: 2 });

interface AccessLine { log?: string; reqId?: string; version?: string; route?: string }

/** reqId → the replica whose access log has it, and the version it routed to. */
async function handledBy(): Promise<Map<string, { replica: number; version: string | undefined }>> {
  const out = new Map<string, { replica: number; version: string | undefined }>();
  for (const [replica, p] of stack().extProcs.entries()) {
    for (const line of (await readFile(p.child.logFile, 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as AccessLine;
      if (entry.log === 'access' && entry.reqId !== undefined) out.set(entry.reqId, { replica, version: entry.version });
    }
  }
  return out;
}

describe('sticky assignment across ext-proc replicas, through Envoy', () => {
  it('sends every request of one key to one version, whichever of two replicas routed it', async () => {
    const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const perUser = 6;
    const results = await runConcurrently(users.length * perUser, 8, async (i) => {
      const user = users[i % users.length] as string;
      const reqId = `replicas-${user}-${Math.floor(i / users.length)}`;
      return { user, reqId, seen: await call(`${stack().url}/v2/models/sentiment/infer`, v2Input(), { 'x-user-id': user, 'x-request-id': reqId }) };
    });
    for (const { seen } of results) {
      expect(seen.status, seen.error).toBe(200);
      expect(seen.reason).toBe('sticky');
      expect(servedBy(seen)).toBe(seen.version);
    }

    // Each replica logs the requests it routed; wait until both logs hold every one of ours.
    let routed = new Map<string, { replica: number; version: string | undefined }>();
    await vi.waitFor(
      async () => {
        routed = await handledBy();
        expect(results.filter((r) => !routed.has(r.reqId)).map((r) => r.reqId)).toEqual([]);
      },
      { timeout: 10_000, interval: 200 },
    );

    const byUser = new Map<string, { replicas: Set<number>; versions: Set<string> }>();
    for (const { user, reqId, seen } of results) {
      const r = routed.get(reqId) as { replica: number; version: string | undefined };
      // The replica's own record agrees with what the client was told.
      expect(r.version).toBe(seen.version);
      const u = byUser.get(user) ?? { replicas: new Set<number>(), versions: new Set<string>() };
      u.replicas.add(r.replica);
      u.versions.add(seen.version as string);
      byUser.set(user, u);
    }
    for (const [user, u] of byUser) expect([...u.versions], `${user} saw several versions`).toHaveLength(1);

    // The claim needs keys that really crossed replicas, on both versions.
    const crossed = [...byUser.values()].filter((u) => u.replicas.size === 2);
    console.log(`${crossed.length} of ${users.length} keys were routed by both replicas`);
    expect(crossed.length).toBeGreaterThanOrEqual(users.length / 3);
    expect(new Set(crossed.map((u) => [...u.versions][0]))).toEqual(new Set(['v1', 'v2']));
    const perReplica = [0, 1].map((replica) => [...routed.values()].filter((r) => r.replica === replica).length);
    for (const n of perReplica) expect(n).toBeGreaterThan(results.length / 5);
  });
});
