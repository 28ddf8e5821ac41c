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
import { checkSignature, Signature, V2_METADATA } from './signature.js';
import { checkTensorData, InferRequest } from './tensor.js';

/** This protocol's wording of the shared body errors. */
const WORDING: BodyWording = {
  notObject: 'The request body must be a JSON object with "inputs"',
  forbiddenKey: plainForbiddenKey,
};

const Options = z
  .object({
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
    /** Declared signatures by `model` or `model@version` (the more specific wins over metadata). */
    signatures: z.record(SignatureKey, Signature).default({}),
    /** Read signatures of V2 models from their model servers' metadata endpoint. */
    metadata: MetadataOptions,
  })
  .strict();

const actionOf = (request: RequestInfo) => (request.protocol === 'kserve-v2' ? request.target?.action : undefined);

/**
 * Checks KServe V2 requests: method per endpoint, content type, size, the infer body
 * (inputs with name, shape, datatype, data; element count = shape product; element types
 * per datatype), and — when a signature is declared or read from metadata — the inputs
 * against it. Errors are V2's `{"error": "..."}` naming the field.
 */
export default definePlugin({
  type: 'kserve-v2-validation',
  description: 'KServe V2 infer validation: tensors, datatypes, shapes, model signatures',
  options: Options,
  protocols: ['kserve-v2'],
  async setup(options, host) {
    const signatures = await signatureSource(options.signatures, options.metadata, host, 'kserve-v2', V2_METADATA);

    return {
      needs: { requestBody: (request) => actionOf(request) === 'infer' },

      requestHeaders(ctx) {
        const action = actionOf(ctx.request);
        if (action === undefined) return; // the router answers 404
        if (action !== 'infer') return checkMethod(ctx, ['GET']);
        return (
          checkMethod(ctx, ['POST']) ??
          (ctx.headers.has('inference-header-content-length')
            ? ctx.fail(415, 'The binary tensor data extension is not supported by this gateway; send JSON tensors', { code: 'unsupported_media_type' })
            : undefined) ??
          checkJsonContentType(ctx, ctx.headers) ??
          checkContentLength(ctx, ctx.headers, options.maxBodyBytes)
        );
      },

      requestBody(ctx) {
        if (actionOf(ctx.request) !== 'infer') return;
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING);
        if (!checked.ok) return checked.respond;
        const body = checked.body;
        const parsed = InferRequest.safeParse(body);
        if (!parsed.success) return failFirstIssue(ctx, parsed.error, body);
        const request = parsed.data;
        const names = new Set<string>();
        for (const [i, input] of request.inputs.entries()) {
          if (names.has(input.name)) return ctx.fail(400, `inputs[${i}].name: duplicate input '${input.name}'`, { code: 'invalid_value', param: `inputs[${i}].name` });
          names.add(input.name);
          if (input.parameters && 'binary_data_size' in input.parameters) {
            return ctx.fail(415, `inputs[${i}]: binary tensor data is not supported by this gateway`, { code: 'unsupported_media_type' });
          }
          const problem = checkTensorData(input, `inputs[${i}]`);
          if (problem) return ctx.fail(400, problem.message, { code: 'invalid_tensor', param: problem.param });
        }
        const model = ctx.route.model;
        const signature = model === undefined ? undefined : signatures.get(model, ctx.route.version);
        if (signature && model !== undefined) {
          const problem = checkSignature(request, signature, model);
          if (problem) return ctx.fail(400, problem.message, { code: 'signature_mismatch', param: problem.param });
        }
      },

      close() {
        signatures.close();
      },
    };
  },
});
