import { z } from 'zod';
import { isNamedInstance, walkTensor } from './tensor.js';

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

type Problem = { param: string; message: string };
type Structure = { dims: number[]; kind: string };

/**
 * The nested-list shape and element kind of one instance. Strings and `{"b64": ...}` are one
 * kind (both fill a DT_STRING); two kinds in one instance fit no dtype.
 */
function structureOf(value: unknown, where: string): Structure | Problem {
  const walk = walkTensor(value);
  if (!walk.ok) return { param: where, message: `${where}: ragged nested lists` };
  const kinds = [...new Set(walk.kinds.map((k) => (k === 'b64' ? 'string' : k)))];
  if (kinds.length > 1) return { param: where, message: `${where}: mixes element types (${kinds.join(', ')})` };
  return { dims: walk.dims, kind: kinds[0] ?? 'empty' };
}

const isProblem = (s: Structure | Problem): s is Problem => 'message' in s;
const structureText = (s: Structure) => `[${s.dims.join(', ')}] of ${s.kind}`;
const sameStructure = (a: Structure, b: Structure) => a.kind === b.kind && a.dims.join() === b.dims.join();

/**
 * Row format: all instances have one structure, since TF Serving stacks them into one batch.
 * Either each is an object of named inputs (the same names in each, each input of one shape
 * and kind across instances), or each is a value/list of the same shape and element kind.
 */
export function checkInstances(instances: readonly unknown[]): Problem | undefined {
  const first = instances[0];
  if (isNamedInstance(first)) {
    const keys = Object.keys(first as object).sort().join();
    const base = new Map<string, Structure>();
    for (const [i, inst] of instances.entries()) {
      if (!isNamedInstance(inst) || Object.keys(inst as object).sort().join() !== keys) {
        return { param: `instances[${i}]`, message: `instances[${i}]: every instance must name the same inputs as instances[0] (${keys})` };
      }
      for (const [name, v] of Object.entries(inst as object)) {
        const where = `instances[${i}].${name}`;
        const s = structureOf(v, where);
        if (isProblem(s)) return s;
        const b = base.get(name);
        if (!b) base.set(name, s);
        else if (!sameStructure(s, b)) {
          return { param: where, message: `${where}: every instance must give '${name}' the shape of instances[0] (${structureText(b)}); got ${structureText(s)}` };
        }
      }
    }
    return undefined;
  }
  const base = structureOf(first, 'instances[0]');
  if (isProblem(base)) return base;
  for (let i = 1; i < instances.length; i++) {
    const where = `instances[${i}]`;
    const s = isNamedInstance(instances[i]) ? { dims: [], kind: 'object' } : structureOf(instances[i], where);
    if (isProblem(s)) return s;
    if (!sameStructure(s, base)) {
      return { param: where, message: `${where}: every instance must have the shape of instances[0] (${structureText(base)}); got ${structureText(s)}` };
    }
  }
  return undefined;
}
