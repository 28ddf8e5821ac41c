/** Bounds on what one ext_proc stream may carry; `extProc.limits` in the config (docs/security.md). */
export interface StreamLimits {
  /** Header entries in one headers message (pseudo-headers included). */
  readonly maxHeaders: number;
  /** Bytes of names and values in one headers message. */
  readonly maxHeaderBytes: number;
  /** Bytes of a streamed SSE response held while waiting for the end of an event. */
  readonly maxSseEventBytes: number;
}

/**
 * Defaults sit above what Envoy lets through with the shipped config (100 headers, 60 KiB, plus
 * the few headers Envoy adds), so behind Envoy its own limits answer first; lower them to get a
 * 431 in the client's protocol on HTTP/2 too (where Envoy resets the stream instead).
 */
export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxHeaders: 128,
  maxHeaderBytes: 80 * 1024,
  maxSseEventBytes: 1024 * 1024,
};
