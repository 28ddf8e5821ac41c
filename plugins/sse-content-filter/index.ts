import { definePlugin, z } from '../sdk/index.js';
import { streamFilter, wordFilter, type HeldText } from './filter.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** Set by sse-content-filter: banned words replaced in this response. */
    contentFiltered?: number;
    /** sse-content-filter's held-back text per streamed choice (by choice index). */
    contentFilterHeld?: Map<number, HeldText>;
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
  index?: unknown;
  delta?: { content?: unknown };
  message?: { content?: unknown };
  text?: unknown;
  finish_reason?: unknown;
}

/**
 * Replaces banned words in OpenAI completions. Streams stay streamed: each SSE event is
 * filtered as it passes, so tokens keep arriving one by one; only a tail that may be the
 * start of a banned word (a word split into sub-word tokens) waits for the next event, and
 * everything held is let out with the choice's `finish_reason`.
 */
/** Streamed choices a request keeps held-back text for (`n` is at most 128 in the OpenAI API). */
const MAX_HELD_CHOICES = 128;

export default definePlugin({
  type: 'sse-content-filter',
  description: 'Replaces banned words in OpenAI responses, streamed (per SSE event) or buffered',
  protocols: ['openai'],
  options: Options,
  setup(options) {
    const filter = wordFilter(options);
    const filterPiece = streamFilter(options);

    /** Filters the streamed choices of one event in place, holding back what may continue. */
    const filterStreamedChoices = (value: unknown, held: Map<number, HeldText>): { hits: number; changed: boolean } => {
      const choices = (value as { choices?: unknown } | undefined)?.choices;
      if (!Array.isArray(choices)) return { hits: 0, changed: false };
      let hits = 0;
      let changed = false;
      choices.forEach((choice: Choice, position) => {
        const index = typeof choice.index === 'number' ? choice.index : position;
        let state = held.get(index);
        // Choice indexes come from the model server: past MAX_HELD_CHOICES a new index is
        // filtered piece by piece (a word split across its pieces is missed) instead of growing the map.
        if (state === undefined) {
          state = { held: '', before: '' };
          if (held.size < MAX_HELD_CHOICES) held.set(index, state);
        }
        // Chat streams carry text in delta.content, completions streams in text.
        const isChat = choice.delta !== undefined && typeof choice.text !== 'string';
        const piece = isChat ? choice.delta?.content : choice.text;
        // An untracked choice holds nothing back: its state is gone after this piece.
        const final = typeof choice.finish_reason === 'string' || held.get(index) !== state;
        if (typeof piece !== 'string' && !(final && state.held !== '')) return;
        const r = filterPiece(state, typeof piece === 'string' ? piece : '', final);
        if (r.text === piece) return;
        if (isChat) choice.delta = { ...choice.delta, content: r.text };
        else choice.text = r.text;
        hits += r.hits;
        changed = true;
      });
      return { hits, changed };
    };

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
        if (chunk === undefined) return;
        ctx.vars.contentFilterHeld ??= new Map();
        const { hits, changed } = filterStreamedChoices(chunk, ctx.vars.contentFilterHeld);
        if (!changed) return;
        ctx.replaceEvent({ ...ctx.event, data: JSON.stringify(chunk) });
        if (hits > 0) ctx.vars.contentFiltered = (ctx.vars.contentFiltered ?? 0) + hits;
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
        // A stream that stopped before a finish_reason (model or client gone) never let these out.
        const lost = [...(ctx.vars.contentFilterHeld?.values() ?? [])].reduce((n, s) => n + s.held.length, 0);
        if (lost > 0) ctx.log.warn({ heldCharacters: lost }, 'stream ended without finish_reason: held-back text was not sent');
      },
    };
  },
});
