import { z } from 'zod';
import type { Logger } from 'pino';
import { DATATYPES } from '../shared/elements.js';
import { pollMetadata, type MetadataReader, type MetadataSource, type MetadataTarget } from '../shared/metadata.js';
import { shapeFits, shapeText, SignatureShape } from '../shared/signature.js';
import type { InferRequest, TensorProblem } from './tensor.js';

export const TensorSpec = z
  .object({
    name: z.string().min(1),
    datatype: z.enum(DATATYPES),
    /** -1 is a wildcard dimension (e.g. the batch). */
    shape: SignatureShape,
    /** Inputs a request may leave out. */
    optional: z.boolean().default(false),
  })
  .strict();

export const Signature = z
  .object({
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(z.object({ name: z.string().min(1) }).loose()).optional(),
  })
  .strict();
export type Signature = z.infer<typeof Signature>;

/** The part of a V2 model metadata response the gateway reads. */
const Metadata = z
  .object({
    inputs: z.array(z.object({ name: z.string().min(1), datatype: z.enum(DATATYPES), shape: SignatureShape }).loose()).min(1),
    outputs: z.array(z.object({ name: z.string().min(1) }).loose()).optional(),
  })
  .loose();

/** `GET /v2/models/{m}/versions/{v}`: the V2 model metadata endpoint. */
export const V2_METADATA: MetadataReader<Signature> = {
  path: (model, version) => `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`,
  parse(json) {
    const meta = Metadata.parse(json);
    // `"outputs": []` (MLServer, when the model settings declare inputs only) means unknown, not "none".
    const outputs = meta.outputs !== undefined && meta.outputs.length > 0 ? meta.outputs : undefined;
    return { inputs: meta.inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape, optional: false })), outputs };
  },
};

/** What a signature check reads of a request (a binary-extension header has no `data`). */
export type SignatureCheckable = { inputs: Pick<InferRequest['inputs'][number], 'name' | 'datatype' | 'shape'>[]; outputs?: InferRequest['outputs'] };

/** Checks a request's inputs (and requested outputs) against a model's signature. */
export function checkSignature(request: SignatureCheckable, sig: Signature, model: string): TensorProblem | undefined {
  const specs = new Map(sig.inputs.map((s) => [s.name, s]));
  for (const [i, input] of request.inputs.entries()) {
    const where = `inputs[${i}]`;
    const spec = specs.get(input.name);
    if (!spec) {
      return { param: `${where}.name`, message: `${where}.name: model '${model}' has no input '${input.name}' (inputs: ${[...specs.keys()].join(', ')})` };
    }
    if (spec.datatype !== input.datatype) {
      return { param: `${where}.datatype`, message: `${where}.datatype: input '${input.name}' is ${spec.datatype}, not ${input.datatype}` };
    }
    if (!shapeFits(spec.shape, input.shape)) {
      return {
        param: `${where}.shape`,
        message: `${where}.shape: input '${input.name}' has shape ${shapeText(spec.shape)} (-1 = any); got ${shapeText(input.shape)}`,
      };
    }
  }
  const given = new Set(request.inputs.map((x) => x.name));
  const missing = sig.inputs.find((s) => !s.optional && !given.has(s.name));
  if (missing) return { param: 'inputs', message: `inputs: missing input '${missing.name}' required by model '${model}'` };
  if (sig.outputs && request.outputs) {
    const outputs = new Set(sig.outputs.map((o) => o.name));
    for (const [i, o] of request.outputs.entries()) {
      if (!outputs.has(o.name)) {
        return { param: `outputs[${i}].name`, message: `outputs[${i}].name: model '${model}' has no output '${o.name}' (outputs: ${[...outputs].join(', ')})` };
      }
    }
  }
  return undefined;
}

/** Reads signatures from each version's V2 metadata endpoint (see pollMetadata). */
export function fetchSignatures(targets: readonly MetadataTarget[], opts: { timeoutMs: number; refreshMs: number }, log: Logger): Promise<MetadataSource<Signature>> {
  return pollMetadata(targets, opts, log, V2_METADATA);
}
