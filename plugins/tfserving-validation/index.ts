import { definePlugin, z, type RequestInfo } from '../sdk/index.js';
import {
  checkContentLength,
  checkJsonContentType,
  checkMethod,
  checkObjectBody,
  failFirstIssue,
  type BodyWording,
  plainForbiddenKey,
} from '../shared/contract.js';
import { MetadataOptions } from '../shared/metadata.js';
import { SignatureKey, signatureSource } from '../shared/signature.js';
import { checkPredict } from './predict.js';
import { checkInstances, ExamplesRequest, PredictRequest } from './schemas.js';
import { TF_METADATA, TfSignaturesConfig } from './signature.js';

/** This protocol's wording of the shared body errors. */
const WORDING: BodyWording = {
  notObject: 'The request body must be a JSON object',
  forbiddenKey: plainForbiddenKey,
};

const Options = z
  .object({
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
    /**
     * Declared signature defs by `model` or `model@version` (the more specific wins over
     * metadata): signature name → inputs → `{dtype: DT_FLOAT, shape: [-1, 4]}`.
     */
    signatures: z.record(SignatureKey, TfSignaturesConfig).default({}),
    /** Read signature defs of TF Serving models from their servers' metadata endpoint. */
    metadata: MetadataOptions,
  })
  .strict();

const VERBS = new Set(['predict', 'classify', 'regress']);
const actionOf = (request: RequestInfo) => (request.protocol === 'tfserving' ? request.target?.action : undefined);

/**
 * Checks TF Serving REST requests: method per endpoint, content type, size, and the body of
 * predict (`instances` xor `inputs`, consistent instances) and classify/regress (`examples`);
 * when a signature is declared or read from metadata, predict inputs against it. Errors are
 * TF Serving's `{"error": "..."}` naming the field.
 */
export default definePlugin({
  type: 'tfserving-validation',
  description: 'TF Serving REST predict/classify/regress validation',
  options: Options,
  protocols: ['tfserving'],
  async setup(options, host) {
    const signatures = await signatureSource(options.signatures, options.metadata, host, 'tfserving', TF_METADATA);

    return {
      needs: { requestBody: (request) => VERBS.has(actionOf(request) ?? '') },

      requestHeaders(ctx) {
        const action = actionOf(ctx.request);
        if (action === undefined) return; // the router answers 404
        if (!VERBS.has(action)) return checkMethod(ctx, ['GET']);
        return checkMethod(ctx, ['POST']) ?? checkJsonContentType(ctx, ctx.headers) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
      },

      requestBody(ctx) {
        const action = actionOf(ctx.request);
        if (action === undefined || !VERBS.has(action)) return;
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING);
        if (!checked.ok) return checked.respond;
        const body = checked.body;
        const schema = action === 'predict' ? PredictRequest : ExamplesRequest;
        const parsed = schema.safeParse(body);
        if (!parsed.success) return failFirstIssue(ctx, parsed.error, body);
        const model = ctx.route.model;
        const signature = action === 'predict' && model !== undefined ? signatures.get(model, ctx.route.version) : undefined;
        if (signature && model !== undefined) {
          // Against the signature first: its messages name the input and what it should be.
          const problem = checkPredict(parsed.data as z.output<typeof PredictRequest>, signature, model);
          if (problem) return ctx.fail(400, problem.message, { code: problem.code, param: problem.param });
        }
        const instances = (parsed.data as { instances?: unknown[] }).instances;
        const problem = instances ? checkInstances(instances) : undefined;
        if (problem) return ctx.fail(400, problem.message, { code: 'invalid_value', param: problem.param });
      },

      close() {
        signatures.close();
      },
    };
  },
});
