// OpenAI-compatible server for the tinylm bigram model. Run directly for a CLI:
//   node --import tsx examples/models/textgen/server.ts --port 0 --token-delay-ms 15
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HttpError, isMain, pause, parseCli, parseJson, runCli, sendJson, startDemoServer } from '../common.js';
import type { DemoServer, RequestContext, Route } from '../common.js';
import { BigramModel, countWords, wordKey, type Generation, type SamplingOptions } from './bigram.js';
import { embed, EMBEDDING_DIMENSIONS, embeddingTokens, toBase64Float32, type EmbeddingInput } from './embeddings.js';
import {
  chatChunk,
  chatCompletion,
  chatRequestSchema,
  completionRequestSchema,
  DEFAULT_MAX_TOKENS,
  embeddingList,
  embeddingRequestSchema,
  errorBody,
  messageText,
  modelNotFound,
  parseRequest,
  textCompletion,
  textCompletionChunk,
  usage,
  type ResponseMeta,
} from './openai-protocol.js';
import { endSse, sendEvent, startSse } from './sse.js';
import { fnv1a } from './rng.js';

export interface TextgenServerOptions {
  host?: string;
  port?: number;
  /** Instance label for `x-demo-instance`; defaults to `<model-name>-<model-version>`. */
  name?: string;
  modelName?: string;
  modelVersion?: string;
  /** Pause before each streamed word, so streaming is observable over time. */
  tokenDelayMs?: number;
  corpusPath?: string;
}

export const DEFAULT_CORPUS_PATH = fileURLToPath(new URL('./data/corpus.txt', import.meta.url));

export async function startTextgenServer(opts: TextgenServerOptions = {}): Promise<DemoServer> {
  const modelName = opts.modelName ?? 'tinylm';
  const modelVersion = opts.modelVersion ?? 'v1';
  const tokenDelayMs = opts.tokenDelayMs ?? 15;
  const model = BigramModel.train(readFileSync(opts.corpusPath ?? DEFAULT_CORPUS_PATH, 'utf8'));
  const created = Math.floor(Date.now() / 1000);
  const modelObject = { id: modelName, object: 'model', created, owned_by: 'demo' };

  const requireModel = (requested: string) => {
    if (requested !== modelName) throw modelNotFound(requested);
  };
  const meta = (prefix: string): ResponseMeta => ({
    id: `${prefix}-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model: modelName,
    system_fingerprint: `fp_${modelName}_${modelVersion}`,
  });

  const chat = async (ctx: RequestContext) => {
    const req = parseRequest(chatRequestSchema, parseJson(ctx.body));
    requireModel(req.model);
    const texts = req.messages.map(messageText);
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const sampling = samplingOptions(req, texts.join('\n'));
    const gens = generateChoices(model, lastUser ? seedWordOf(messageText(lastUser)) : undefined, sampling, req.n ?? 1);
    const use = usage(sum(texts.map(countWords)), sum(gens.map((g) => g.pieces.length)));
    const m = meta('chatcmpl');
    if (!req.stream) return sendJson(ctx.res, 200, chatCompletion(m, gens, use));

    const withUsage = req.stream_options?.include_usage === true;
    await streamGenerations(ctx, tokenDelayMs, gens, {
      start: () =>
        gens.forEach((_, index) =>
          sendEvent(ctx.res, chatChunk(m, [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }], withUsage)),
        ),
      piece: (index, content) => sendEvent(ctx.res, chatChunk(m, [{ index, delta: { content }, finish_reason: null }], withUsage)),
      finish: (index, reason) => sendEvent(ctx.res, chatChunk(m, [{ index, delta: {}, finish_reason: reason }], withUsage)),
      usage: () => withUsage && sendEvent(ctx.res, chatChunk(m, [], true, use)),
    });
  };

  const completions = async (ctx: RequestContext) => {
    const req = parseRequest(completionRequestSchema, parseJson(ctx.body));
    requireModel(req.model);
    if (typeof req.prompt !== 'string' && !req.prompt.every((p) => typeof p === 'string')) {
      throw new HttpError(400, 'token-id prompts are not supported by this model; send text', { param: 'prompt' });
    }
    const prompts = typeof req.prompt === 'string' ? [req.prompt] : (req.prompt as string[]);
    const n = req.n ?? 1;
    // Choice index = prompt index * n + sample index, as in the OpenAI API.
    const gens = prompts.flatMap((p) => generateChoices(model, seedWordOf(p), samplingOptions(req, p), n));
    const echoes = prompts.flatMap((p) => Array<string>(n).fill(req.echo ? echoPrefix(p) : ''));
    const use = usage(sum(prompts.map(countWords)), sum(gens.map((g) => g.pieces.length)));
    const m = meta('cmpl');
    if (!req.stream) {
      return sendJson(ctx.res, 200, textCompletion(m, gens.map((g, i) => ({ text: echoes[i] + g.text, finishReason: g.finishReason })), use));
    }

    const withUsage = req.stream_options?.include_usage === true;
    const chunk = (index: number, text: string, finish: Generation['finishReason'] | null) =>
      sendEvent(ctx.res, textCompletionChunk(m, [{ index, text, finish_reason: finish }], withUsage));
    await streamGenerations(ctx, tokenDelayMs, gens, {
      start: () => echoes.forEach((e, i) => e && chunk(i, e, null)),
      piece: (index, text) => chunk(index, text, null),
      finish: (index, reason) => chunk(index, '', reason),
      usage: () => withUsage && sendEvent(ctx.res, textCompletionChunk(m, [], true, use)),
    });
  };

  const embeddings = (ctx: RequestContext) => {
    const req = parseRequest(embeddingRequestSchema, parseJson(ctx.body));
    requireModel(req.model);
    const dims = req.dimensions ?? EMBEDDING_DIMENSIONS;
    if (dims > EMBEDDING_DIMENSIONS) {
      throw new HttpError(400, `This model supports at most ${EMBEDDING_DIMENSIONS} dimensions.`, { param: 'dimensions' });
    }
    const inputs = normaliseEmbeddingInput(req.input);
    const vectors = inputs.map((input) => embed(input, dims));
    const encoded = req.encoding_format === 'base64' ? vectors.map(toBase64Float32) : vectors;
    const tokens = sum(inputs.map((i) => (Array.isArray(i) ? i.length : embeddingTokens(i).length)));
    sendJson(ctx.res, 200, embeddingList(modelName, encoded, tokens));
  };

  const routes: Route[] = [
    {
      pattern: /^\/health$/,
      kind: 'health',
      methods: { GET: ({ res, ready }) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'not ready' }) },
    },
    { pattern: /^\/v1\/models$/, kind: 'other', methods: { GET: ({ res }) => sendJson(res, 200, { object: 'list', data: [modelObject] }) } },
    {
      pattern: /^\/v1\/models\/(.+)$/,
      kind: 'other',
      methods: {
        GET: ({ res, params: [id = ''] }) => {
          requireModel(id);
          sendJson(res, 200, modelObject);
        },
      },
    },
    { pattern: /^\/v1\/chat\/completions$/, kind: 'inference', methods: { POST: chat } },
    { pattern: /^\/v1\/completions$/, kind: 'inference', methods: { POST: completions } },
    { pattern: /^\/v1\/embeddings$/, kind: 'inference', methods: { POST: embeddings } },
  ];

  return startDemoServer({
    host: opts.host,
    port: opts.port,
    name: opts.name ?? `${modelName}-${modelVersion}`,
    routes,
    // OpenAI answers unknown paths with "Invalid URL (METHOD /path)".
    errorBody: (err) => errorBody(err.status === 404 && !err.extra.code ? new HttpError(404, notFoundMessage(err.message)) : err),
  });
}

function notFoundMessage(message: string): string {
  const m = /^no route for (\S+) (\S+)$/.exec(message);
  return m ? `Invalid URL (${m[1]} ${m[2]})` : message;
}

interface SamplingRequest {
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
}

/** Without an explicit seed the prompt picks it, so identical requests get identical text. */
function samplingOptions(req: SamplingRequest, promptText: string): SamplingOptions {
  return {
    maxTokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    temperature: req.temperature ?? 1,
    topP: req.top_p ?? 1,
    seed: req.seed ?? fnv1a(promptText),
    stop: req.stop == null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop,
  };
}

/** Each choice gets its own stream of randomness, derived so that `n` choices differ. */
function generateChoices(model: BigramModel, seedWord: string | undefined, sampling: SamplingOptions, n: number): Generation[] {
  return Array.from({ length: n }, (_, i) => model.generate(seedWord, { ...sampling, seed: fnv1a(`${sampling.seed}/${i}`) }));
}

/** The last word with letters or digits in it ("Tell me about Alice?" -> "Alice?"). */
function seedWordOf(text: string): string | undefined {
  return text
    .split(/\s+/)
    .reverse()
    .find((w) => wordKey(w) !== '');
}

function echoPrefix(prompt: string): string {
  return prompt === '' || /\s$/.test(prompt) ? prompt : `${prompt} `;
}

function normaliseEmbeddingInput(input: string | string[] | number[] | number[][]): EmbeddingInput[] {
  if (typeof input === 'string') return [input];
  if (input.every((x) => typeof x === 'number')) return [input as number[]];
  return input as string[] | number[][];
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

interface StreamEmitter {
  start(): void;
  piece(index: number, text: string): void;
  finish(index: number, reason: Generation['finishReason']): void;
  usage(): void;
}

/**
 * Emits the choices word by word, interleaved as OpenAI does for n > 1, pausing before each
 * step. The text is generated up front (it is deterministic); only delivery is paced.
 */
async function streamGenerations(ctx: RequestContext, delayMs: number, gens: Generation[], emit: StreamEmitter): Promise<void> {
  startSse(ctx.res);
  emit.start();
  gens.forEach((g, i) => g.pieces.length === 0 && emit.finish(i, g.finishReason));
  const steps = Math.max(0, ...gens.map((g) => g.pieces.length));
  for (let step = 0; step < steps; step++) {
    if (!(await pause(delayMs, ctx.signal))) return; // client went away
    gens.forEach((g, i) => {
      const piece = g.pieces[step];
      if (piece === undefined) return;
      emit.piece(i, piece);
      if (step === g.pieces.length - 1) emit.finish(i, g.finishReason);
    });
  }
  emit.usage();
  endSse(ctx.res);
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const cli = parseCli(
      process.argv.slice(2),
      { 'model-name': { type: 'string' }, 'model-version': { type: 'string' }, 'token-delay-ms': { type: 'string' } },
      8000,
    );
    const delay = cli.values['token-delay-ms'];
    const tokenDelayMs = delay === undefined ? undefined : Number(delay);
    if (tokenDelayMs !== undefined && !(Number.isFinite(tokenDelayMs) && tokenDelayMs >= 0)) {
      throw new Error(`invalid --token-delay-ms ${delay}`);
    }
    return startTextgenServer({
      host: cli.host,
      port: cli.port,
      name: cli.name,
      modelName: cli.values['model-name'],
      modelVersion: cli.values['model-version'],
      tokenDelayMs,
    });
  });
}
