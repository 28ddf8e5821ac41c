import { z } from 'zod';
import { DATATYPES, describeElement, ELEMENT } from '../shared/elements.js';

export { DATATYPES, type Datatype } from '../shared/elements.js';

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
      return { param: `${where}.data`, message: `${where}.data: datatype ${input.datatype} needs ${expected}; element ${count} is ${describeElement(v)}` };
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
