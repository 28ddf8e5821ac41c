// Stored API keys (hashed, compared in constant time): used by api-key-auth and by the console's admin key.
import { createHash, hash } from 'node:crypto';

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
  /** Lower-case hex, as crypto.hash writes it. */
  digest: string;
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
        return { algorithm, digest: Buffer.from(hex, 'hex').toString('hex'), consumer: id, expiresAt };
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
    let sha256: string | undefined;
    let sha512: string | undefined;
    let found: KeyMatch | undefined;
    for (const e of this.entries) {
      // crypto.hash: the one-shot digest, without a Hash object per call; hex, not a Buffer:
      // see sameDigest.
      const presented = e.algorithm === 'sha256' ? (sha256 ??= hash('sha256', key)) : (sha512 ??= hash('sha512', key));
      if (sameDigest(presented, e.digest) && found === undefined) found = e;
    }
    return found;
  }

  /** Keys past their expiry at `now`, by consumer: for a warning at load. */
  expired(now: number): string[] {
    return this.entries.filter((e) => e.expiresAt !== undefined && e.expiresAt <= now).map((e) => e.consumer);
  }
}

/**
 * Two hex digests compared in constant time: every character of the stored one, XORed and
 * ORed together, with no branch on their values and no early exit; the length (the
 * algorithm's, public) is the only thing the time depends on. crypto.timingSafeEqual does the
 * same on Buffers, but a Buffer digest costs a Buffer allocation per request and a native call
 * per stored key: at a low request rate, with the caches cold after the idle time between
 * requests, that was ~15 µs of api-key-auth's ~50 µs per request (docs/performance.md).
 */
export function sameDigest(presented: string, stored: string): boolean {
  let diff = presented.length ^ stored.length;
  for (let i = 0; i < stored.length; i++) diff |= presented.charCodeAt(i) ^ stored.charCodeAt(i);
  return diff === 0;
}
