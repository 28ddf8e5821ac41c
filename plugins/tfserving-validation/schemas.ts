import { z } from 'zod';

const SignatureName = z.string().max(256).optional();

/** `instances` (row format) xor `inputs` (columnar format), as TF Serving's REST API defines predict. */
export const PredictRequest = z
  .object({
    signature_name: SignatureName,
    instances: z.array(z.unknown()).min(1, 'must contain at least one instance').optional(),
    inputs: z.unknown().optional(),
  })
  .loose()
  .superRefine((b, ctx) => {
    const hasInstances = b.instances !== undefined;
    const hasInputs = b.inputs !== undefined;
    if (hasInstances && hasInputs) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'send either "instances" (row format) or "inputs" (columnar format), not both' });
    } else if (!hasInstances && !hasInputs) {
      ctx.addIssue({ code: 'custom', path: ['instances'], message: 'required: send "instances" (row format) or "inputs" (columnar format)' });
    } else if (hasInputs && b.inputs === null) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'must not be null' });
    }
  });

/** classify and regress take tf.Example-like `examples`. */
export const ExamplesRequest = z
  .object({
    signature_name: SignatureName,
    context: z.record(z.string(), z.unknown()).optional(),
    examples: z.array(z.record(z.string(), z.unknown(), { error: 'each example is an object of features' })).min(1, 'must contain at least one example'),
  })
  .loose();

type Shape = { kind: string; dims: number[] };

/** The nested-list shape and leaf kind of a value; `ragged` when sibling lists differ. */
function shapeOf(value: unknown): Shape | 'ragged' {
  if (!Array.isArray(value)) {
    const b64 = typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { b64?: unknown }).b64 === 'string';
    return { kind: b64 ? 'b64' : value === null ? 'null' : typeof value, dims: [] };
  }
  if (value.length === 0) return { kind: 'empty', dims: [0] };
  const first = shapeOf(value[0]);
  if (first === 'ragged') return 'ragged';
  for (let i = 1; i < value.length; i++) {
    const s = shapeOf(value[i]);
    if (s === 'ragged' || s.kind !== first.kind || s.dims.join() !== first.dims.join()) return 'ragged';
  }
  return { kind: first.kind, dims: [value.length, ...first.dims] };
}

const dimsText = (s: Shape) => `[${s.dims.join(', ')}] of ${s.kind}`;

/**
 * Row format: all instances have one structure. Either each is an object of named inputs
 * (same names in each), or each is a value/list of the same shape and element kind.
 */
export function checkInstances(instances: readonly unknown[]): { param: string; message: string } | undefined {
  const named = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { b64?: unknown }).b64 !== 'string';
  const first = instances[0];
  if (named(first)) {
    const keys = Object.keys(first as object).sort().join();
    for (const [i, inst] of instances.entries()) {
      if (!named(inst) || Object.keys(inst as object).sort().join() !== keys) {
        return { param: `instances[${i}]`, message: `instances[${i}]: every instance must name the same inputs as instances[0] (${keys})` };
      }
      for (const [name, v] of Object.entries(inst as object)) {
        if (shapeOf(v) === 'ragged') return { param: `instances[${i}].${name}`, message: `instances[${i}].${name}: ragged nested lists` };
      }
    }
    return undefined;
  }
  const base = shapeOf(first);
  if (base === 'ragged') return { param: 'instances[0]', message: 'instances[0]: ragged nested lists' };
  for (let i = 1; i < instances.length; i++) {
    const s = shapeOf(instances[i]);
    if (s === 'ragged' || s.kind !== base.kind || s.dims.join() !== base.dims.join()) {
      const got = s === 'ragged' ? 'ragged nested lists' : dimsText(s);
      return { param: `instances[${i}]`, message: `instances[${i}]: every instance must have the shape of instances[0] (${dimsText(base)}); got ${got}` };
    }
  }
  return undefined;
}
