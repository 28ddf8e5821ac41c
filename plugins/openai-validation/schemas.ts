import { z } from 'zod';

/**
 * OpenAI request bodies (chat completions, completions, embeddings) as the API reference
 * defines them. Fields the gateway does not know are allowed, since OpenAI adds parameters
 * often; the known ones are checked for type and range. These schemas are the contract:
 * fast-path.ts only recognises bodies they certainly accept, sooner.
 */

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();
const int = () => z.number().int();

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const Model = z.string().min(1, 'must not be empty').max(256);
const Temperature = nullish(z.number().min(0).max(2));
const TopP = nullish(z.number().min(0).max(1));
const N = nullish(int().min(1).max(128));
const MaxTokens = nullish(int().min(1));
const Penalty = nullish(z.number().min(-2).max(2));
const Stop = nullish(z.union([z.string(), z.array(z.string()).max(4, 'at most 4 stop sequences')], { error: 'must be a string or an array of up to 4 strings' }));
const LogitBias = nullish(z.record(z.string().regex(/^\d+$/, 'keys are token ids'), z.number().min(-100).max(100)));
const StreamOptions = nullish(z.object({ include_usage: nullish(z.boolean()) }).loose());
const Metadata = nullish(z.record(z.string(), z.string()));

const TextPart = z.object({ type: z.literal('text'), text: z.string() }).loose();
const OtherPart = z
  .object({ type: z.string().min(1) })
  .loose()
  .refine((p) => p.type !== 'text', { message: 'a text part needs a string "text"' });
const ContentPart = z.union([TextPart, OtherPart], { error: 'a content part is an object with a "type"' });
const Content = z.union([z.string(), z.array(ContentPart).min(1)], { error: 'must be a string or an array of content parts' });

const ToolCall = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).loose().optional(),
  })
  .loose();

export const Message = z
  .object({
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
    content: nullish(Content),
    name: z.string().min(1).max(256).optional(),
    tool_call_id: z.string().min(1).optional(),
    tool_calls: z.array(ToolCall).optional(),
  })
  .loose()
  .superRefine((m, ctx) => {
    const hasContent = m.content !== undefined && m.content !== null;
    if (m.role === 'assistant') {
      if (!hasContent && !m.tool_calls?.length && !('function_call' in m) && !('refusal' in m)) {
        ctx.addIssue({ code: 'custom', path: ['content'], message: 'an assistant message needs content or tool_calls' });
      }
    } else if (!hasContent) {
      ctx.addIssue({ code: 'invalid_type', expected: 'string', path: ['content'], message: `a ${m.role} message needs content` });
    }
    if (m.role === 'tool' && m.tool_call_id === undefined) {
      ctx.addIssue({ code: 'invalid_type', expected: 'string', path: ['tool_call_id'], message: 'a tool message needs tool_call_id' });
    }
  });

const Tool = z
  .object({
    type: z.string().min(1),
    function: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names are letters, digits, _ and -, at most 64'),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const ToolChoice = nullish(
  z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.string().min(1) }).loose()], {
    error: 'must be "none", "auto", "required" or an object naming a tool',
  }),
);

const ResponseFormat = nullish(z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).loose());

function streamOptionsNeedStream(body: { stream?: boolean | null; stream_options?: unknown }, ctx: z.RefinementCtx): void {
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    ctx.addIssue({ code: 'custom', path: ['stream_options'], message: 'only allowed when stream is true' });
  }
}

export const ChatCompletionRequest = z
  .object({
    model: Model,
    messages: z.array(Message).min(1, 'must contain at least one message'),
    temperature: Temperature,
    top_p: TopP,
    n: N,
    max_tokens: MaxTokens,
    max_completion_tokens: MaxTokens,
    stream: nullish(z.boolean()),
    stream_options: StreamOptions,
    stop: Stop,
    presence_penalty: Penalty,
    frequency_penalty: Penalty,
    logit_bias: LogitBias,
    logprobs: nullish(z.boolean()),
    top_logprobs: nullish(int().min(0).max(20)),
    seed: nullish(int()),
    user: z.string().max(512).optional(),
    tools: z.array(Tool).max(128).optional(),
    tool_choice: ToolChoice,
    parallel_tool_calls: nullish(z.boolean()),
    response_format: ResponseFormat,
    metadata: Metadata,
    store: nullish(z.boolean()),
  })
  .superRefine(streamOptionsNeedStream);

const TokenIds = z.array(int().min(0)).min(1);
const Prompt = z.union([z.string(), z.array(z.string()).min(1), TokenIds, z.array(TokenIds).min(1)], {
  error: 'must be a string, an array of strings, an array of token ids, or an array of token-id arrays',
});

export const CompletionRequest = z
  .object({
    model: Model,
    prompt: Prompt,
    suffix: nullish(z.string()),
    max_tokens: MaxTokens,
    temperature: Temperature,
    top_p: TopP,
    n: N,
    best_of: nullish(int().min(1).max(20)),
    stream: nullish(z.boolean()),
    stream_options: StreamOptions,
    logprobs: nullish(int().min(0).max(5)),
    echo: nullish(z.boolean()),
    stop: Stop,
    presence_penalty: Penalty,
    frequency_penalty: Penalty,
    logit_bias: LogitBias,
    seed: nullish(int()),
    user: z.string().max(512).optional(),
  })
  .superRefine(streamOptionsNeedStream)
  .superRefine((b, ctx) => {
    if (b.best_of != null && b.n != null && b.best_of < b.n) {
      ctx.addIssue({ code: 'custom', path: ['best_of'], message: 'must be greater than or equal to n' });
    }
  });

export const EmbeddingRequest = z.object({
  model: Model,
  input: z.union(
    [z.string().min(1), z.array(z.string().min(1)).min(1).max(2048), TokenIds, z.array(TokenIds).min(1).max(2048)],
    { error: 'must be a non-empty string, an array of up to 2048 non-empty strings, or token ids' },
  ),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: int().min(1).optional(),
  user: z.string().max(512).optional(),
});

export const schemas = {
  'chat/completions': ChatCompletionRequest,
  completions: CompletionRequest,
  embeddings: EmbeddingRequest,
} as const;

export type InferenceAction = keyof typeof schemas;
