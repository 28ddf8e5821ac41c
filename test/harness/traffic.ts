import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import type { Stack } from '../../scripts/stack/index.js';
import { baseConfig, baseModel } from './e2e.js';

export type TrafficInput = NonNullable<NonNullable<GatewayConfigInput['models'][string]>['traffic']>;

/** Only the router and `baseConfig()`'s sentiment model, under the given traffic policy. */
export function sentimentWith(traffic: TrafficInput): GatewayConfigInput {
  return { plugins: baseConfig().plugins, models: { sentiment: { ...baseModel('sentiment'), traffic } } };
}

/** One value of a Prometheus text exposition, e.g. `metric(text, 'x_total', { result: 'success' })`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

export async function extProcMetrics(stack: Stack, replica = 0): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.extProcs[replica]?.httpPort}/metrics`);
  return res.text();
}

export const reloads = async (stack: Stack, result: 'success' | 'failure') =>
  metric(await extProcMetrics(stack), 'gateway_config_reloads_total', { result });

/** The stack's config as a mutable input, to derive the next config from. */
export function currentConfig(stack: Stack): GatewayConfigInput {
  return structuredClone(stack.config) as GatewayConfigInput;
}

/** Writes the config the way editors do: a new file renamed over the old one. No signal. */
export async function writeConfigAtomically(stack: Stack, config: GatewayConfigInput | string): Promise<void> {
  const tmp = join(dirname(stack.configPath), `.gateway.yaml.${process.pid}.tmp`);
  await writeFile(tmp, typeof config === 'string' ? config : stringify(config));
  await rename(tmp, stack.configPath);
}

/** Runs `fn` `total` times with `concurrency` loops (fetch keeps connections alive). */
export async function runConcurrently<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** What the client saw: status, the gateway's headers, and which demo server really answered. */
export interface Seen {
  status: number;
  version: string | null;
  variant: string | null;
  experiment: string | null;
  reason: string | null;
  fallbackFrom: string | null;
  /** `x-demo-instance` of the demo server that answered: `model@version#port`. */
  instance: string | null;
  ms: number;
  startedAt: number;
  /** The body, kept only for failures (to say what went wrong). */
  error?: string;
}

export async function call(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Seen> {
  const startedAt = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  const h = res.headers;
  return {
    ...(res.status >= 400 ? { error: `${h.get('x-gateway-error-id') ?? ''} ${text}`.trim() } : {}),
    status: res.status,
    version: h.get('x-gateway-model-version'),
    variant: h.get('x-gateway-variant'),
    experiment: h.get('x-gateway-experiment'),
    reason: h.get('x-gateway-route-reason'),
    fallbackFrom: h.get('x-gateway-fallback-from'),
    instance: h.get('x-demo-instance'),
    ms: performance.now() - startedAt,
    startedAt,
  };
}

/** The version of the demo server that answered, from `x-demo-instance`. */
export const servedBy = (s: Seen) => s.instance?.split('#')[0]?.split('@')[1];

export const v2Input = (texts: string[] = ['a fine day']) => ({ inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] });

export async function demoControl(url: string, path: 'fault' | 'reset-stats', body: unknown = {}): Promise<void> {
  const res = await fetch(`${url}/__demo/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`demo ${path}: ${res.status} ${await res.text()}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
