import { z } from 'zod';
import type { Datatype } from '../shared/elements.js';
import { SignatureKey } from '../shared/signature.js';
import { checkTensorData, InferInput, InferRequest, type TensorProblem } from './tensor.js';

// The V2 binary tensor data extension (what tritonclient sends with `binary_data=True`): the
// body is a JSON header of `Inference-Header-Content-Length` bytes, then the raw tensors in
// input order, each input naming its byte count in `parameters.binary_data_size`.

export const BINARY_HEADER = 'inference-header-content-length';

const BinaryMode = z.enum(['refuse', 'accept']);
type BinaryMode = z.infer<typeof BinaryMode>;

/** Per model (`model` or `model@version`, the more specific wins), else `default`. */
export const BinaryDataOptions = z
  .object({ default: BinaryMode.default('refuse'), models: z.record(SignatureKey, BinaryMode).default({}) })
  .strict()
  .prefault({});
export type BinaryDataOptions = z.output<typeof BinaryDataOptions>;

export function binaryModeFor(opts: BinaryDataOptions, model: string | undefined, version: string | undefined): BinaryMode {
  const own = (key: string) => (Object.hasOwn(opts.models, key) ? opts.models[key] : undefined);
  if (model === undefined) return opts.default;
  return (version !== undefined ? own(`${model}@${version}`) : undefined) ?? own(model) ?? opts.default;
}

/** Bytes per element; BYTES elements are each a 4-byte little-endian length, then the bytes. */
const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8,
};

/** The header's inputs may carry `binary_data_size` instead of `data`. */
export const BinaryInferRequest = InferRequest.extend({ inputs: z.array(InferInput.extend({ data: InferInput.shape.data.optional() })).min(1, 'must contain at least one input') });
export type BinaryInferRequest = z.infer<typeof BinaryInferRequest>;

/** The value of `Inference-Header-Content-Length`, or a problem when it is not a length within the body. */
export function headerLength(value: string, contentLength: number | undefined): number | TensorProblem {
  const n = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || (contentLength !== undefined && n > contentLength)) {
    return { param: BINARY_HEADER, message: `${BINARY_HEADER}: must be the byte length of the JSON header (at most the body's length), got '${value.slice(0, 40)}'` };
  }
  return n;
}

/** Counts the length-prefixed elements of a BYTES tensor, or undefined when the bytes don't split exactly. */
function countBytesElements(bytes: Buffer): number | undefined {
  let at = 0;
  let count = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return undefined;
    at += 4 + bytes.readUInt32LE(at);
    count++;
  }
  return at === bytes.length ? count : undefined;
}

/**
 * Checks the binary part against the header: each input has either JSON `data` (checked as
 * usual) or a `binary_data_size` that fits its datatype and shape, and the sizes add up to
 * exactly the bytes after the header.
 */
export function checkBinaryTensors(request: BinaryInferRequest, binary: Buffer): TensorProblem | undefined {
  let at = 0;
  for (const [i, input] of request.inputs.entries()) {
    const where = `inputs[${i}]`;
    const size = input.parameters?.binary_data_size;
    if (size === undefined) {
      if (input.data === undefined) return { param: `${where}.data`, message: `${where}: needs data or parameters.binary_data_size` };
      const problem = checkTensorData({ ...input, data: input.data }, where);
      if (problem) return problem;
      continue;
    }
    if (input.data !== undefined) return { param: `${where}.data`, message: `${where}: has both data and parameters.binary_data_size` };
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      return { param: `${where}.parameters.binary_data_size`, message: `${where}.parameters.binary_data_size: must be a non-negative integer` };
    }
    if (at + size > binary.length) {
      return { param: `${where}.parameters.binary_data_size`, message: `${where}.parameters.binary_data_size: ${size} bytes, but only ${binary.length - at} bytes of binary data are left` };
    }
    const elements = input.shape.reduce((a, b) => a * b, 1);
    const bytes = binary.subarray(at, at + size);
    at += size;
    if (input.datatype === 'BYTES') {
      const count = countBytesElements(bytes);
      if (count !== elements) return { param: `${where}.parameters.binary_data_size`, message: `${where}: shape [${input.shape.join(', ')}] needs ${elements} length-prefixed BYTES elements, the binary data holds ${count ?? 'no whole number of'}` };
    } else if (size !== elements * ELEMENT_BYTES[input.datatype]) {
      return {
        param: `${where}.parameters.binary_data_size`,
        message: `${where}.parameters.binary_data_size: shape [${input.shape.join(', ')}] of ${input.datatype} is ${elements * ELEMENT_BYTES[input.datatype]} bytes, not ${size}`,
      };
    }
  }
  if (at !== binary.length) return { param: BINARY_HEADER, message: `${binary.length - at} bytes of binary data after the last binary input` };
  return undefined;
}
