import { readFile, stat } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';

/** Private or symmetric key material must never sit in a JWKS the gateway reads. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/** Checks a JWKS document: public asymmetric keys only. Throws with the reason. */
export function checkJwks(doc: unknown, source: string): JSONWebKeySet {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new Error(`${source}: not a JWKS (expected {"keys": [...]})`);
  }
  const keys = (doc as { keys: unknown[] }).keys;
  if (keys.length === 0) throw new Error(`${source}: the JWKS has no keys`);
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null) throw new Error(`${source}: keys[${i}] is not an object`);
    const k = key as Record<string, unknown>;
    if (k.kty === 'oct') {
      throw new Error(`${source}: keys[${i}] is a symmetric (oct) key; only public RSA, EC and OKP keys are accepted`);
    }
    const secret = PRIVATE_MEMBERS.find((m) => m in k);
    if (secret) throw new Error(`${source}: keys[${i}] holds private key material ("${secret}"); publish only public keys`);
  }
  return doc as JSONWebKeySet;
}

export interface KeySource {
  readonly getKey: JWTVerifyGetKey;
  close(): void;
}

/**
 * A JWKS file, re-read when its modification time changes (checked every `reloadMs`). A
 * file that turns bad keeps the last good keys in service and logs why.
 */
export async function fileKeySource(path: string, reloadMs: number, log: Logger): Promise<KeySource> {
  const load = async () => checkJwks(JSON.parse(await readFile(path, 'utf8')) as unknown, path);
  let current = createLocalJWKSet(await load());
  let mtime = (await stat(path)).mtimeMs;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      try {
        const now = (await stat(path)).mtimeMs;
        if (now === mtime) return;
        mtime = now;
        current = createLocalJWKSet(await load());
        log.info({ path }, 'jwks file reloaded');
      } catch (err) {
        log.error({ path, err: (err as Error).message }, 'jwks file reload failed; keeping the previous keys');
      } finally {
        checking = false;
      }
    })();
  }, reloadMs);
  timer.unref();
  return {
    getKey: (header, token) => current(header, token),
    close: () => clearInterval(timer),
  };
}

export interface RemoteOptions {
  timeoutMs: number;
  cacheMaxAgeMs: number;
  cooldownMs: number;
}

/**
 * A JWKS URL through jose's remote set (cache, refetch on an unknown `kid` at most once per
 * cooldown). Refreshed in the background at half the cache age, so requests rarely wait for
 * the identity provider; the first fetch happens at start-up.
 */
export async function remoteKeySource(url: URL, opts: RemoteOptions, log: Logger): Promise<KeySource> {
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: opts.timeoutMs,
    cacheMaxAge: opts.cacheMaxAgeMs,
    cooldownDuration: opts.cooldownMs,
  });
  const refresh = async (why: string) => {
    try {
      await remote.reload();
      const jwks = remote.jwks();
      if (jwks) checkJwks(jwks, url.href);
    } catch (err) {
      log.warn({ url: url.href, why, err: (err as Error).message }, 'jwks fetch failed');
    }
  };
  await refresh('start-up');
  const timer = setInterval(() => void refresh('refresh'), Math.max(1_000, opts.cacheMaxAgeMs / 2));
  timer.unref();
  return {
    getKey: async (header, token) => {
      const key = await remote(header, token);
      // Re-check what the provider serves now: an oct key in a remote set is refused too.
      const jwks = remote.jwks();
      if (jwks) checkJwks(jwks, url.href);
      return key;
    },
    close: () => clearInterval(timer),
  };
}
