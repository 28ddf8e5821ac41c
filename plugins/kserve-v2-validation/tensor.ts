import { z } from 'zod';

/** The tensor datatypes of the KServe V2 / Open Inference Protocol. */
export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

const Datatype = z.enum(DATATYPES, { error: `must be one of ${DATATYPES.join(', ')}` });
const Parameters = z.record(z.string(), z.unknown());
/** Rank beyond this is no tensor a model serves; it also bounds the shape product. */
const MAX_RANK = 32;

export const InferInput = z
  .object({
    name: z.string().min(1, 'must not be empty').max(256),
    shape: z.array(z.number().int('must be integers').min(0, 'must not be negative')).max(MAX_RANK),
    datatype: Datatype,
    parameters: Parameters.optional(),
    data: z.array(z.unknown(), { error: 'must be an array (flat or nested, row-major)' }),
  })
  .loose();

export const InferRequest = z
  .object({
    id: z.string().max(256).optional(),
    parameters: Parameters.optional(),
    inputs: z.array(InferInput).min(1, 'must contain at least one input'),
    outputs: z.array(z.object({ name: z.string().min(1), parameters: Parameters.optional() }).loose()).optional(),
  })
  .loose();

export type InferRequest = z.infer<typeof InferRequest>;

type ElementCheck = (v: unknown) => boolean;

const intRange = (min: number, max: number): ElementCheck => (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const floatRange = (limit: number): ElementCheck => (v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= limit;

/** What one element must be for each datatype; 64-bit bounds are as close as a double gets. */
const ELEMENT: Record<Datatype, { check: ElementCheck; expected: string }> = {
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

export interface TensorProblem {
  param: string;
  message: string;
}

/**
 * Checks one input's data against its datatype and shape: every leaf of the (flat or
 * nested) data has the datatype's type and range, and there are exactly as many leaves as
 * the shape's product. Iterative, so a huge tensor costs time linear in its size and no stack.
 */
export function checkTensorData(input: z.infer<typeof InferInput>, where: string): TensorProblem | undefined {
  const { check, expected } = ELEMENT[input.datatype];
  let count = 0;
  const stack: unknown[][] = [input.data];
  const index: number[] = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const arr = stack[top] as unknown[];
    const i = index[top] as number;
    if (i >= arr.length) {
      stack.pop();
      index.pop();
      continue;
    }
    index[top] = i + 1;
    const v = arr[i];
    if (Array.isArray(v)) {
      if (stack.length > MAX_RANK) return { param: `${where}.data`, message: `${where}.data: nested deeper than ${MAX_RANK} levels` };
      stack.push(v);
      index.push(0);
      continue;
    }
    if (!check(v)) {
      const got = v === null ? 'null' : typeof v === 'number' && !Number.isFinite(v) ? 'a non-finite number' : JSON.stringify(v)?.slice(0, 40) ?? typeof v;
      return { param: `${where}.data`, message: `${where}.data: datatype ${input.datatype} needs ${expected}; element ${count} is ${got}` };
    }
    count++;
  }
  const expectedCount = input.shape.reduce((a, b) => a * b, 1);
  if (count !== expectedCount) {
    return {
      param: `${where}.data`,
      message: `${where}.data: shape [${input.shape.join(', ')}] needs ${expectedCount} elements, data has ${count}`,
    };
  }
  return undefined;
}
