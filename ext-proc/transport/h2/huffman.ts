import { HUFFMAN_CODES } from './huffman-table.js';

export class HuffmanError extends Error {}

const EOS = 256;

/**
 * The code as a binary tree in flat arrays: node 0 is the root; `zero[n]`/`one[n]` are the
 * children (0: none), `symbol[n]` the symbol at a leaf (-1 inside). Built once at load.
 */
const zero: number[] = [0];
const one: number[] = [0];
const symbol: number[] = [-1];
for (let s = 0; s <= EOS; s++) {
  const code = HUFFMAN_CODES[2 * s] as number;
  const bits = HUFFMAN_CODES[2 * s + 1] as number;
  let node = 0;
  for (let i = bits - 1; i >= 0; i--) {
    const branch = (code >>> i) & 1 ? one : zero;
    let next = branch[node] as number;
    if (next === 0) {
      next = symbol.length;
      zero.push(0);
      one.push(0);
      symbol.push(-1);
      branch[node] = next;
    }
    node = next;
  }
  symbol[node] = s;
}

let scratch = Buffer.allocUnsafe(256);

/**
 * Decodes a Huffman-coded HPACK string (RFC 7541 §5.2) as latin1. Throws on a code that is not
 * in the table, on EOS inside the string, and on padding that is longer than 7 bits or not all ones.
 */
export function decodeHuffman(src: Uint8Array, start: number, end: number): string {
  // Each symbol takes at least 5 bits: the output is at most 8/5 of the input.
  const most = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < most) scratch = Buffer.allocUnsafe(most);
  let out = 0;
  let node = 0;
  let pending = 0; // bits read since the last symbol
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = src[i] as number;
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >>> bit) & 1;
      node = (b ? one[node] : zero[node]) as number;
      if (node === 0) throw new HuffmanError('invalid Huffman code');
      pending++;
      allOnes = allOnes && b === 1;
      const s = symbol[node] as number;
      if (s >= 0) {
        if (s === EOS) throw new HuffmanError('EOS inside a Huffman-coded string');
        scratch[out++] = s;
        node = 0;
        pending = 0;
        allOnes = true;
      }
    }
  }
  if (pending > 7 || !allOnes) throw new HuffmanError('invalid Huffman padding');
  return scratch.toString('latin1', 0, out);
}
