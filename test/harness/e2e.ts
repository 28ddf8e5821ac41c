import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { startStack, type Stack, type StackOptions } from '../../scripts/stack/index.js';

/** The example config's models (sentiment, tinylm, iris) with only the router: the skeleton. */
export function baseConfig(extra: Partial<GatewayConfigInput> = {}): GatewayConfigInput {
  return {
    plugins: [{ type: 'model-router', name: 'router' }],
    models: {
      sentiment: {
        protocol: 'kserve-v2',
        versions: { v1: { endpoints: ['127.0.0.1:1'] }, v2: { endpoints: ['127.0.0.1:1'] } },
        aliases: { stable: 'v1', canary: 'v2' },
        traffic: { weights: { v1: 90, v2: 10 } },
      },
      tinylm: {
        protocol: 'openai',
        versions: { v1: { endpoints: ['127.0.0.1:1'], timeoutMs: 0, healthCheck: { path: '/health' } } },
      },
      iris: {
        protocol: 'tfserving',
        versions: { '1': { endpoints: ['127.0.0.1:1'] } },
        aliases: { stable: '1' },
      },
    },
    ...extra,
  };
}

/** One model of `baseConfig()`, to extend in a test's config; a name it lacks is a bug in the test. */
export function baseModel(name: string): NonNullable<GatewayConfigInput['models']>[string] {
  const m = baseConfig().models?.[name];
  if (!m) throw new Error(`baseConfig has no ${name}`);
  return m;
}

/**
 * Starts a real stack (demo models, ext-proc, Envoy on free loopback ports) for one test
 * file and stops it afterwards. Endpoints in the config are replaced by the demo servers'.
 */
export function useStack(config: GatewayConfigInput | string, opts: Partial<StackOptions> = {}): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack({ config, ports: 'free', ...opts });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (!stack) throw new Error('stack not started');
    return stack;
  };
}

/** Counters of a demo server's `/__demo/stats` surface. */
export async function demoStats(url: string): Promise<{
  requests: number;
  healthChecks: number;
  last?: { headers: Record<string, string>; path: string; body: string };
  /** The latest inference requests (up to 50), oldest first, without bodies. */
  recent: { method: string; path: string; headers: Record<string, string> }[];
}> {
  const res = await fetch(`${url}/__demo/stats`);
  return (await res.json()) as Awaited<ReturnType<typeof demoStats>>;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * The ext-proc's log once `ready(text)` holds. The ext-proc batches its stdout (info lines can
 * take ~100 ms to appear) and the stack copies it into the log file asynchronously: poll, don't read once.
 */
export async function extProcLog(stack: Stack, ready: (text: string) => boolean, timeoutMs = 3_000): Promise<string> {
  const file = stack.extProcs[0]?.child.logFile as string;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8');
    if (ready(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 25));
  }
}
