import { definePlugin, z } from '../sdk/index.js';

declare module '../sdk/types.js' {
  interface RequestVars {
    /** Set by sentiment-text when it translated a friendly request: the reply goes back friendly too. */
    sentimentText?: { batch: boolean };
  }
}

const Options = z
  .object({
    /** The model's BYTES input tensor. */
    inputName: z.string().min(1).default('text'),
    /** Output tensors read back into `{label, score}`. */
    labelOutput: z.string().min(1).default('label'),
    scoreOutput: z.string().min(1).default('score'),
    /** Most texts accepted in one `{"texts": [...]}` request. */
    maxTexts: z.number().int().positive().max(10_000).default(64),
  })
  .strict();

/** V2 response tensors as the model returns them; only the two outputs we read are checked. */
const Tensor = z.object({ name: z.string(), data: z.array(z.unknown()) }).loose();
const V2Response = z.object({ outputs: z.array(Tensor) }).loose();

/**
 * A friendly front for a KServe V2 text-classification model, on the model's own infer path:
 *   POST /v2/models/sentiment/infer  {"text": "I love it"}          → {"label": "positive", "score": 0.93}
 *   POST /v2/models/sentiment/infer  {"texts": ["good", "bad"]}     → {"results": [{...}, {...}]}
 * A body with `inputs` is a standard V2 request and passes through untouched, both ways.
 */
export default definePlugin({
  type: 'sentiment-text',
  description: 'Friendly {"text"} JSON in, {"label","score"} out, for a V2 text-classification model',
  protocols: ['kserve-v2'],
  options: Options,
  setup(options) {
    const One = z.object({ text: z.string().min(1, 'must not be empty'), id: z.string().optional() }).strict();
    const Many = z
      .object({
        texts: z.array(z.string().min(1, 'must not be empty')).min(1, 'give at least one text').max(options.maxTexts, `at most ${options.maxTexts} texts per request`),
        id: z.string().optional(),
      })
      .strict();

    return {
      needs: {
        requestBody: (request) => request.method === 'POST' && request.target?.action === 'infer',
        // Only translated requests need their response rewritten: standard V2 traffic stays unbuffered.
        responseBody: (_response, _request, vars) => vars.sentimentText !== undefined,
      },

      requestBody(ctx) {
        const body = ctx.json();
        const shaped = typeof body === 'object' && body !== null && !Array.isArray(body);
        if (!shaped || 'inputs' in body || !('text' in body || 'texts' in body)) return;
        // One schema per shape, so a mistake is reported against the field the client used.
        const batch = 'texts' in body;
        const { id, texts } = batch ? ctx.json(Many) : ((b) => ({ id: b.id, texts: [b.text] }))(ctx.json(One));
        ctx.replaceJson({
          ...(id !== undefined && { id }),
          inputs: [{ name: options.inputName, shape: [texts.length], datatype: 'BYTES', data: texts }],
          outputs: [{ name: options.labelOutput }, { name: options.scoreOutput }],
        });
        ctx.vars.sentimentText = { batch };
      },

      responseBody(ctx) {
        const friendly = ctx.vars.sentimentText;
        // Errors are already `{"error": "..."}` in V2: the friendly client reads them as they are.
        if (!friendly || ctx.response.status !== 200) return;
        const parsed = V2Response.safeParse(ctx.json());
        const labels = parsed.success ? parsed.data.outputs.find((o) => o.name === options.labelOutput)?.data : undefined;
        const scores = parsed.success ? parsed.data.outputs.find((o) => o.name === options.scoreOutput)?.data : undefined;
        if (!labels || !scores || labels.length !== scores.length) {
          ctx.log.warn({ outputs: parsed.success ? parsed.data.outputs.map((o) => o.name) : undefined }, 'model response lacks label/score tensors');
          return ctx.fail(502, `model response has no '${options.labelOutput}' and '${options.scoreOutput}' outputs of equal length`, { code: 'bad_upstream_response' });
        }
        const results = labels.map((label, i) => ({ label, score: scores[i] }));
        ctx.replaceJson(friendly.batch ? { results } : results[0]);
      },
    };
  },
});
