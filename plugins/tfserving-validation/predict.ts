import { describeElement } from '../shared/elements.js';
import { shapeFits, shapeText } from '../shared/signature.js';
import { elementRule, type TfSignatures, type TfTensorSpec } from './signature.js';
import { isNamedInstance, walkTensor } from './tensor.js';

export const DEFAULT_SIGNATURE = 'serving_default';

export interface SignatureProblem {
  code: 'unknown_signature' | 'signature_mismatch';
  param: string;
  message: string;
}

/** The signature def a request is checked against, and how messages name it. */
interface Target {
  inputs: Record<string, TfTensorSpec>;
  names: string[];
  /** "model 'iris' (signature 'serving_default')" */
  about: string;
}

const mismatch = (param: string, message: string): SignatureProblem => ({ code: 'signature_mismatch', param, message: `${param}: ${message}` });

/**
 * Checks a predict body (already checked for form) against the model's signature def named
 * by `signature_name` (default `serving_default`): input names, each value's element types
 * for its dtype, and its shape (`-1` matches any size). Row format (`instances`) checks each
 * instance against the shape without the batch dimension, and the instance count against a
 * fixed batch dimension; columnar format (`inputs`) checks the whole shape.
 */
export function checkPredict(
  body: { signature_name?: string | undefined; instances?: readonly unknown[] | undefined; inputs?: unknown },
  signatures: TfSignatures,
  model: string,
): SignatureProblem | undefined {
  // TF Serving treats an empty name as the default, too.
  const name = body.signature_name || DEFAULT_SIGNATURE;
  if (!Object.hasOwn(signatures, name)) {
    const known = Object.keys(signatures).sort().join(', ');
    return { code: 'unknown_signature', param: 'signature_name', message: `signature_name: model '${model}' has no signature '${name}' (signatures: ${known})` };
  }
  const inputs = (signatures[name] as TfSignatures[string]).inputs;
  const target: Target = { inputs, names: Object.keys(inputs), about: `model '${model}' (signature '${name}')` };
  return body.instances !== undefined ? checkRows(body.instances, target) : checkColumns(body.inputs, target);
}

function checkRows(instances: readonly unknown[], t: Target): SignatureProblem | undefined {
  for (const [i, instance] of instances.entries()) {
    const where = `instances[${i}]`;
    const problem = isNamedInstance(instance)
      ? checkNamed(instance, t, where, true)
      : checkUnnamed(instance, t, where, 'each instance', true);
    if (problem) return problem;
  }
  for (const name of t.names) {
    const shape = t.inputs[name]?.shape;
    const batch = shape?.[0];
    if (shape !== undefined && batch !== undefined && batch !== -1 && batch !== instances.length) {
      return mismatch('instances', `input '${name}' has shape ${shapeText(shape)}, a batch of exactly ${batch}; got ${instances.length} instances`);
    }
  }
  return undefined;
}

function checkColumns(inputs: unknown, t: Target): SignatureProblem | undefined {
  if (isNamedInstance(inputs)) return checkNamed(inputs, t, 'inputs', false);
  return checkUnnamed(inputs, t, 'inputs', '"inputs"', false);
}

/** A bare value stands for the signature's only input. */
function checkUnnamed(value: unknown, t: Target, where: string, what: string, row: boolean): SignatureProblem | undefined {
  const only = t.names.length === 1 ? (t.names[0] as string) : undefined;
  if (only === undefined) {
    return mismatch(where, `${t.about} has ${t.names.length} inputs (${t.names.join(', ')}); ${what} must be an object keyed by input name`);
  }
  return checkValue(value, only, t.inputs[only] as TfTensorSpec, where, row);
}

function checkNamed(obj: Record<string, unknown>, t: Target, where: string, row: boolean): SignatureProblem | undefined {
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(t.inputs, key)) return mismatch(`${where}.${key}`, `${t.about} has no input '${key}' (inputs: ${t.names.join(', ')})`);
  }
  const missing = t.names.find((n) => !Object.hasOwn(obj, n));
  if (missing !== undefined) return mismatch(where, `missing input '${missing}' required by ${t.about}`);
  for (const name of t.names) {
    const problem = checkValue(obj[name], name, t.inputs[name] as TfTensorSpec, `${where}.${name}`, row);
    if (problem) return problem;
  }
  return undefined;
}

/** One input's value: dense, elements of its dtype, and its shape (per instance in row format). */
function checkValue(value: unknown, name: string, spec: TfTensorSpec, where: string, row: boolean): SignatureProblem | undefined {
  const rule = elementRule(spec.dtype);
  const walk = walkTensor(value, rule?.check);
  if (!walk.ok && walk.problem === 'ragged') return mismatch(where, `ragged nested lists; input '${name}' is a dense tensor`);
  if (!walk.ok) {
    const at = walk.index.length > 0 ? `element ${shapeText(walk.index)}` : 'the value';
    return mismatch(where, `input '${name}' is ${spec.dtype}, which takes ${rule?.expected}; ${at} is ${describeElement(walk.value)}`);
  }
  const shape = spec.shape;
  if (shape === undefined) return undefined;
  if (!row) {
    return shapeFits(shape, walk.dims) ? undefined : mismatch(where, `input '${name}' has shape ${shapeText(shape)} (-1 = any); got ${shapeText(walk.dims)}`);
  }
  if (shape.length === 0) {
    return mismatch(where, `input '${name}' is a scalar (shape []), which the row format cannot batch; send it in "inputs" (columnar format)`);
  }
  const each = shape.slice(1);
  if (shapeFits(each, walk.dims)) return undefined;
  return mismatch(where, `input '${name}' has shape ${shapeText(shape)} (-1 = any), so each instance is ${shapeText(each)}; got ${shapeText(walk.dims)}`);
}
