/**
 * Tensor element types and what a JSON element of each must be. Named as KServe V2 names
 * them; TF Serving's `DT_*` types map onto the same rules, so both validators agree on what
 * "an INT8" or "a float" is.
 */
export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

export interface ElementRule {
  check: (v: unknown) => boolean;
  /** What the elements must be, for error messages: "integers in 0..255". */
  expected: string;
}

const intRange = (min: number, max: number) => (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const floatRange = (limit: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= limit;

/** 64-bit bounds are as close as a double gets. */
export const ELEMENT: Record<Datatype, ElementRule> = {
  BOOL: { check: (v) => typeof v === 'boolean', expected: 'booleans' },
  UINT8: { check: intRange(0, 255), expected: 'integers in 0..255' },
  UINT16: { check: intRange(0, 65_535), expected: 'integers in 0..65535' },
  UINT32: { check: intRange(0, 4_294_967_295), expected: 'integers in 0..4294967295' },
  UINT64: { check: intRange(0, 2 ** 64), expected: 'integers in 0..2^64-1' },
  INT8: { check: intRange(-128, 127), expected: 'integers in -128..127' },
  INT16: { check: intRange(-32_768, 32_767), expected: 'integers in -32768..32767' },
  INT32: { check: intRange(-2_147_483_648, 2_147_483_647), expected: 'integers in -2^31..2^31-1' },
  INT64: { check: intRange(-(2 ** 63), 2 ** 63), expected: 'integers in -2^63..2^63-1' },
  FP16: { check: floatRange(65_504), expected: 'finite numbers within FP16 range' },
  FP32: { check: floatRange(3.4028234663852886e38), expected: 'finite numbers within FP32 range' },
  FP64: { check: floatRange(Number.MAX_VALUE), expected: 'finite numbers' },
  BYTES: { check: (v) => typeof v === 'string', expected: 'strings' },
};

/** A JSON element as an error message shows it (short; `1e400` parsed to Infinity says so). */
export function describeElement(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'a non-finite number';
  return JSON.stringify(v)?.slice(0, 40) ?? typeof v;
}
