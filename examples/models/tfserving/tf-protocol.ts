// TensorFlow Serving REST shapes for the iris model: signature metadata, model status and
// the row ("instances") / columnar ("inputs") predict formats.
// https://www.tensorflow.org/tfx/serving/api_rest
import { HttpError, isRecord } from '../common.js';
import { FEATURE_COUNT, IRIS_CLASSES } from './iris-model.js';

export const INPUT_NAME = 'features';
export const DEFAULT_SIGNATURE = 'serving_default';

/**
 * Two signatures, as an exported estimator typically has: the default one has a single
 * output, so row-format predictions are plain arrays; "predict" adds the class names, so
 * each prediction becomes an object keyed by output name (TF Serving's multi-output rule).
 */
export const SIGNATURES = {
  [DEFAULT_SIGNATURE]: ['probabilities'],
  predict: ['probabilities', 'classes'],
} as const satisfies Record<string, readonly OutputName[]>;
export type SignatureName = keyof typeof SIGNATURES;
export type OutputName = 'probabilities' | 'classes';

export interface ModelRef {
  name: string;
  version: number;
}

const bad = (message: string) => new HttpError(400, message);

export function modelStatus(version: number, available: boolean) {
  return {
    model_version_status: [
      {
        version: String(version),
        state: available ? 'AVAILABLE' : 'LOADING',
        status: { error_code: 'OK', error_message: '' },
      },
    ],
  };
}

function tensorInfo(name: string, dtype: string, dims: number[]) {
  return {
    dtype,
    tensor_shape: { dim: dims.map((size) => ({ size: String(size), name: '' })), unknown_rank: false },
    name,
  };
}

const OUTPUT_INFO: Record<OutputName, (sig: string) => ReturnType<typeof tensorInfo>> = {
  probabilities: (sig) => tensorInfo(`StatefulPartitionedCall_${sig}:0`, 'DT_FLOAT', [-1, IRIS_CLASSES.length]),
  classes: (sig) => tensorInfo(`StatefulPartitionedCall_${sig}:1`, 'DT_STRING', [-1]),
};

export function modelMetadata(model: ModelRef) {
  const signatureDefs = Object.fromEntries(
    Object.entries(SIGNATURES).map(([sig, outputs]) => [
      sig,
      {
        inputs: { [INPUT_NAME]: tensorInfo(`${sig}_${INPUT_NAME}:0`, 'DT_FLOAT', [-1, FEATURE_COUNT]) },
        outputs: Object.fromEntries(outputs.map((o) => [o, OUTPUT_INFO[o](sig)])),
        method_name: 'tensorflow/serving/predict',
      },
    ]),
  );
  // The doubled "signature_def" key mirrors TF Serving's SignatureDefMap JSON.
  return {
    model_spec: { name: model.name, signature_name: '', version: String(model.version) },
    metadata: { signature_def: { signature_def: signatureDefs } },
  };
}

export interface PredictRequest {
  signature: SignatureName;
  format: 'row' | 'columnar';
  rows: number[][];
}

export function parsePredictRequest(body: unknown): PredictRequest {
  if (!isRecord(body)) throw bad('request body must be a JSON object');
  const signature = body.signature_name ?? DEFAULT_SIGNATURE;
  if (typeof signature !== 'string' || !Object.hasOwn(SIGNATURES, signature)) {
    throw bad(`Serving signature name: "${String(signature)}" not found in signature def`);
  }
  const hasInstances = body.instances !== undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInstances && hasInputs) throw bad("Request may contain either 'instances' (row format) or 'inputs' (columnar format), not both");
  if (!hasInstances && !hasInputs) throw bad("Missing 'instances' or 'inputs' key in request");
  return hasInstances
    ? { signature: signature as SignatureName, format: 'row', rows: parseInstances(body.instances) }
    : { signature: signature as SignatureName, format: 'columnar', rows: parseInputs(body.inputs) };
}

/** Row format: a list of instances, each either the bare tensor or `{ "features": tensor }`. */
function parseInstances(instances: unknown): number[][] {
  if (!Array.isArray(instances)) throw bad("'instances' must be a list");
  const named = instances.map(isRecord);
  if (named.some((n) => n !== named[0])) throw bad("instances must be all lists or all objects keyed by input name");
  return instances.map((inst, i) => {
    const value = isRecord(inst) ? namedInput(inst, `instances[${i}]`) : inst;
    return featureRow(value, `instances[${i}]`);
  });
}

/** Columnar format: the batched tensor itself, or `{ "features": batchedTensor }`. */
function parseInputs(inputs: unknown): number[][] {
  const tensor = isRecord(inputs) ? namedInput(inputs, 'inputs') : inputs;
  if (!Array.isArray(tensor) || !tensor.every(Array.isArray)) {
    throw bad(`'inputs' tensor '${INPUT_NAME}' must have shape [-1,${FEATURE_COUNT}]`);
  }
  return tensor.map((row, i) => featureRow(row, `inputs[${i}]`));
}

function namedInput(obj: Record<string, unknown>, where: string): unknown {
  const unknown = Object.keys(obj).filter((k) => k !== INPUT_NAME);
  if (unknown.length > 0) throw bad(`${where}: unknown input '${unknown[0]}'; the signature has only '${INPUT_NAME}'`);
  if (obj[INPUT_NAME] === undefined) throw bad(`${where}: missing input '${INPUT_NAME}'`);
  return obj[INPUT_NAME];
}

function featureRow(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || value.length !== FEATURE_COUNT) {
    throw bad(`${where}: expected ${FEATURE_COUNT} float features (shape [${FEATURE_COUNT}])`);
  }
  if (!value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw bad(`${where}: features must be finite numbers`);
  }
  return value as number[];
}

/** Seven significant digits: what a DT_FLOAT carries, and tiny probabilities stay non-zero. */
const f32 = (x: number) => Number(Math.fround(x).toPrecision(7));

export function predictResponse(request: PredictRequest, probabilities: number[][]) {
  const outputs = SIGNATURES[request.signature];
  const columns: Record<OutputName, unknown[]> = {
    probabilities: probabilities.map((p) => p.map(f32)),
    classes: probabilities.map((p) => IRIS_CLASSES[p.indexOf(Math.max(...p))]),
  };
  const single = outputs.length === 1;
  if (request.format === 'columnar') {
    return { outputs: single ? columns[outputs[0]] : Object.fromEntries(outputs.map((o) => [o, columns[o]])) };
  }
  return {
    predictions: probabilities.map((_, i) =>
      single ? columns[outputs[0]][i] : Object.fromEntries(outputs.map((o) => [o, columns[o][i]])),
    ),
  };
}
