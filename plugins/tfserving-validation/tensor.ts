/** TF Serving's JSON for binary strings: an object whose only key is `b64`, a string. */
export function isB64(v: unknown): v is { b64: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'b64' && typeof (v as { b64: unknown }).b64 === 'string';
}

/** An instance or `inputs` keyed by input name: an object, but not a b64 string. */
export const isNamedInstance = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isB64(v);

/** What kind of leaf a JSON value is: `number`, `string`, `boolean`, `b64`, `null`, `object`. */
export function leafKind(v: unknown): string {
  if (v === null) return 'null';
  if (isB64(v)) return 'b64';
  return typeof v;
}

export type Walk =
  /** `kinds`: the leaf kinds found, in order of first appearance (none for an empty tensor). */
  | { ok: true; dims: number[]; kinds: string[] }
  | { ok: false; problem: 'ragged' }
  /** `index`: where the first bad leaf is, e.g. [1, 2]. */
  | { ok: false; problem: 'element'; index: number[]; value: unknown };

/**
 * The dense shape of a JSON value (nested lists; anything else is a leaf), walked one depth
 * at a time without recursion. Lists at one depth must all have the same length and leaves
 * must all sit at the deepest one, or the value is `ragged`. With `leafOk`, the first leaf
 * it refuses is reported with its index.
 */
export function walkTensor(value: unknown, leafOk?: (v: unknown) => boolean): Walk {
  const dims: number[] = [];
  let level: unknown[] = [value];
  for (;;) {
    const lists = level.reduce<number>((n, v) => n + (Array.isArray(v) ? 1 : 0), 0);
    if (lists === 0) break;
    if (lists !== level.length) return { ok: false, problem: 'ragged' };
    const length = (level[0] as unknown[]).length;
    if (level.some((v) => (v as unknown[]).length !== length)) return { ok: false, problem: 'ragged' };
    dims.push(length);
    level = (level as unknown[][]).flat(1);
  }
  const kinds = new Set<string>();
  for (let i = 0; i < level.length; i++) {
    const v = level[i];
    if (leafOk && !leafOk(v)) return { ok: false, problem: 'element', index: indexOf(i, dims), value: v };
    kinds.add(leafKind(v));
  }
  return { ok: true, dims, kinds: [...kinds] };
}

/** The flat position `i` of a row-major tensor of `dims` as an index per dimension. */
function indexOf(i: number, dims: readonly number[]): number[] {
  const index = new Array<number>(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k] as number;
    index[k] = i % d;
    i = Math.floor(i / d);
  }
  return index;
}
