import { z } from 'zod';

// Per-version load balancing and fault-tolerance settings. Envoy enforces all of them; the
// renderer (envoy/resilience.ts) maps each field to its Envoy counterpart, named in the comments.

const HeaderName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lower-case HTTP header name');
const Ms = z.number().int().min(0);

export const LoadBalancingSchema = z
  .object({
    /**
     * `least-request` (default: a slow instance gets less), `round-robin`, or `ring-hash` /
     * `maglev` (consistent hashing on `hashHeader`: the same header value sticks to one
     * instance while that instance is healthy).
     */
    policy: z.enum(['least-request', 'round-robin', 'ring-hash', 'maglev']).default('least-request'),
    /** Request header whose value picks the instance; required by ring-hash and maglev. */
    hashHeader: HeaderName.optional(),
  })
  .strict()
  .superRefine((lb, ctx) => {
    const hashing = lb.policy === 'ring-hash' || lb.policy === 'maglev';
    if (hashing && lb.hashHeader === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hashHeader'], message: `policy "${lb.policy}" needs hashHeader (the header to hash on)` });
    }
    if (!hashing && lb.hashHeader !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hashHeader'], message: `hashHeader only applies to ring-hash and maglev, not "${lb.policy}"` });
    }
  });
export type LoadBalancingConfig = z.infer<typeof LoadBalancingSchema>;

export const RetriesSchema = z
  .object({
    /**
     * Retries after the first attempt, each on another instance. Only failures that cannot have
     * reached a model are retried: connect failure, reset / timeout before a response byte,
     * refused stream, and the status codes below (before any byte reached the client).
     */
    attempts: z.number().int().min(0).max(5).default(2),
    /** Status codes retried on another instance; 503 is what a draining model server answers. */
    retriableStatusCodes: z.array(z.number().int().min(500).max(599)).default([503]),
    /** Each attempt's whole-response budget (route `per_try_timeout`); 0: none. Keep 0 for streaming models. */
    perTryTimeoutMs: Ms.default(0),
    /** Longest silence within one attempt (route `per_try_idle_timeout`); 0: none. The streaming-safe per-try bound. */
    perTryIdleTimeoutMs: Ms.default(0),
    /** Retries may be at most this share of the version's active requests (cluster `retry_budget`). */
    budgetPercent: z.number().min(0).max(100).default(20),
    /** …but this many concurrent retries are always allowed, so a quiet version can still retry. */
    minRetryConcurrency: z.number().int().min(0).default(3),
    /** Jittered exponential back-off between attempts. */
    backoffBaseMs: z.number().int().positive().default(25),
    backoffMaxMs: z.number().int().positive().default(250),
  })
  .strict();
export type RetriesConfig = z.infer<typeof RetriesSchema>;

export const OutlierDetectionSchema = z
  .object({
    /** Eject an instance after this many 5xx answers in a row (0 disables). */
    consecutive5xx: z.number().int().min(0).default(5),
    /** Eject after this many gateway failures in a row: 502/503/504, connect failures, timeouts (0 disables). */
    consecutiveGatewayFailure: z.number().int().min(0).default(3),
    /** How often ejections are reviewed (an ejected instance returns at the first review after its time is up). */
    intervalMs: z.number().int().positive().default(5_000),
    /** First ejection lasts this long; each repeat ejection of the same instance lasts one more multiple. */
    baseEjectionMs: z.number().int().positive().default(15_000),
    /** Never eject more than this share of a version's instances (at least one is always ejectable). */
    maxEjectionPercent: z.number().int().min(0).max(100).default(50),
  })
  .strict();
export type OutlierDetectionConfig = z.infer<typeof OutlierDetectionSchema>;

export const LimitsSchema = z
  .object({
    /** Concurrent requests to this version, all instances together; beyond it a fast 503. */
    maxRequests: z.number().int().positive().default(1_024),
    /** Requests waiting for a connection; beyond it a fast 503. */
    maxPendingRequests: z.number().int().positive().default(1_024),
    /** Connections to this version's instances (HTTP/1.1: one request each). */
    maxConnections: z.number().int().positive().default(1_024),
  })
  .strict();
export type LimitsConfig = z.infer<typeof LimitsSchema>;

/** How Envoy watches the ext-proc replicas (gRPC health checks on its cluster). */
export const ExtProcHealthCheckSchema = z
  .object({
    intervalMs: z.number().int().positive().default(1_000),
    timeoutMs: z.number().int().positive().default(500),
    unhealthyThreshold: z.number().int().positive().default(1),
    healthyThreshold: z.number().int().positive().default(1),
  })
  .strict();
export type ExtProcHealthCheckConfig = z.infer<typeof ExtProcHealthCheckSchema>;
