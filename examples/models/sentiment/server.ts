// KServe V2 REST server for the sentiment demo model. Run directly for a CLI:
//   node --import tsx examples/models/sentiment/server.ts --method naive-bayes --port 0
import { HttpError, isMain, parseCli, parseJson, runCli, sendJson, startDemoServer } from '../common.js';
import type { DemoServer, RequestContext, Route } from '../common.js';
import { createSentimentModel, SENTIMENT_METHODS, type SentimentMethod } from './model.js';
import { inferResponse, modelMetadata, parseInferRequest, type ModelIdentity } from './v2-protocol.js';

export interface SentimentServerOptions {
  host?: string;
  port?: number;
  /** Instance label for `x-demo-instance`; defaults to `<model-name>-<model-version>`. */
  name?: string;
  method?: SentimentMethod;
  modelName?: string;
  /** Defaults to v1 for lexicon and v2 for naive-bayes. */
  modelVersion?: string;
  /** Alternative training file for naive-bayes. */
  trainPath?: string;
}

const SERVER_VERSION = '1.0.0';
const MODEL_PATH = '/v2/models/([^/]+)(?:/versions/([^/]+))?';

export async function startSentimentServer(opts: SentimentServerOptions = {}): Promise<DemoServer> {
  const method = opts.method ?? 'lexicon';
  const model = createSentimentModel(method, opts.trainPath);
  const identity: ModelIdentity = {
    name: opts.modelName ?? 'sentiment',
    version: opts.modelVersion ?? (method === 'lexicon' ? 'v1' : 'v2'),
  };

  /** A server only knows its own model name and version. */
  const requireModel = ({ params: [name = '', version = ''] }: RequestContext) => {
    if (name !== identity.name) throw new HttpError(404, `model '${name}' not found`);
    if (version !== '' && version !== identity.version) {
      throw new HttpError(404, `model '${name}' version '${version}' not found`);
    }
  };

  const health = (key: 'live' | 'ready') => (ctx: RequestContext) =>
    sendJson(ctx.res, ctx.ready ? 200 : 503, { [key]: ctx.ready });

  const routes: Route[] = [
    { pattern: /^\/v2\/?$/, kind: 'other', methods: { GET: ({ res }) => sendJson(res, 200, { name: 'demo-sentiment', version: SERVER_VERSION, extensions: [] }) } },
    { pattern: /^\/v2\/health\/live$/, kind: 'health', methods: { GET: health('live') } },
    { pattern: /^\/v2\/health\/ready$/, kind: 'health', methods: { GET: health('ready') } },
    {
      pattern: new RegExp(`^${MODEL_PATH}$`),
      kind: 'other',
      methods: {
        GET: (ctx) => {
          requireModel(ctx);
          sendJson(ctx.res, 200, modelMetadata(identity));
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}/ready$`),
      kind: 'health',
      methods: {
        GET: (ctx) => {
          requireModel(ctx);
          sendJson(ctx.res, ctx.ready ? 200 : 503, { name: identity.name, ready: ctx.ready });
        },
      },
    },
    {
      pattern: new RegExp(`^${MODEL_PATH}/infer$`),
      kind: 'inference',
      methods: {
        POST: (ctx) => {
          requireModel(ctx);
          if (ctx.req.headers['inference-header-content-length'] !== undefined) {
            throw new HttpError(400, 'binary tensor data extension is not supported');
          }
          const request = parseInferRequest(parseJson(ctx.body), identity);
          sendJson(ctx.res, 200, inferResponse(identity, request, request.texts.map((t) => model.predict(t))));
        },
      },
    },
  ];

  return startDemoServer({
    host: opts.host,
    port: opts.port,
    name: opts.name ?? `${identity.name}-${identity.version}`,
    routes,
    errorBody: (err) => ({ error: err.message }),
  });
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const cli = parseCli(
      process.argv.slice(2),
      { method: { type: 'string', default: 'lexicon' }, 'model-name': { type: 'string' }, 'model-version': { type: 'string' } },
      8080,
    );
    const method = cli.values.method;
    if (!SENTIMENT_METHODS.includes(method as SentimentMethod)) {
      throw new Error(`--method must be one of ${SENTIMENT_METHODS.join(', ')}`);
    }
    return startSentimentServer({
      host: cli.host,
      port: cli.port,
      name: cli.name,
      method: method as SentimentMethod,
      modelName: cli.values['model-name'],
      modelVersion: cli.values['model-version'],
    });
  });
}
