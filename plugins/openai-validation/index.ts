import { definePlugin, z, type RequestInfo } from '../sdk/index.js';
import {
  checkContentLength,
  checkJsonContentType,
  checkMethod,
  checkObjectBody,
  describeIssue,
  type BodyWording,
  type IssueReport,
} from '../shared/contract.js';
import { isPlainChatCompletion } from './fast-path.js';
import { schemas, type InferenceAction } from './schemas.js';

/** This protocol's wording of the shared body errors. */
const WORDING: BodyWording = {
  notObject: 'The request body must be a JSON object',
  forbiddenKey: (path) => `Invalid '${path}': this key is not allowed`,
};

const Options = z
  .object({
    /** Largest request body accepted on OpenAI endpoints (Envoy's own limit still applies above it). */
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  })
  .strict();

function actionOf(request: RequestInfo): string | undefined {
  return request.protocol === 'openai' ? request.target?.action : undefined;
}

/** OpenAI's own wording for parameter errors. */
function openAiMessage(issue: IssueReport): string {
  if (issue.code === 'missing_required_parameter') return `Missing required parameter: '${issue.param}'.`;
  if (issue.code === 'unknown_parameter') return `Unrecognized request argument supplied: ${issue.param}`;
  return issue.param ? `Invalid '${issue.param}': ${issue.detail}` : `Invalid request body: ${issue.detail}`;
}

const isInference = (action: string | undefined): action is InferenceAction =>
  action === 'chat/completions' || action === 'completions' || action === 'embeddings';

// The methods allowed, made once (not an array per request).
const POST = ['POST'];
const GET = ['GET'];

/**
 * Checks OpenAI requests before any model server sees them: method, content type, size, and
 * the body of chat completions, completions and embeddings against the API's schema.
 * Errors come back as OpenAI errors naming the field (`param`).
 */
export default definePlugin({
  type: 'openai-validation',
  description: 'OpenAI chat/completions/embeddings request validation (method, content type, size, schema)',
  options: Options,
  protocols: ['openai'],
  setup(options) {
    return {
      needs: { requestBody: (request) => isInference(actionOf(request)) },

      requestHeaders(ctx) {
        const action = actionOf(ctx.request);
        if (action === undefined) return; // the router answers 404
        if (!isInference(action)) return checkMethod(ctx, GET);
        return (
          checkMethod(ctx, POST) ??
          checkJsonContentType(ctx, ctx.headers) ??
          checkContentLength(ctx, ctx.headers, options.maxBodyBytes)
        );
      },

      requestBody(ctx) {
        const action = actionOf(ctx.request);
        if (!isInference(action)) return;
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING);
        if (!checked.ok) return checked.respond;
        const body = checked.body;
        // Certainly valid without zod's parse (fast-path.ts); anything else gets zod's verdict.
        if (action === 'chat/completions' && isPlainChatCompletion(body)) return;
        const result = schemas[action].safeParse(body);
        if (result.success) return;
        const issue = describeIssue(result.error.issues[0] as z.core.$ZodIssue, body);
        return ctx.fail(400, openAiMessage(issue), { code: issue.code, param: issue.param });
      },
    };
  },
});
