import { BODY_MODEL_METADATA, OPENAI_BODY_PATH_WITH_QUERY } from './wire.js';

/** Envoy's `config.core.v3.Metadata` as the ext-proc decodes it (Struct values as plain JSON). */
export interface ForwardedMetadata {
  filterMetadata: Record<string, Record<string, unknown>>;
  typedFilterMetadata: Record<string, never>;
}

const OPENAI_BODY_PATH = new RegExp(OPENAI_BODY_PATH_WITH_QUERY);

/**
 * What the gateway's Envoy forwards with an OpenAI request (json_to_metadata before ext_proc,
 * envoy/body-model.ts): the body's top-level `model`, whatever its JSON type, when the body is
 * a JSON object that has one.
 */
export function bodyModelMetadata(path: string, body: Buffer): ForwardedMetadata | undefined {
  if (!OPENAI_BODY_PATH.test(path) || body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('model' in parsed)) return undefined;
  return { filterMetadata: { [BODY_MODEL_METADATA.namespace]: { [BODY_MODEL_METADATA.key]: (parsed as { model: unknown }).model } }, typedFilterMetadata: {} };
}
