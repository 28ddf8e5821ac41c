// Stored API keys (hashed, compared in constant time): used by api-key-auth and by the console's admin key.
import { createHash, hash, timingSafeEqual } from 'node:crypto';

/** How keys are stored in the config: `sha256:<64 hex>` or `sha512:<128 hex>`, never the key itself. */
export const KEY_HASH = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export type HashAlgorithm = 'sha256' | 'sha512';

export function hashKey(key: string, algorithm: HashAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(key, 'utf8').digest('hex')}`;
}

/** A stored key: its hash, and optionally when it stops being accepted (epoch ms). */
export interface StoredKey {
  hash: string;
  expiresAt?: number;
}

interface Entry {
  algorithm: HashAlgorithm;
  digest: Buffer;
  consumer: string;
  expiresAt: number | undefined;
}

/** Who a presented key belongs to, and until when it is good. */
export interface KeyMatch {
  consumer: string;
  expiresAt: number | undefined;
}

/**
 * The configured key hashes. A lookup hashes the presented key and compares it with every
 * stored digest in constant time, without stopping at the first match, so neither the
 * comparison nor the position of a match shows in the timing.
 */
export class KeyTable {
  private readonly entries: Entry[];

  constructor(consumers: readonly { id: string; keys: readonly (string | StoredKey)[] }[]) {
    this.entries = consumers.flatMap(({ id, keys }) =>
      keys.map((k) => {
        const { hash, expiresAt } = typeof k === 'string' ? { hash: k, expiresAt: undefined } : k;
        const [algorithm, hex] = hash.split(':') as [HashAlgorithm, string];
        return { algorithm, digest: Buffer.from(hex, 'hex'), consumer: id, expiresAt };
      }),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  /** The consumer id the key belongs to, or undefined. */
  lookup(key: string): string | undefined {
    return this.match(key)?.consumer;
  }

  /** The key's consumer and expiry, or undefined when no stored key matches. */
  match(key: string): KeyMatch | undefined {
    const digests: Partial<Record<HashAlgorithm, Buffer>> = {};
    let found: KeyMatch | undefined;
    for (const e of this.entries) {
      // crypto.hash: the one-shot digest, without a Hash object per call.
      const presented = (digests[e.algorithm] ??= hash(e.algorithm, key, 'buffer'));
      if (timingSafeEqual(presented, e.digest) && found === undefined) found = e;
    }
    return found;
  }

  /** Keys past their expiry at `now`, by consumer: for a warning at load. */
  expired(now: number): string[] {
    return this.entries.filter((e) => e.expiresAt !== undefined && e.expiresAt <= now).map((e) => e.consumer);
  }
}
