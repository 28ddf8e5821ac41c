// OpenAI REST shapes for chat completions, legacy completions and embeddings: request
// validation (zod) and response/chunk builders. Field names follow the API reference
// exactly because the official `openai` client is used against this server.
import { z } from 'zod';
import { HttpError } from '../common.js';
import type { Generation } from './bigram.js';

/** Generation bound; OpenAI also rejects max_tokens beyond the model's limit with a 400. */
export const MAX_COMPLETION_TOKENS = 1024;
export const MAX_N = 16;
export const DEFAULT_MAX_TOKENS = 32;

const samplingFields = {
  model: z.string({ error: 'you must provide a model parameter' }),
  max_tokens: z.number().int().min(1).max(MAX_COMPLETION_TOKENS).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(MAX_N).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  user: z.string().nullish(),
};

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatRequestSchema = z.object({
  ...samplingFields,
  messages: z.array(message).min(1),
  max_completion_tokens: z.number().int().min(1).max(MAX_COMPLETION_TOKENS).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof message>;

export const completionRequestSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()), z.array(z.array(z.number()))]),
  echo: z.boolean().nullish(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

const nonEmpty = 'must not be empty';
export const embeddingRequestSchema = z.object({
  model: z.string({ error: 'you must provide a model parameter' }),
  input: z.union([
    z.string().min(1, nonEmpty),
    z.array(z.string().min(1, nonEmpty)).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
});
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

/** Validates a body, reporting the first problem the way OpenAI does: message plus `param`. */
export function parseRequest<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  throw new HttpError(400, param ? `Invalid '${param}': ${issue.message}` : issue.message, { param: param || undefined });
}

export function errorBody(err: HttpError) {
  return {
    error: {
      message: err.message,
      type: err.extra.type ?? (err.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: err.extra.param ?? null,
      code: err.extra.code ?? null,
    },
  };
}

export function modelNotFound(model: string): HttpError {
  return new HttpError(404, `The model \`${model}\` does not exist or you do not have access to it.`, {
    param: 'model',
    code: 'model_not_found',
  });
}

/** Chat content may be a string or an array of typed parts; only text parts carry words. */
export function messageText(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!m.content) return '';
  return m.content.map((p) => (p.type === 'text' && p.text ? p.text : '')).join(' ');
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** Fields shared by every response and chunk of one request. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

export function chatCompletion(meta: ResponseMeta, gens: Generation[], use: Usage) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: gens.map((g, index) => ({
      index,
      message: { role: 'assistant', content: g.text, refusal: null },
      logprobs: null,
      finish_reason: g.finishReason,
    })),
    usage: use,
    system_fingerprint: meta.system_fingerprint,
  };
}

type ChatDelta = { role?: 'assistant'; content?: string };

export function chatChunk(
  meta: ResponseMeta,
  choices: { index: number; delta: ChatDelta; finish_reason: Generation['finishReason'] | null }[],
  withUsageField: boolean,
  use?: Usage,
) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.system_fingerprint,
    choices: choices.map((c) => ({ ...c, logprobs: null })),
    // With include_usage, OpenAI sends usage: null on every chunk but the last.
    ...(withUsageField && { usage: use ?? null }),
  };
}

export function textCompletion(meta: ResponseMeta, choices: { text: string; finishReason: Generation['finishReason'] }[], use: Usage) {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finishReason })),
    usage: use,
    system_fingerprint: meta.system_fingerprint,
  };
}

export function textCompletionChunk(
  meta: ResponseMeta,
  choices: { index: number; text: string; finish_reason: Generation['finishReason'] | null }[],
  withUsageField: boolean,
  use?: Usage,
) {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.system_fingerprint,
    choices: choices.map((c) => ({ ...c, logprobs: null })),
    ...(withUsageField && { usage: use ?? null }),
  };
}

export function embeddingList(model: string, embeddings: (number[] | string)[], promptTokens: number) {
  return {
    object: 'list',
    data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
