import { z } from '../sdk/index.js';

/** How to reach the Redis that holds the shared limits, and what to do when it does not answer. */
export const RedisOptions = z
  .object({
    /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). May carry a password: never logged. */
    url: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL')
      .optional(),
    /** Name of the environment variable that holds the URL (a Kubernetes Secret, say), instead of `url`. */
    urlEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name')
      .optional(),
    /** Put before every key, so several gateways (or other tenants) can share one Redis. */
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'letters, digits, ":", "_", "." and "-"')
      .default('gateway:limits:'),
    /**
     * The longest a request waits for Redis (per command) before `onFailure` decides for it.
     * A local Redis answers in well under a millisecond; the wait bounds what a slow one costs.
     */
    timeoutMs: z.number().int().min(1).max(1_000).default(10),
    /** Redis unreachable or slower than `timeoutMs`: `open` admits (counted, logged), `closed` answers 503. */
    onFailure: z.enum(['open', 'closed']).default('open'),
    /**
     * A request in flight holds its concurrency slot in Redis with this lifetime, renewed by its
     * replica while it runs; a replica that dies stops renewing, and its slots free themselves.
     */
    leaseTtlMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
  })
  .strict()
  .refine((r) => (r.url === undefined) !== (r.urlEnv === undefined), { message: 'set url or urlEnv (one of the two)' });

export type RedisStoreOptions = z.output<typeof RedisOptions>;
