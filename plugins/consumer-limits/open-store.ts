import type { PluginHost } from '../sdk/index.js';
import type { LimitStore } from './limit-store.js';
import type { ConsumerLimitsOptions } from './options.js';
import { RedisStore } from './redis-store.js';
import { StoreHealth } from './store-health.js';
import { KeyStore } from './store.js';

/** What makes two configs share one store across a reload: the same place, reached the same way. */
export function storeIdentity(options: ConsumerLimitsOptions): string {
  return options.store === 'redis' ? JSON.stringify(options.redis) : 'memory';
}

/** The store the options name: this process's memory, or Redis (the connection opens in the background). */
export function openStore(options: ConsumerLimitsOptions, host: PluginHost): LimitStore {
  if (options.store !== 'redis' || options.redis === undefined) return new KeyStore(options.maxKeys);
  const redis = options.redis;
  const url = redis.url ?? process.env[redis.urlEnv as string];
  if (url === undefined || url === '') throw new Error(`redis.urlEnv: the environment variable ${redis.urlEnv} is not set`);
  if (!/^rediss?:\/\/\S+$/.test(url)) throw new Error(`redis.urlEnv: the environment variable ${redis.urlEnv} does not hold a redis:// or rediss:// URL`);
  const counter = host.metrics.counter({
    name: 'gateway_limits_store_failures_total',
    help: 'Requests (and charges, releases, renewals) the limits store did not answer in time, by plugin instance, operation and onFailure policy',
    labelNames: ['plugin', 'operation', 'policy'] as const,
  });
  const health = new StoreHealth(host.log, counter, host.name, redis.onFailure, redactedAddress(url));
  return new RedisStore(url, redis, health);
}

/** The URL without its credentials, for logs. */
export function redactedAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'redis';
  }
}
