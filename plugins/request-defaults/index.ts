import { definePlugin, z } from '../sdk/index.js';
import { jsonObjectOrUndefined } from '../shared/json-body.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** Set by request-defaults: the parameters it added or forced, and whether it added the system prompt. */
    defaultsApplied?: { params: string[]; systemPrompt: boolean };
  }
}

/** Fields that decide what is asked and where it goes: a default must never change them. */
const RESERVED = ['model', 'messages', 'prompt', 'input', 'stream'];

const Params = z
  .record(z.string(), z.unknown())
  .default({})
  .superRefine((params, ctx) => {
    for (const key of Object.keys(params)) {
      if (RESERVED.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" cannot be defaulted or forced (reserved: ${RESERVED.join(', ')})` });
    }
  });

const Options = z
  .object({
    /** Set when the client did not send them, e.g. `{ temperature: 0.2, max_tokens: 256 }`. */
    defaults: Params,
    /** Set whatever the client sent, e.g. a cap `{ max_tokens: 512 }` or `{ user: team-a }`. */
    overrides: Params,
    /** A system message for chat completions. */
    systemPrompt: z.string().min(1).optional(),
    /**
     * `if-absent`: added only when the client sent no system message. `prepend`: always added
     * first, before the client's own system message (a policy the client cannot drop).
     */
    systemPromptMode: z.enum(['if-absent', 'prepend']).default('if-absent'),
  })
  .strict();

interface ChatMessage {
  role?: unknown;
}

/**
 * Per-model defaults for OpenAI requests: parameters the client left out, forced
 * parameters, and a system prompt. Configure it in a model's own `plugins:` so each model
 * gets its own.
 */
export default definePlugin({
  type: 'request-defaults',
  description: 'Default or forced parameters and a system prompt for OpenAI requests, per model',
  protocols: ['openai'],
  options: Options,
  setup(options) {
    return {
      needs: { requestBody: (request) => request.method === 'POST' },

      requestBody(ctx) {
        const body = jsonObjectOrUndefined(ctx);
        if (!body) return;
        const next: Record<string, unknown> = { ...(body as Record<string, unknown>) };
        const params: string[] = [];
        for (const [key, value] of Object.entries(options.defaults)) {
          if (next[key] === undefined || next[key] === null) {
            next[key] = value;
            params.push(key);
          }
        }
        for (const [key, value] of Object.entries(options.overrides)) {
          next[key] = value;
          params.push(key);
        }
        let systemPrompt = false;
        const messages = next.messages;
        if (options.systemPrompt !== undefined && Array.isArray(messages) && ctx.request.target?.action === 'chat/completions') {
          const hasSystem = (messages as ChatMessage[]).some((m) => m?.role === 'system' || m?.role === 'developer');
          if (options.systemPromptMode === 'prepend' || !hasSystem) {
            next.messages = [{ role: 'system', content: options.systemPrompt }, ...messages];
            systemPrompt = true;
          }
        }
        if (params.length === 0 && !systemPrompt) return;
        ctx.replaceJson(next);
        ctx.vars.defaultsApplied = { params, systemPrompt };
      },
    };
  },
});
