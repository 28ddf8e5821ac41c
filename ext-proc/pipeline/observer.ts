import type { RequestInfo, RequestOutcome, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import type { HookName } from './chain.js';

/**
 * Observes requests; the metrics, access log and traces hang off this. Called on the hot
 * path: implementations must be cheap and must not throw.
 */
export interface RequestObserver {
  phase?(phase: HookName, durationMs: number): void;
  /**
   * One plugin hook's synchronous run (an async hook: until it returned its promise). Only the
   * bench sets it (`bench:processor --gap-ms`): unset, the hooks are not timed at all.
   */
  hook?(plugin: string, hook: HookName, durationMs: number): void;
  /** A plugin threw (not a deliberate client error) or ran out of time. */
  pluginError?(plugin: string, hook: HookName | 'end', kind: 'error' | 'timeout'): void;
  finished?(summary: RequestSummary): void;
  /** The ext-proc ended a stream itself, with a gRPC error status (Envoy answers the client 500/503). */
  streamAborted?(reason: StreamAbortReason): void;
}

/**
 * out_of_order: a message Envoy would not send now (FAILED_PRECONDITION); idle_timeout: no
 * message for too long (DEADLINE_EXCEEDED); limit: a stream past its bounds (RESOURCE_EXHAUSTED);
 * overloaded: too many streams in flight (UNAVAILABLE); internal: a bug (INTERNAL).
 */
export type StreamAbortReason = 'out_of_order' | 'idle_timeout' | 'limit' | 'overloaded' | 'internal';

export interface RequestSummary {
  request: RequestInfo | undefined;
  route: Readonly<RouteHints>;
  vars: RequestVars;
  response: ResponseInfo | undefined;
  outcome: RequestOutcome;
  /** First request header to the end of the exchange as the ext-proc saw it (stream end). */
  elapsedMs: number;
  /** First request header to the upstream's response headers; undefined when none came. */
  responseHeadersMs: number | undefined;
  /** First request header to the first streamed response body chunk (time to first token for SSE). */
  firstChunkMs: number | undefined;
  /** Time spent in the ext-proc itself (all phases). */
  processingMs: number;
}
