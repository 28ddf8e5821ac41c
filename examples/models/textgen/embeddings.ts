// Deterministic hashed bag-of-words embeddings ("feature hashing"): texts sharing words get
// similar vectors, which is enough for similarity demos without shipping a real model.
import { fnv1a } from './rng.js';

export const EMBEDDING_DIMENSIONS = 64;

/** Text or, as the OpenAI API also allows, an array of token ids. */
export type EmbeddingInput = string | number[];

export function embeddingTokens(input: EmbeddingInput): string[] {
  if (Array.isArray(input)) return input.map((id) => `#${id}`);
  return input.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}

/**
 * Returns float32-representable values so the `float` and `base64` encodings carry the
 * same numbers. Fewer `dimensions` truncate and re-normalise, like OpenAI's v3 models.
 */
export function embed(input: EmbeddingInput, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const tokens = embeddingTokens(input);
  // Punctuation-only text still deserves a stable, non-zero vector.
  if (tokens.length === 0) tokens.push(Array.isArray(input) ? '#' : input);
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const t of tokens) {
    const h = fnv1a(t);
    // Signed hashing keeps collisions from only ever adding up.
    v[h % EMBEDDING_DIMENSIONS]! += (h >>> 16) & 1 ? -1 : 1;
  }
  const kept = v.slice(0, dimensions);
  const norm = Math.hypot(...kept);
  return kept.map((x) => Math.fround(norm === 0 ? 0 : x / norm));
}

/** OpenAI's base64 format: the raw little-endian float32 bytes. */
export function toBase64Float32(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}
