import { parseTarget } from '../model-router/paths.js';
import { definePlugin, z, type RequestBodyContext, type RequestInfo } from '../sdk/index.js';
import {
  checkContentLength,
  checkJsonContentType,
  checkMethod,
  checkObjectBody,
  checkBodySize,
  failFirstIssue,
  findForbiddenKey,
  type BodyWording,
  plainForbiddenKey,
} from '../shared/contract.js';
import { BINARY_HEADER, BinaryDataOptions, BinaryInferRequest, binaryModeFor, checkBinaryTensors, headerLength } from './binary.js';
import { MetadataOptions } from '../shared/metadata.js';
import { SignatureKey, signatureSource } from '../shared/signature.js';
import { checkSignature, Signature, V2_METADATA, type SignatureCheckable } from './signature.js';
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
    /** The binary tensor extension (`Inference-Header-Content-Length`): `refuse` (415) or `accept` (checked, passed on). */
    binaryData: BinaryDataOptions,
  })
  .strict();

const actionOf = (request: RequestInfo) => parseTarget('kserve-v2', request.pathname)?.action;

/** The model and version: resolved by the router when it ran first, else as the path names them. */
function targetOf(ctx: { request: RequestInfo; route: { model?: string; version?: string } }): { model?: string; version?: string } {
  if (ctx.route.model !== undefined) return ctx.route;
  const t = parseTarget('kserve-v2', ctx.request.pathname);
  return { model: t?.model, version: t?.version };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

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

    /** A binary-extension body: its JSON header checked like a JSON body, its binary part sized against it. */
    function checkBinaryBody(ctx: RequestBodyContext, jsonLength: number) {
      const tooLarge = checkBodySize(ctx, options.maxBodyBytes);
      if (tooLarge) return tooLarge;
      if (jsonLength > ctx.body.length) return ctx.fail(400, `${BINARY_HEADER}: ${jsonLength} is longer than the body (${ctx.body.length} bytes)`, { code: 'invalid_request', param: BINARY_HEADER });
      let header: unknown;
      try {
        header = JSON.parse(utf8.decode(ctx.body.subarray(0, jsonLength)));
      } catch (err) {
        return ctx.fail(400, `the JSON header (first ${jsonLength} bytes) is not valid JSON: ${(err as Error).message}`, { code: 'invalid_json' });
      }
      const forbidden = findForbiddenKey(header);
      if (forbidden) return ctx.fail(400, WORDING.forbiddenKey(forbidden), { code: 'forbidden_key', param: forbidden });
      const parsed = BinaryInferRequest.safeParse(header);
      if (!parsed.success) return failFirstIssue(ctx, parsed.error, header);
      const names = new Set<string>();
      for (const [i, input] of parsed.data.inputs.entries()) {
        if (names.has(input.name)) return ctx.fail(400, `inputs[${i}].name: duplicate input '${input.name}'`, { code: 'invalid_value', param: `inputs[${i}].name` });
        names.add(input.name);
      }
      const problem = checkBinaryTensors(parsed.data, ctx.body.subarray(jsonLength));
      if (problem) return ctx.fail(400, problem.message, { code: 'invalid_tensor', param: problem.param });
      return checkAgainstSignature(ctx, parsed.data);
    }

    function checkAgainstSignature(ctx: RequestBodyContext, request: SignatureCheckable) {
      const model = ctx.route.model;
      const signature = model === undefined ? undefined : signatures.get(model, ctx.route.version);
      if (signature && model !== undefined) {
        const problem = checkSignature(request, signature, model);
        if (problem) return ctx.fail(400, problem.message, { code: 'signature_mismatch', param: problem.param });
      }
      return undefined;
    }

    return {
      needs: { requestBody: (request) => actionOf(request) === 'infer' },

      requestHeaders(ctx) {
        const action = actionOf(ctx.request);
        if (action === undefined) return; // the router answers 404
        if (action !== 'infer') return checkMethod(ctx, ['GET']);
        const binary = ctx.headers.get(BINARY_HEADER);
        if (binary === undefined) {
          return checkMethod(ctx, ['POST']) ?? checkJsonContentType(ctx, ctx.headers) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
        }
        const { model, version } = targetOf(ctx);
        if (binaryModeFor(options.binaryData, model, version) === 'refuse') {
          return ctx.fail(
            415,
            `The binary tensor data extension (${BINARY_HEADER}) is not enabled for model '${model ?? ''}' at this gateway; send JSON tensors (tritonclient: binary_data=False)`,
            { code: 'binary_extension_not_enabled' },
          );
        }
        const declared = ctx.headers.get('content-length');
        const length = headerLength(binary, declared === undefined ? undefined : Number(declared));
        if (typeof length !== 'number') return ctx.fail(400, length.message, { code: 'invalid_request', param: length.param });
        // Binary bodies are not JSON: any content type; the size limit applies as usual.
        return checkMethod(ctx, ['POST']) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
      },

      requestBody(ctx) {
        if (actionOf(ctx.request) !== 'infer') return;
        const binary = ctx.headers.get(BINARY_HEADER);
        if (binary !== undefined) return checkBinaryBody(ctx, Number(binary));
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
            return ctx.fail(415, `inputs[${i}]: parameters.binary_data_size is binary tensor data; it needs the binary extension's ${BINARY_HEADER} header`, { code: 'unsupported_media_type' });
          }
          const problem = checkTensorData(input, `inputs[${i}]`);
          if (problem) return ctx.fail(400, problem.message, { code: 'invalid_tensor', param: problem.param });
        }
        return checkAgainstSignature(ctx, request);
      },

      close() {
        signatures.close();
      },
    };
  },
});
