// A KServe V2 server that behaves like MLServer 1.7 serving a scikit-learn model, in the ways
// that matter to the gateway: its metadata declares the inputs only (`"outputs": []`, as
// MLServer publishes when the model settings list no outputs), and `infer` accepts the binary
// tensor extension (`Inference-Header-Content-Length`, tritonclient's default). The model is
// the iris classifier of the TF Serving demo. Run directly for a CLI:
//   node --import tsx examples/models/mlserver-like/server.ts --model-name iris-v2 --model-version v1
import { HttpError, isMain, isRecord, parseCli, parseJson, runCli, sendJson, startDemoServer } from '../common.js';
import type { DemoServer, RequestContext, Route } from '../common.js';
import { IrisModel } from '../tfserving/iris-model.js';

export interface MlserverLikeOptions {
  host?: string;
  port?: number;
  name?: string;
  modelName?: string;
  modelVersion?: string;
}

const MODEL_PATH = '/v2/models/([^/]+)(?:/versions/([^/]+))?';
const INPUT = 'input-0';
const OUTPUTS = ['predict', 'predict_proba'];

interface Input {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  parameters?: { binary_data_size?: number };
}

/** The JSON header and the rows of features, from a JSON body or a binary-extension body. */
export function readInfer(body: Buffer, headerLength: string | undefined): { rows: number[][]; outputs: string[] } {
  const jsonLength = headerLength === undefined ? body.length : Number(headerLength);
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) throw new HttpError(400, `invalid Inference-Header-Content-Length ${headerLength}`);
  const header = parseJson(body.subarray(0, jsonLength));
  if (!isRecord(header) || !Array.isArray(header.inputs)) throw new HttpError(400, 'body must have inputs');
  const input = (header.inputs as Input[]).find((i) => i.name === INPUT);
  if (!input || input.datatype !== 'FP32' || input.shape.length !== 2 || input.shape[1] !== 4) throw new HttpError(400, `expected input '${INPUT}' FP32 [n, 4]`);
  const n = input.shape[0] as number;
  let values: number[];
  const binarySize = input.parameters?.binary_data_size;
  if (binarySize !== undefined) {
    const bytes = body.subarray(jsonLength, jsonLength + binarySize);
    if (bytes.length !== binarySize || binarySize !== n * 4 * 4) throw new HttpError(400, `binary data of '${INPUT}' is ${bytes.length} bytes, expected ${n * 16}`);
    values = Array.from({ length: n * 4 }, (_, i) => bytes.readFloatLE(i * 4));
  } else {
    values = (Array.isArray(input.data) ? input.data.flat(2) : []) as number[];
    if (values.length !== n * 4 || values.some((v) => typeof v !== 'number')) throw new HttpError(400, `data of '${INPUT}' must hold ${n * 4} numbers`);
  }
  const outputs = Array.isArray(header.outputs) ? (header.outputs as { name?: unknown }[]).map((o) => String(o.name)) : ['predict'];
  for (const o of outputs) if (!OUTPUTS.includes(o)) throw new HttpError(400, `model has no output '${o}'`);
  return { rows: Array.from({ length: n }, (_, r) => values.slice(r * 4, r * 4 + 4)), outputs };
}

export async function startMlserverLike(opts: MlserverLikeOptions = {}): Promise<DemoServer> {
  const iris = IrisModel.load();
  const name = opts.modelName ?? 'iris-v2';
  const version = opts.modelVersion ?? 'v1';
  const requireModel = ({ params: [n = '', v = ''] }: RequestContext) => {
    if (n !== name || (v !== '' && v !== version)) throw new HttpError(404, `Model ${n} with version ${v} not found`);
  };
  const ready = (ctx: RequestContext) => sendJson(ctx.res, ctx.ready ? 200 : 503, ctx.ready ? {} : { error: 'not ready' });
  const routes: Route[] = [
    { pattern: /^\/v2\/health\/(live|ready)$/, kind: 'health', methods: { GET: ready } },
    { pattern: new RegExp(`^${MODEL_PATH}/ready$`), kind: 'health', methods: { GET: ready } },
    {
      pattern: new RegExp(`^${MODEL_PATH}$`),
      kind: 'other',
      methods: {
        GET: (ctx) => {
          requireModel(ctx);
          sendJson(ctx.res, 200, { name, versions: [version], platform: '', inputs: [{ name: INPUT, datatype: 'FP32', shape: [-1, 4] }], outputs: [], parameters: { content_type: 'np' } });
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}/infer$`),
      kind: 'inference',
      methods: {
        POST: (ctx) => {
          requireModel(ctx);
          const header = ctx.req.headers['inference-header-content-length'];
          const { rows, outputs } = readInfer(ctx.body, Array.isArray(header) ? header[0] : header);
          const probs = rows.map((r) => iris.predictProba(r));
          sendJson(ctx.res, 200, {
            model_name: name,
            model_version: version,
            outputs: outputs.map((o) =>
              o === 'predict'
                ? { name: o, datatype: 'INT64', shape: [rows.length, 1], data: probs.map((p) => p.indexOf(Math.max(...p))) }
                : { name: o, datatype: 'FP64', shape: [rows.length, 3], data: probs.flat() },
            ),
          });
        },
      },
    },
  ];
  return startDemoServer({ host: opts.host, port: opts.port, name: opts.name ?? `${name}-${version}`, routes, errorBody: (err) => ({ error: err.message }) });
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const cli = parseCli(process.argv.slice(2), { 'model-name': { type: 'string' }, 'model-version': { type: 'string' } }, 8080);
    return startMlserverLike({ host: cli.host, port: cli.port, name: cli.name, modelName: cli.values['model-name'], modelVersion: cli.values['model-version'] });
  });
}
