import { z } from 'zod';
import { ELEMENT, type Datatype, type ElementRule } from '../shared/elements.js';
import type { MetadataReader } from '../shared/metadata.js';
import { SignatureShape } from '../shared/signature.js';
import { isB64 } from './tensor.js';

/**
 * The dtypes TF Serving's REST API fills from JSON (tensorflow_serving/util/json_tensor.cc),
 * with the element rule each shares with V2. DT_STRING also takes `{"b64": "..."}`.
 */
export const TF_DTYPES = {
  DT_FLOAT: 'FP32',
  DT_DOUBLE: 'FP64',
  DT_INT8: 'INT8',
  DT_INT16: 'INT16',
  DT_INT32: 'INT32',
  DT_INT64: 'INT64',
  DT_UINT8: 'UINT8',
  DT_UINT32: 'UINT32',
  DT_UINT64: 'UINT64',
  DT_BOOL: 'BOOL',
  DT_STRING: 'BYTES',
} as const satisfies Record<string, Datatype>;
type TfDtype = keyof typeof TF_DTYPES;
const DTYPE_NAMES = Object.keys(TF_DTYPES) as [TfDtype, ...TfDtype[]];

const STRING_RULE: ElementRule = { check: (v) => typeof v === 'string' || isB64(v), expected: 'strings or {"b64": "..."} objects' };

/** What each element of an input of `dtype` must be; undefined for dtypes JSON cannot fill (left to the server). */
export function elementRule(dtype: string): ElementRule | undefined {
  if (dtype === 'DT_STRING') return STRING_RULE;
  return Object.hasOwn(TF_DTYPES, dtype) ? ELEMENT[TF_DTYPES[dtype as TfDtype]] : undefined;
}

export interface TfTensorSpec {
  dtype: string;
  /** Full shape including the batch dimension; `-1` matches any size; absent: any rank. */
  shape?: number[];
}
export interface TfSignatureDef {
  inputs: Record<string, TfTensorSpec>;
}
/** One model version's signature defs, by signature name (`serving_default`, ...). */
export type TfSignatures = Record<string, TfSignatureDef>;

/** A declared signature map, as TF Serving's metadata names things. */
export const TfSignaturesConfig = z.record(
  z.string().min(1),
  z
    .object({
      inputs: z
        .record(
          z.string().min(1),
          z
            .object({
              dtype: z.enum(DTYPE_NAMES, { error: `must be one of ${DTYPE_NAMES.join(', ')}` }),
              shape: SignatureShape.optional(),
            })
            .strict(),
        )
        .refine((inputs) => Object.keys(inputs).length > 0, 'must declare at least one input'),
    })
    .strict(),
) satisfies z.ZodType<TfSignatures>;

/** The part of TF Serving's `GetModelMetadataResponse` JSON the gateway reads; dim sizes are int64, i.e. strings. */
const TensorInfo = z
  .object({
    dtype: z.string(),
    tensor_shape: z
      .object({
        dim: z.array(z.object({ size: z.union([z.string().regex(/^-?\d+$/), z.number().int()]) }).loose()).default([]),
        unknown_rank: z.boolean().default(false),
      })
      .loose()
      .optional(),
  })
  .loose();
const Metadata = z
  .object({
    metadata: z
      .object({
        signature_def: z
          .object({ signature_def: z.record(z.string(), z.object({ inputs: z.record(z.string(), TensorInfo).default({}) }).loose()) })
          .loose(),
      })
      .loose(),
  })
  .loose();

/** `GET /v1/models/{m}/versions/{v}/metadata`: TF Serving's model metadata endpoint. */
export const TF_METADATA: MetadataReader<TfSignatures> = {
  path: (model, version) => `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/metadata`,
  parse(json) {
    const defs = Metadata.parse(json).metadata.signature_def.signature_def;
    // fromEntries defines own properties: a signature or input named `__proto__` stays data.
    const specOf = (info: z.output<typeof TensorInfo>): TfTensorSpec => {
      const shape = info.tensor_shape;
      return { dtype: info.dtype, shape: shape === undefined || shape.unknown_rank ? undefined : shape.dim.map((d) => Number(d.size)) };
    };
    return Object.fromEntries(
      Object.entries(defs).map(([name, def]) => [name, { inputs: Object.fromEntries(Object.entries(def.inputs).map(([input, info]) => [input, specOf(info)])) }]),
    );
  },
};
