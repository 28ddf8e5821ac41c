import { definePlugin, z, type TokenUsage } from '../sdk/index.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** openai-usage asked the model for a usage chunk the client did not want: drop it on the way back. */
    usageInjected?: boolean;
  }
}

const Options = z
  .object({
    /**
     * Streams only carry `usage` when the client sets `stream_options.include_usage`. With this
     * on, the gateway asks for it on every streamed request and removes the extra chunk before
     * the client sees it, so every stream is counted. Costs a request body rewrite.
     */
    forceStreamUsage: z.boolean().default(false),
  })
  .strict();

/** A token count as OpenAI reports it: a whole number, 0 or more (safe integers only, as zod's `.int()`). */
function isTokenCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * `usage` of an OpenAI answer or chunk: `{ prompt_tokens, completion_tokens? }` (other fields
 * ignored), or undefined. Checked by hand, not by a zod schema: at a low request rate (caches
 * cold after the idle time between requests) the schema's parse cost ~20 µs per answer, this
 * ~1 µs; on a stream it runs on the client's path. index.test.ts checks it against that schema
 * on generated values.
 */
export function usageOf(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion } = usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
  if (!isTokenCount(prompt) || (completion !== undefined && !isTokenCount(completion))) return undefined;
  return { prompt, completion: completion ?? 0 };
}

function readUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return usageOf((value as { usage?: unknown }).usage);
}

const USAGE_OBJECT = /"usage"\s*:\s*\{/;

interface StreamRequest {
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

/**
 * Reads OpenAI token usage from responses (a buffered JSON body, or the usage chunk of an SSE
 * stream) into `ctx.vars.usage`. It reads only; the gateway's metrics and access log report it.
 */
export default definePlugin({
  type: 'openai-usage',
  description: 'Records OpenAI token usage (prompt, completion) from responses into ctx.vars.usage',
  protocols: ['openai'],
  options: Options,
  setup(options) {
    return {
      ...(options.forceStreamUsage && {
        requestBody(ctx) {
          let body: StreamRequest;
          try {
            body = ctx.json() as StreamRequest;
          } catch {
            return; // not JSON: whoever validates requests answers it
          }
          if (typeof body !== 'object' || body === null || body.stream !== true || body.stream_options?.include_usage === true) return;
          ctx.replaceJson({ ...body, stream_options: { ...body.stream_options, include_usage: true } });
          ctx.vars.usageInjected = true;
        },
      }),
      // Reading usage changes nothing the client gets: the gateway may read it after the answer left.
      observesResponseBody: true,
      responseBody(ctx) {
        if (ctx.response.status !== 200) return;
        try {
          ctx.vars.usage = readUsage(ctx.json()) ?? ctx.vars.usage;
        } catch {
          /* not JSON: nothing to count */
        }
      },
      responseEvent(ctx) {
        // Most chunks carry no usage (or `"usage":null`): skip parsing them.
        const data = ctx.event.data;
        if (ctx.done || !USAGE_OBJECT.test(data)) return;
        const chunk = ctx.json<{ usage?: unknown; choices?: unknown[] }>();
        const usage = readUsage(chunk);
        if (!usage) return;
        ctx.vars.usage = usage;
        if (ctx.vars.usageInjected && Array.isArray(chunk?.choices) && chunk.choices.length === 0) ctx.replaceEvent(null);
      },
    };
  },
});
