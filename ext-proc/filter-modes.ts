// The processing modes of the ext_proc filter as the gateway configures it: envoy/render.ts
// renders them, the processor overrides them per request, the SDK's Envoy simulator starts
// from them. Kept apart so rendering a config loads only the generated enum.
import { ProcessingMode_BodySendMode, ProcessingMode_HeaderSendMode } from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';

/**
 * The body modes in the ext_proc filter config (envoy/render.ts renders them). Request bodies
 * are BUFFERED by default because OpenAI names its model there; the processor turns phases
 * off or on per request with `mode_override`.
 */
export const FILTER_BODY_MODES = {
  request: ProcessingMode_BodySendMode.BUFFERED,
  response: ProcessingMode_BodySendMode.NONE,
} as const;

/**
 * Response headers go to the ext-proc only when its answer to the request headers asks for
 * them (every `mode_override` does). Envoy's own replies to requests the ext-proc never saw
 * (codec errors: 431 headers too large, 400 malformed) would otherwise wait on an ext_proc
 * round trip while the connection closes, and reach the client as an empty reply.
 */
export const FILTER_RESPONSE_HEADER_MODE: ProcessingMode_HeaderSendMode = ProcessingMode_HeaderSendMode.SKIP;
