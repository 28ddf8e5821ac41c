import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { postJson, useStack } from '../harness/e2e.js';
import { byInstance, failures, startLoad, summarize } from '../harness/load.js';

// Three instances of each sentiment version: v1 with the default policy (least-request),
// v2 with ring-hash on a session header.
const config: GatewayConfigInput = {
  plugins: [{ type: 'model-router', name: 'router' }],
  models: {
    sentiment: {
      protocol: 'kserve-v2',
      versions: {
        v1: { endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'] },
        v2: {
          endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'],
          loadBalancing: { policy: 'ring-hash', hashHeader: 'x-session-id' },
        },
      },
    },
  },
};

const stack = useStack(config);
const input = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a fine day'] }] };

describe('load balancing across the instances of one version', () => {
  it('least-request (default) spreads load: each of 3 instances serves its third ±25 %', async () => {
    const total = 600;
    const run = startLoad({ concurrency: 6, maxRequests: total, send: () => postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, input) });
    const samples = await run.finished();
    expect(failures(samples), summarize(samples)).toEqual([]);
    const counts = byInstance(samples);
    console.log(`least-request spread: ${summarize(samples)}`);
    expect(counts.size, summarize(samples)).toBe(3);
    for (const [instance, n] of counts) {
      expect(n, `${instance}: ${summarize(samples)}`).toBeGreaterThanOrEqual((total / 3) * 0.75);
      expect(n, `${instance}: ${summarize(samples)}`).toBeLessThanOrEqual((total / 3) * 1.25);
    }
  });

  it('ring-hash keeps each session on one instance, and sessions spread over all instances', async () => {
    const sessions = Array.from({ length: 30 }, (_, i) => `session-${i}`);
    const servedBy = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        sessions.map(async (session) => {
          const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v2/infer`, input, { 'x-session-id': session });
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          const instance = res.headers.get('x-demo-instance') as string;
          servedBy.set(session, (servedBy.get(session) ?? new Set()).add(instance));
        }),
      );
    }
    for (const [session, instances] of servedBy) expect([...instances], session).toHaveLength(1);
    const used = new Set([...servedBy.values()].flatMap((s) => [...s]));
    expect(used.size).toBe(3);
  });
});
