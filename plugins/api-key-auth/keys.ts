import { createHash, timingSafeEqual } from 'node:crypto';

/** How keys are stored in the config: `sha256:<64 hex>` or `sha512:<128 hex>`, never the key itself. */
export const KEY_HASH = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export type HashAlgorithm = 'sha256' | 'sha512';

export function hashKey(key: string, algorithm: HashAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(key, 'utf8').digest('hex')}`;
}

interface Entry {
  algorithm: HashAlgorithm;
  digest: Buffer;
  consumer: string;
}

/**
 * The configured key hashes. A lookup hashes the presented key and compares it with every
 * stored digest in constant time, without stopping at the first match, so neither the
 * comparison nor the position of a match shows in the timing.
 */
export class KeyTable {
  private readonly entries: Entry[];

  constructor(consumers: readonly { id: string; keys: readonly string[] }[]) {
    this.entries = consumers.flatMap(({ id, keys }) =>
      keys.map((k) => {
        const [algorithm, hex] = k.split(':') as [HashAlgorithm, string];
        return { algorithm, digest: Buffer.from(hex, 'hex'), consumer: id };
      }),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  /** The consumer id the key belongs to, or undefined. */
  lookup(key: string): string | undefined {
    const digests: Partial<Record<HashAlgorithm, Buffer>> = {};
    let found: string | undefined;
    for (const e of this.entries) {
      const presented = (digests[e.algorithm] ??= createHash(e.algorithm).update(key, 'utf8').digest());
      if (timingSafeEqual(presented, e.digest) && found === undefined) found = e.consumer;
    }
    return found;
  }
}
