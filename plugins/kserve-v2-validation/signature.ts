import { z } from 'zod';
import type { Logger } from 'pino';
import { DATATYPES } from './tensor.js';
import type { InferRequest, TensorProblem } from './tensor.js';

export const TensorSpec = z
  .object({
    name: z.string().min(1),
    datatype: z.enum(DATATYPES),
    /** -1 is a wildcard dimension (e.g. the batch). */
    shape: z.array(z.number().int().min(-1)),
    /** Inputs a request may leave out. */
    optional: z.boolean().default(false),
  })
  .strict();

export const Signature = z
  .object({
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(z.object({ name: z.string().min(1) }).loose()).optional(),
  })
  .strict();
export type Signature = z.infer<typeof Signature>;

/** The part of a V2 model metadata response the gateway reads. */
const Metadata = z
  .object({
    inputs: z.array(z.object({ name: z.string().min(1), datatype: z.enum(DATATYPES), shape: z.array(z.number().int().min(-1)) }).loose()).min(1),
    outputs: z.array(z.object({ name: z.string().min(1) }).loose()).optional(),
  })
  .loose();

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Checks a request's inputs (and requested outputs) against a model's signature. */
export function checkSignature(request: InferRequest, sig: Signature, model: string): TensorProblem | undefined {
  const specs = new Map(sig.inputs.map((s) => [s.name, s]));
  for (const [i, input] of request.inputs.entries()) {
    const where = `inputs[${i}]`;
    const spec = specs.get(input.name);
    if (!spec) {
      return { param: `${where}.name`, message: `${where}.name: model '${model}' has no input '${input.name}' (inputs: ${[...specs.keys()].join(', ')})` };
    }
    if (spec.datatype !== input.datatype) {
      return { param: `${where}.datatype`, message: `${where}.datatype: input '${input.name}' is ${spec.datatype}, not ${input.datatype}` };
    }
    const fits = spec.shape.length === input.shape.length && spec.shape.every((d, k) => d === -1 || d === input.shape[k]);
    if (!fits) {
      return {
        param: `${where}.shape`,
        message: `${where}.shape: input '${input.name}' has shape ${shapeText(spec.shape)} (-1 = any); got ${shapeText(input.shape)}`,
      };
    }
  }
  const given = new Set(request.inputs.map((x) => x.name));
  const missing = sig.inputs.find((s) => !s.optional && !given.has(s.name));
  if (missing) return { param: 'inputs', message: `inputs: missing input '${missing.name}' required by model '${model}'` };
  if (sig.outputs && request.outputs) {
    const outputs = new Set(sig.outputs.map((o) => o.name));
    for (const [i, o] of request.outputs.entries()) {
      if (!outputs.has(o.name)) {
        return { param: `outputs[${i}].name`, message: `outputs[${i}].name: model '${model}' has no output '${o.name}' (outputs: ${[...outputs].join(', ')})` };
      }
    }
  }
  return undefined;
}

export interface MetadataSource {
  get(model: string, version: string): Signature | undefined;
  close(): void;
}

/**
 * Reads signatures from each version's V2 metadata endpoint (`GET /v2/models/{m}/versions/{v}`
 * on its first model server), at start-up and then every `refreshMs`. A server that does not
 * answer leaves that version unchecked (the model server still validates) until it does.
 */
export async function fetchSignatures(
  targets: readonly { model: string; version: string; endpoint: string }[],
  opts: { timeoutMs: number; refreshMs: number },
  log: Logger,
): Promise<MetadataSource> {
  const cache = new Map<string, Signature>();
  /** Versions whose last fetch failed: logged when they start and stop failing, not every refresh. */
  const failing = new Set<string>();
  const key = (m: string, v: string) => `${m}@${v}`;
  const fetchOne = async ({ model, version, endpoint }: (typeof targets)[number]) => {
    const url = `http://${endpoint}/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const meta = Metadata.parse(await res.json());
      cache.set(key(model, version), {
        inputs: meta.inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape, optional: false })),
        outputs: meta.outputs,
      });
      if (failing.delete(key(model, version))) log.info({ model, version }, 'model metadata available again');
    } catch (err) {
      if (failing.has(key(model, version))) return;
      failing.add(key(model, version));
      const checked = cache.has(key(model, version)) ? 'checking against the last signature read' : 'signature not checked';
      log.warn({ model, version, url, err: (err as Error).message }, `model metadata unavailable; ${checked}`);
    }
  };
  await Promise.all(targets.map(fetchOne));
  const timer = setInterval(() => void Promise.all(targets.map(fetchOne)), opts.refreshMs);
  timer.unref();
  return { get: (m, v) => cache.get(key(m, v)), close: () => clearInterval(timer) };
}
