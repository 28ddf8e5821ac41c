// TensorFlow Serving REST API for the iris classifier. Run directly for a CLI:
//   node --import tsx examples/models/tfserving/server.ts --model-name iris --model-version 1 --labels stable=1
import { HttpError, isMain, parseCli, parseJson, runCli, sendJson, startDemoServer } from '../common.js';
import type { DemoServer, RequestContext, Route } from '../common.js';
import { IrisModel } from './iris-model.js';
import { modelMetadata, modelStatus, parsePredictRequest, predictResponse, type ModelRef } from './tf-protocol.js';

export interface TfServingServerOptions {
  host?: string;
  port?: number;
  /** Instance label for `x-demo-instance`; defaults to `<model-name>-<model-version>`. */
  name?: string;
  modelName?: string;
  /** TF Serving versions are integers. */
  modelVersion?: number;
  /** Version labels (e.g. stable -> 1); they can only point at the version this server holds. */
  labels?: Record<string, number>;
  irisPath?: string;
}

// Name, then optionally one of /versions/N or /labels/L, as in TF Serving's URL grammar.
const MODEL_PATH = '/v1/models/([^/:]+)(?:/versions/(\\d+)|/labels/([^/:]+))?';

export async function startTfServingServer(opts: TfServingServerOptions = {}): Promise<DemoServer> {
  const model: ModelRef = { name: opts.modelName ?? 'iris', version: opts.modelVersion ?? 1 };
  if (!Number.isInteger(model.version) || model.version < 0) throw new Error('model version must be a non-negative integer');
  const labels = new Map(Object.entries(opts.labels ?? {}));
  for (const [label, version] of labels) {
    if (version !== model.version) {
      throw new Error(`label ${label}=${version}: this server only serves version ${model.version}`);
    }
  }
  const iris = IrisModel.load(opts.irisPath);

  /** Resolves the servable addressed by the URL; TF Serving's own error texts and codes. */
  const resolve = ({ params: [name = '', version = '', label = ''] }: RequestContext, forStatus = false) => {
    const request = version ? `Specific(${name}, ${version})` : `Latest(${name})`;
    if (name !== model.name) {
      throw new HttpError(404, forStatus ? `Could not find any versions of model ${name}` : `Servable not found for request: ${request}`);
    }
    // TF Serving reports an unknown label as INVALID_ARGUMENT, i.e. 400, not 404.
    if (label && !labels.has(label)) throw new HttpError(400, `Unrecognized servable version label: ${label}`);
    if (version && Number(version) !== model.version) {
      throw new HttpError(404, forStatus ? `Could not find version ${version} of model ${name}` : `Servable not found for request: ${request}`);
    }
  };

  const routes: Route[] = [
    {
      pattern: new RegExp(`^${MODEL_PATH}$`),
      kind: 'health',
      methods: {
        // Real TF Serving answers 200 with a non-AVAILABLE state while loading; the 503 lets
        // plain HTTP health checkers (Envoy) notice without parsing the body.
        GET: (ctx) => {
          resolve(ctx, true);
          sendJson(ctx.res, ctx.ready ? 200 : 503, modelStatus(model.version, ctx.ready));
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}/metadata$`),
      kind: 'other',
      methods: {
        GET: (ctx) => {
          resolve(ctx);
          sendJson(ctx.res, 200, modelMetadata(model));
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}:predict$`),
      kind: 'inference',
      methods: {
        POST: (ctx) => {
          resolve(ctx);
          const request = parsePredictRequest(parseJson(ctx.body));
          sendJson(ctx.res, 200, predictResponse(request, request.rows.map((r) => iris.predictProba(r))));
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}:(classify|regress)$`),
      kind: 'inference',
      methods: {
        POST: (ctx) => {
          resolve(ctx);
          const api = ctx.params[3] === 'classify' ? 'classification' : 'regression';
          const method = ctx.params[3] === 'classify' ? 'classify' : 'regress';
          throw new HttpError(
            400,
            `Expected ${api} signature method_name to be tensorflow/serving/${method}. Was: tensorflow/serving/predict`,
          );
        },
      },
    },
  ];

  return startDemoServer({
    host: opts.host,
    port: opts.port,
    name: opts.name ?? `${model.name}-${model.version}`,
    routes,
    errorBody: (err) => ({
      error: err.status === 404 && err.message.startsWith('no route for ') ? `Malformed request: ${err.message.slice(13)}` : err.message,
    }),
  });
}

/** "stable=1,canary=1" -> { stable: 1, canary: 1 } */
export function parseLabels(spec: string): Record<string, number> {
  const labels: Record<string, number> = {};
  for (const pair of spec.split(',').filter(Boolean)) {
    const m = /^([^=\s]+)=(\d+)$/.exec(pair.trim());
    if (!m) throw new Error(`invalid --labels entry "${pair}"; expected label=version`);
    labels[m[1]!] = Number(m[2]);
  }
  return labels;
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const cli = parseCli(
      process.argv.slice(2),
      { 'model-name': { type: 'string' }, 'model-version': { type: 'string' }, labels: { type: 'string' } },
      8501,
    );
    const version = cli.values['model-version'];
    if (version !== undefined && !/^\d+$/.test(version)) throw new Error(`--model-version must be an integer, got ${version}`);
    return startTfServingServer({
      host: cli.host,
      port: cli.port,
      name: cli.name,
      modelName: cli.values['model-name'],
      modelVersion: version === undefined ? undefined : Number(version),
      labels: cli.values.labels === undefined ? undefined : parseLabels(cli.values.labels),
    });
  });
}
