import { definePlugin, z } from '../sdk/index.js';
import { jsonObjectOrUndefined } from '../shared/json-body.js';
import { redact, type RedactOptions } from './detect.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** Set by pii-redact: how many e-mail addresses and phone numbers it removed from the prompt. */
    piiRedacted?: { emails: number; phones: number };
  }
}

const Options = z
  .object({
    emails: z.boolean().default(true),
    phones: z.boolean().default(true),
    emailReplacement: z.string().default('[EMAIL]'),
    phoneReplacement: z.string().default('[PHONE]'),
    /** Tell the client how much was redacted (`x-gateway-pii-redacted: emails=1,phones=2`). */
    reportHeader: z.boolean().default(true),
  })
  .strict()
  .refine((o) => o.emails || o.phones, { message: 'enable at least one of emails, phones' });

/** The parts of an OpenAI request that carry user text to the model. */
type ContentPart = { type?: unknown; text?: unknown };
interface OpenAiPromptBody {
  messages?: { content?: unknown }[];
  prompt?: unknown;
  input?: unknown;
}

/**
 * Removes e-mail addresses and phone numbers from OpenAI prompts before they reach the
 * model: chat `messages[].content` (string or text parts), completions `prompt` and
 * embeddings `input`. Only the request is touched; counts (never the values) are logged.
 */
export default definePlugin({
  type: 'pii-redact',
  description: 'Redacts e-mail addresses and phone numbers in OpenAI prompts',
  protocols: ['openai'],
  options: Options,
  setup(options) {
    const opts: RedactOptions = options;
    return {
      needs: { requestBody: (request) => request.method === 'POST' },

      requestBody(ctx) {
        const body = jsonObjectOrUndefined(ctx);
        if (!body) return;
        const counts = { emails: 0, phones: 0 };
        const clean = (value: unknown): unknown => {
          if (typeof value === 'string') {
            const r = redact(value, opts);
            counts.emails += r.emails;
            counts.phones += r.phones;
            return r.text;
          }
          if (Array.isArray(value)) return value.map(clean);
          return value;
        };
        const req = body as OpenAiPromptBody;
        const next: OpenAiPromptBody & Record<string, unknown> = { ...(body as Record<string, unknown>) };
        if (Array.isArray(req.messages)) {
          next.messages = req.messages.map((m) => {
            if (typeof m !== 'object' || m === null) return m;
            if (typeof m.content === 'string') return { ...m, content: clean(m.content) };
            if (Array.isArray(m.content)) {
              const parts = (m.content as ContentPart[]).map((p) =>
                typeof p === 'object' && p !== null && p.type === 'text' ? { ...p, text: clean(p.text) } : p,
              );
              return { ...m, content: parts };
            }
            return m;
          });
        }
        if (req.prompt !== undefined) next.prompt = clean(req.prompt);
        if (req.input !== undefined) next.input = clean(req.input);
        if (counts.emails + counts.phones === 0) return;
        ctx.replaceJson(next);
        ctx.vars.piiRedacted = counts;
        ctx.log.info({ redacted: counts }, 'pii redacted from prompt');
      },

      responseHeaders(ctx) {
        const counts = ctx.vars.piiRedacted;
        if (options.reportHeader && counts) ctx.headers.set('x-gateway-pii-redacted', `emails=${counts.emails},phones=${counts.phones}`);
      },
    };
  },
});
