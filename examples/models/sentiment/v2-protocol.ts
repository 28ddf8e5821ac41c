// Open Inference Protocol (KServe V2) request validation and response shaping for a model
// with one BYTES input "text" and outputs "label" (BYTES) and "score" (FP32).
// https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
import { HttpError, isRecord } from '../common.js';
import type { Prediction } from './model.js';

export const INPUT_NAME = 'text';
export const OUTPUT_NAMES = ['label', 'score'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface InferRequest {
  id?: string;
  texts: string[];
  outputs: OutputName[];
}

export interface ModelIdentity {
  name: string;
  version: string;
}

const bad = (message: string) => new HttpError(400, message);

export function modelMetadata(model: ModelIdentity) {
  return {
    name: model.name,
    versions: [model.version],
    platform: 'demo',
    inputs: [{ name: INPUT_NAME, datatype: 'BYTES', shape: [-1] }],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'score', datatype: 'FP32', shape: [-1] },
    ],
  };
}

export function parseInferRequest(body: unknown, model: ModelIdentity): InferRequest {
  if (!isRecord(body)) throw bad('inference request must be a JSON object');
  const { id, inputs, outputs } = body;
  if (id !== undefined && typeof id !== 'string') throw bad("'id' must be a string");
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad("'inputs' must be a non-empty array");

  let texts: string[] | undefined;
  for (const input of inputs) {
    if (!isRecord(input) || typeof input.name !== 'string') throw bad('each input must be an object with a string name');
    if (input.name !== INPUT_NAME) {
      throw bad(`unexpected inference input '${input.name}' for model '${model.name}'; expected '${INPUT_NAME}'`);
    }
    if (texts) throw bad(`input '${INPUT_NAME}' given more than once`);
    texts = parseTextTensor(input);
  }
  return { ...(id !== undefined && { id }), texts: texts!, outputs: parseOutputFilter(outputs) };
}

function parseTextTensor(input: Record<string, unknown>): string[] {
  if (input.datatype !== 'BYTES') {
    throw bad(`input '${INPUT_NAME}' has datatype ${JSON.stringify(input.datatype)}; expected BYTES`);
  }
  const { shape, data } = input;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw bad(`input '${INPUT_NAME}' shape must be an array of non-negative integers`);
  }
  if (isRecord(input.parameters) && input.parameters.binary_data_size !== undefined) {
    throw bad('binary tensor data extension is not supported');
  }
  if (!Array.isArray(data)) throw bad(`input '${INPUT_NAME}' data must be an array`);
  // The protocol allows row-major nested arrays as well as the flat form.
  const flat: unknown[] = data.flat(Infinity);
  const expected = (shape as number[]).reduce((a, b) => a * b, 1);
  if (flat.length !== expected) {
    throw bad(`input '${INPUT_NAME}' shape [${shape.join(',')}] expects ${expected} elements but data has ${flat.length}`);
  }
  if (!flat.every((s): s is string => typeof s === 'string')) {
    throw bad(`input '${INPUT_NAME}' data must contain only strings for datatype BYTES`);
  }
  return flat;
}

function parseOutputFilter(outputs: unknown): OutputName[] {
  if (outputs === undefined || (Array.isArray(outputs) && outputs.length === 0)) return [...OUTPUT_NAMES];
  if (!Array.isArray(outputs)) throw bad("'outputs' must be an array");
  return outputs.map((o) => {
    const name = isRecord(o) ? o.name : undefined;
    if (!OUTPUT_NAMES.includes(name as OutputName)) {
      throw bad(`unknown requested output ${JSON.stringify(name)}; available: ${OUTPUT_NAMES.join(', ')}`);
    }
    return name as OutputName;
  });
}

export function inferResponse(model: ModelIdentity, request: InferRequest, predictions: Prediction[]) {
  const n = predictions.length;
  const tensors = {
    label: { name: 'label', shape: [n], datatype: 'BYTES', data: predictions.map((p) => p.label) },
    // FP32 on the wire; six decimals is already beyond float32's useful precision here.
    score: { name: 'score', shape: [n], datatype: 'FP32', data: predictions.map((p) => Math.round(p.score * 1e6) / 1e6) },
  };
  return {
    model_name: model.name,
    model_version: model.version,
    ...(request.id !== undefined && { id: request.id }),
    outputs: request.outputs.map((name) => tensors[name]),
  };
}
