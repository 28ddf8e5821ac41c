import { definePlugin, z } from '../sdk/index.js';
import { wordFilter } from './filter.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** Set by sse-content-filter: banned words replaced in this response. */
    contentFiltered?: number;
  }
}

const Options = z
  .object({
    words: z.array(z.string().min(1)).min(1, 'list at least one word'),
    replacement: z.string().default('***'),
    caseSensitive: z.boolean().default(false),
    wholeWords: z.boolean().default(true),
    /**
     * Also filter non-streamed responses. That buffers every non-streamed response body of
     * the model (one more round trip each); turn it off when clients only stream.
     */
    buffered: z.boolean().default(true),
  })
  .strict();

/** The text-bearing fields of OpenAI chat and completions responses, streamed or not. */
interface Choice {
  delta?: { content?: unknown };
  message?: { content?: unknown };
  text?: unknown;
}

/**
 * Replaces banned words in OpenAI completions. Streams stay streamed: each SSE event is
 * filtered as it passes, so tokens keep arriving one by one. A word split across two
 * events (sub-word tokens) is not caught: catching it would mean holding text back.
 */
export default definePlugin({
  type: 'sse-content-filter',
  description: 'Replaces banned words in OpenAI responses, streamed (per SSE event) or buffered',
  protocols: ['openai'],
  options: Options,
  setup(options) {
    const filter = wordFilter(options);

    /** Filters every choice in place; returns how many words were replaced. */
    const filterChoices = (value: unknown): number => {
      const choices = (value as { choices?: unknown } | undefined)?.choices;
      if (!Array.isArray(choices)) return 0;
      let hits = 0;
      for (const choice of choices as Choice[]) {
        for (const holder of [choice.delta, choice.message]) {
          if (holder && typeof holder.content === 'string') {
            const r = filter(holder.content);
            holder.content = r.text;
            hits += r.hits;
          }
        }
        if (typeof choice.text === 'string') {
          const r = filter(choice.text);
          choice.text = r.text;
          hits += r.hits;
        }
      }
      return hits;
    };

    return {
      needs: { responseBody: (response) => response.status === 200 },

      responseEvent(ctx) {
        const chunk = ctx.json();
        const hits = filterChoices(chunk);
        if (hits === 0) return;
        ctx.replaceEvent({ ...ctx.event, data: JSON.stringify(chunk) });
        ctx.vars.contentFiltered = (ctx.vars.contentFiltered ?? 0) + hits;
      },

      ...(options.buffered && {
        responseBody(ctx) {
          let body: unknown;
          try {
            body = ctx.json();
          } catch {
            return;
          }
          const hits = filterChoices(body);
          if (hits === 0) return;
          ctx.replaceJson(body);
          ctx.vars.contentFiltered = hits;
        },
      }),

      end(ctx) {
        if (ctx.vars.contentFiltered) ctx.log.info({ replaced: ctx.vars.contentFiltered }, 'banned words replaced');
      },
    };
  },
});
