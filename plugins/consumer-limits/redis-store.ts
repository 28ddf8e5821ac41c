import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { windowOf } from './calendar.js';
import { viewsOf, type Admission, type Lease, type LimitStore, type Scope, type Views } from './limit-store.js';
import { admitArgs, chargeArgs, readAdmitAnswer, scopeKey, windowsAt } from './redis/args.js';
import { ADMIT_SCRIPT, CHARGE_SCRIPT, RENEW_SCRIPT } from './redis/scripts.js';
import type { StoreHealth } from './store-health.js';
import type { RedisStoreOptions } from './store-options.js';

const SCRIPTS = { limitsAdmit: ADMIT_SCRIPT, limitsCharge: CHARGE_SCRIPT, limitsRenew: RENEW_SCRIPT };

/** The scripts as ioredis commands (EVALSHA, with EVAL when Redis lost its script cache, e.g. after a restart). */
interface LimitsCommands {
  limitsAdmit(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  limitsCharge(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  limitsRenew(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** A request's slots in Redis: the same id in the slots zset of each scope with a concurrency limit. */
interface RedisLease extends Lease {
  readonly id: string;
  readonly slotKeys: readonly string[];
  readonly scopeKeys: readonly string[];
}

/** Requests queued for a retry once Redis is back are capped: an outage must not grow memory without bound. */
const MAX_DEFERRED = 10_000;
/** A release that timed out on a live connection is sent again this much later. */
const RETRY_MS = 1_000;
const NO_VIEWS: Views = { requests: undefined, tokens: undefined, quotas: [] };

/**
 * ioredis is loaded when a Redis store is opened, not when the gateway starts: most
 * deployments keep limits in memory, and the client library costs the process several MB
 * (docs/performance.md, "Memory"). It is CommonJS, so a synchronous require keeps openStore sync.
 */
const loadRedis = (): typeof Redis => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;

/**
 * Limits shared by every gateway replica, kept in Redis: each admission and each charge is
 * one Lua script, atomic on the Redis server, so replicas never interleave half-decisions.
 * Concurrency slots are leases in a sorted set, renewed while the request runs and released
 * once; a replica that dies stops renewing, and its slots expire after `leaseTtlMs`.
 * Redis slower than `timeoutMs` or unreachable: `onFailure` decides, see StoreHealth.
 */
export class RedisStore implements LimitStore {
  private readonly redis: Redis & LimitsCommands;
  private readonly replica = randomBytes(6).toString('hex');
  private sequence = 0;
  /** Leases of requests running on this replica, renewed every third of their lifetime. */
  private readonly live = new Map<string, RedisLease>();
  private readonly renewTimer: NodeJS.Timeout;
  /** Releases and charges that could not be sent: sent once Redis is ready again. */
  private deferred: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  /** Requests waiting for a slot of a key: woken when a request of that key ends on this replica. */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    url: string,
    private readonly options: RedisStoreOptions,
    private readonly health: StoreHealth,
  ) {
    const RedisClient = loadRedis();
    this.redis = new RedisClient(url, {
      // Nothing waits for a connection: a command while disconnected fails at once, and the policy decides.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1_000, options.timeoutMs),
      // Reconnects forever, at most a second apart: recovery needs no restart.
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
      scripts: {
        limitsAdmit: { lua: SCRIPTS.limitsAdmit },
        limitsCharge: { lua: SCRIPTS.limitsCharge },
        limitsRenew: { lua: SCRIPTS.limitsRenew },
      },
    }) as Redis & LimitsCommands;
    // Connection errors surface through the requests that meet them; without a listener Node would print each one.
    this.redis.on('error', () => {});
    this.redis.on('ready', () => this.flushDeferred());
    this.renewTimer = setInterval(() => this.renew(), Math.floor(options.leaseTtlMs / 3));
    this.renewTimer.unref();
  }

  admit(scopes: readonly Scope[], _now: number, tokens: boolean, wall: number): Promise<Admission> {
    const lease: RedisLease = {
      id: `${this.replica}:${(this.sequence++).toString(36)}`,
      slotKeys: scopes.filter((s) => s.limit.maxConcurrent !== undefined).map((s) => scopeKey(this.options.keyPrefix, s, 'slots')),
      scopeKeys: scopes.map((s) => s.key),
      released: false,
    };
    if (this.redis.status !== 'ready') return Promise.resolve(this.unavailable(lease, new Error(`not connected (${this.redis.status})`)));
    const { keys, args } = admitArgs(this.options.keyPrefix, scopes, tokens, lease.id, this.options.leaseTtlMs, windowsAt(wall));
    return this.redis.limitsAdmit(keys.length, ...keys, ...args).then(
      (raw): Admission => {
        this.health.succeeded();
        const answer = readAdmitAnswer(raw, scopes);
        const views = viewsOf(scopes, answer.snaps, tokens, wall);
        if (answer.ok) {
          if (lease.slotKeys.length > 0) this.live.set(lease.id, lease);
          return { ok: true, lease, views };
        }
        const quota = answer.quota;
        const retryAfterMs = quota ? windowOf(quota.period, wall).endMs - wall : answer.reason === 'concurrency' ? undefined : answer.retryAfterMs;
        const reason = answer.reason === '' ? 'rate' : answer.reason;
        return { ok: false, reason, scope: answer.scope, key: scopes[answer.scope]?.key ?? '', retryAfterMs, ...(quota && { quota }), views };
      },
      (err: unknown) => this.unavailable(lease, err),
    );
  }

  charge(scopes: readonly Scope[], amount: number, _now: number, wall: number): void {
    const { keys, args } = chargeArgs(this.options.keyPrefix, scopes, amount, windowsAt(wall));
    const send = () => {
      this.redis.limitsCharge(keys.length, ...keys, ...args).then(
        () => this.health.succeeded(),
        // Timed out: it may have run, so it is not sent again (a charge twice would be worse than none).
        (err: unknown) => this.health.failed('charge', err),
      );
    };
    if (this.redis.status === 'ready') return send();
    this.health.failed('charge', new Error(`not connected (${this.redis.status})`));
    this.defer(send);
  }

  release(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    const { id, slotKeys, scopeKeys } = lease as RedisLease;
    this.live.delete(id);
    for (const key of scopeKeys) for (const wake of this.waiters.get(key) ?? []) wake();
    if (slotKeys.length === 0) return;
    // ZREM of a missing member does nothing: sending it again (or for a lease never stored) is safe.
    const send = () => {
      const pipeline = this.redis.pipeline();
      for (const key of slotKeys) pipeline.zrem(key, id);
      pipeline.exec().then(
        (results) => {
          const failed = results?.find(([err]) => err !== null)?.[0];
          if (failed) throw failed;
          this.health.succeeded();
        },
      ).catch(

        (err: unknown) => {
          this.health.failed('release', err);
          this.defer(send);
        },
      );
    };
    if (this.redis.status === 'ready') return send();
    this.defer(send);
  }

  /**
   * Another replica's release sends no signal here: a request at the limit waits for a
   * request of its key to end on this replica, or `ms`, then looks again.
   */
  waitForSlot(key: string, ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const queue = this.waiters.get(key) ?? new Set<() => void>();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        queue.delete(done);
        if (queue.size === 0) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      queue.add(done);
      this.waiters.set(key, queue);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    clearTimeout(this.retryTimer);
    // Requests still running keep their slots until they end or the leases expire.
    this.redis.disconnect();
  }

  /** The policy's answer when Redis did not decide; a lease that may have been stored goes back. */
  private unavailable(lease: RedisLease, err: unknown): Admission {
    this.health.failed('admit', err);
    if (this.health.policy === 'open') {
      if (lease.slotKeys.length > 0) this.live.set(lease.id, lease);
      return { ok: true, lease, views: NO_VIEWS };
    }
    // A timed-out script may still run: its slot must not stay taken for a request refused here.
    this.release(lease);
    return { ok: false, reason: 'unavailable', scope: 0, key: lease.scopeKeys[0] ?? '', retryAfterMs: 1_000, views: NO_VIEWS };
  }

  private renew(): void {
    if (this.live.size === 0 || this.redis.status !== 'ready') return;
    const byKey = new Map<string, string[]>();
    for (const lease of this.live.values()) {
      for (const key of lease.slotKeys) byKey.set(key, [...(byKey.get(key) ?? []), lease.id]);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, ids] of byKey) (pipeline as unknown as LimitsCommands).limitsRenew(1, key, this.options.leaseTtlMs, ...ids);
    pipeline.exec().catch((err: unknown) => this.health.failed('renew', err));
  }

  /**
   * Queues a send for when Redis answers again: at the next reconnect, or (a timeout on a live
   * connection, which brings no reconnect) a second from now.
   */
  private defer(send: () => void): void {
    if (this.deferred.length < MAX_DEFERRED) this.deferred.push(send);
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.redis.status === 'ready') this.flushDeferred();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private flushDeferred(): void {
    const queued = this.deferred;
    this.deferred = [];
    for (const send of queued) send();
  }
}
