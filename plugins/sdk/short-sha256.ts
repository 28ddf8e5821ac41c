// SHA-256 (FIPS 180-4) of a short ASCII string, for api-key-auth's per-request key lookup.
//
// Why not node:crypto: at a low request rate the ext-proc sleeps between requests and wakes
// with cold caches; crypto.hash then walks Node's binding and OpenSSL's provider machinery
// (context allocation, method dispatch, the result's encoding) and cost ~20–30 µs per request,
// whatever its output form (and a general JS implementation, @noble/hashes or fast-sha256,
// about as much). An API key fits in one 64-byte block: one function, a 256-byte constant
// table and a 256-byte schedule cost ~5 µs cold. Anything longer, or not ASCII, goes to
// node:crypto (keys.ts); short-sha256.test.ts checks this one against node:crypto.
//
// Timing: additions, rotations and XORs only, and no table indexed by the key's bytes, so
// the time depends on the key's length alone.

/** The longest string hashed here: 55 bytes, the padding and length fill the rest of one block. */
export const SHORT_SHA256_MAX = 55;

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** The message schedule, zeroed after every use (its first words are the key itself). */
const W = new Int32Array(64);

/**
 * Writes SHA-256(`text`) into `out` as eight big-endian 32-bit words and returns true, or
 * returns false (and leaves `out` alone) when `text` is longer than SHORT_SHA256_MAX or not
 * all ASCII (its UTF-8 bytes would differ from its char codes).
 */
export function shortSha256(text: string, out: Int32Array): boolean {
  const n = text.length;
  if (n > SHORT_SHA256_MAX) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) {
      W.fill(0);
      return false;
    }
    W[i >> 2] = (W[i >> 2] as number) | (c << (24 - 8 * (i & 3)));
  }
  W[n >> 2] = (W[n >> 2] as number) | (0x80 << (24 - 8 * (n & 3)));
  W[15] = n * 8;
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15] as number;
    const y = W[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = H0[0] as number;
  let b = H0[1] as number;
  let c = H0[2] as number;
  let d = H0[3] as number;
  let e = H0[4] as number;
  let f = H0[5] as number;
  let g = H0[6] as number;
  let h = H0[7] as number;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (W[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  W.fill(0);
  out[0] = (H0[0] as number) + a;
  out[1] = (H0[1] as number) + b;
  out[2] = (H0[2] as number) + c;
  out[3] = (H0[3] as number) + d;
  out[4] = (H0[4] as number) + e;
  out[5] = (H0[5] as number) + f;
  out[6] = (H0[6] as number) + g;
  out[7] = (H0[7] as number) + h;
  return true;
}

/** A SHA-256 digest (32 bytes) as the eight big-endian words shortSha256 writes. */
export function digestWords(digest: Uint8Array): Int32Array {
  const words = new Int32Array(8);
  for (let i = 0; i < 8; i++) words[i] = ((digest[4 * i] as number) << 24) | ((digest[4 * i + 1] as number) << 16) | ((digest[4 * i + 2] as number) << 8) | (digest[4 * i + 3] as number);
  return words;
}
