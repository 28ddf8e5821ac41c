import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { RequestSummary } from '../pipeline/observer.js';

/** What the primary and its ext-proc workers tell each other over node:cluster's IPC channel. */
export type ToWorker =
  | { type: 'gateway:prepare'; id: number; hash: string }
  | { type: 'gateway:commit'; id: number }
  | { type: 'gateway:abort'; id: number }
  | { type: 'gateway:log-level'; level: string; source: string }
  | { type: 'gateway:rebalance' }
  | { type: 'gateway:metrics'; id: number }
  | { type: 'gateway:shutdown'; graceMs: number; delayMs: number };

export type FromWorker =
  | { type: 'gateway:ready'; port: number }
  | { type: 'gateway:finished'; summary: RequestSummary }
  | { type: 'gateway:done'; id: number; error?: string; metrics?: MetricObjectWithValues<MetricValue<string>>[] };

export function isFromWorker(msg: unknown): msg is FromWorker {
  return typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' && (msg as { type: string }).type.startsWith('gateway:');
}

export function isToWorker(msg: unknown): msg is ToWorker {
  return isFromWorker(msg);
}
