import type { Logger } from 'pino';
import type { RequestOutcome, RequestVars } from '../plugins/sdk/types.js';
import { categoryOf } from '../plugins/sdk/error-codes.js';
import { lineWriter } from './log-line.js';
import type { Metrics } from './metrics.js';
import type { RequestObserver, RequestSummary } from './pipeline/observer.js';

/**
 * The consumer a request was identified as (`ctx.vars.consumer.id`, set by an auth plugin),
 * or '' when none was. Read loosely so the core doesn't depend on any one auth plugin.
 */
export function consumerOf(vars: RequestVars): string {
  const consumer = (vars as { consumer?: { id?: unknown } }).consumer;
  return typeof consumer?.id === 'string' ? consumer.id : '';
}

/** The class names, made once: a metric label per request, looked up by value (hot-metrics/). */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function statusClass(outcome: RequestOutcome): string {
  const status = outcome.status;
  if (status !== undefined && status >= 100 && status < 600) return STATUS_CLASSES[Math.floor(status / 100) - 1] as string;
  return outcome.cancelled ? 'cancelled' : 'unknown';
}

export type RejectionReason = ReturnType<typeof categoryOf>;

/** Why the gateway refused a request: the error table's category for the code, else by status. */
export const rejectionReason = categoryOf;

const s = (ms: number) => ms / 1000;

/**
 * Turns each finished request into metric samples. Label values go positionally to
 * `labels(...)`, which finds the series without allocating (hot-metrics/).
 */
export function metricsObserver(m: Metrics): Required<Omit<RequestObserver, 'hook'>> {
  return {
    phase(phase, ms) {
      m.phaseSeconds.labels(phase).observe(s(ms));
    },
    pluginError(plugin, hook, kind) {
      m.pluginErrors.labels(plugin, hook, kind).inc();
    },
    streamAborted(reason) {
      m.streamsAborted.labels(reason).inc();
    },
    finished(r) {
      const model = r.route.model ?? '';
      const version = r.route.version ?? '';
      const consumer = consumerOf(r.vars);
      m.requests.labels(model, version, consumer, r.request?.protocol ?? '', statusClass(r.outcome)).inc();
      m.requestWorkSeconds.observe(s(r.processingMs));
      if (!r.request) return;
      m.requestSeconds.labels(model, version).observe(s(r.elapsedMs));
      if (r.responseHeadersMs !== undefined) m.responseHeadersSeconds.labels(model, version).observe(s(r.responseHeadersMs));
      if (r.firstChunkMs !== undefined && r.response?.streaming) m.firstTokenSeconds.labels(model, version).observe(s(r.firstChunkMs));
      if (r.route.model !== undefined && r.route.version !== undefined) {
        m.routeDecisions.labels(model, version, r.route.reason ?? '', r.route.variant ?? '').inc();
      }
      const { status, answeredBy, errorCode } = r.outcome;
      if (answeredBy !== undefined && status !== undefined && status >= 400) {
        m.rejections.labels(rejectionReason(status, errorCode), errorCode ?? `http_${status}`, model, consumer).inc();
      }
      const usage = r.vars.usage;
      if (usage) {
        m.tokens.labels(model, version, consumer, 'prompt').inc(usage.prompt);
        m.tokens.labels(model, version, consumer, 'completion').inc(usage.completion);
      }
    },
  };
}

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1000);

/** The access line's fields, in the order they are written. */
const ACCESS_FIELDS = [
  'reqId', 'method', 'path', 'protocol', 'consumer', 'model', 'version', 'route', 'variant', 'status', 'answeredBy', 'errorCode',
  'cancelled', 'durationMs', 'responseHeadersMs', 'firstTokenMs', 'extProcMs', 'promptTokens', 'completionTokens',
] as const;

/**
 * One structured line per request. Only the path without its query is logged (queries can
 * carry keys), and no header at all: nothing secret can reach the log from here. Written by
 * a lineWriter: the line pino writes, for less CPU (log-line.ts).
 */
export function accessLogger(log: Logger): (r: RequestSummary) => void {
  const access = log.child({ log: 'access' });
  const write = lineWriter(access, 'request', ACCESS_FIELDS);
  return (r) => {
    if (!access.isLevelEnabled('info')) return;
    write({
      reqId: r.request?.id,
      method: r.request?.method,
      path: r.request?.pathname,
      protocol: r.request?.protocol,
      consumer: consumerOf(r.vars) || undefined,
      model: r.route.model,
      version: r.route.version,
      route: r.route.reason,
      variant: r.route.variant,
      status: r.outcome.status,
      answeredBy: r.outcome.answeredBy,
      errorCode: r.outcome.errorCode,
      cancelled: r.outcome.cancelled || undefined,
      durationMs: round(r.elapsedMs),
      responseHeadersMs: round(r.responseHeadersMs),
      firstTokenMs: r.response?.streaming ? round(r.firstChunkMs) : undefined,
      extProcMs: round(r.processingMs),
      promptTokens: r.vars.usage?.prompt,
      completionTokens: r.vars.usage?.completion,
    });
  };
}

/** Several observers behind one; each callback is only present when some observer has it. */
export function combineObservers(...observers: RequestObserver[]): RequestObserver {
  const phase = observers.flatMap((o) => (o.phase ? [o.phase.bind(o)] : []));
  const pluginError = observers.flatMap((o) => (o.pluginError ? [o.pluginError.bind(o)] : []));
  const finished = observers.flatMap((o) => (o.finished ? [o.finished.bind(o)] : []));
  const streamAborted = observers.flatMap((o) => (o.streamAborted ? [o.streamAborted.bind(o)] : []));
  const hook = observers.flatMap((o) => (o.hook ? [o.hook.bind(o)] : []));
  return {
    // phase is called per ext_proc message, usually for the metrics alone: no fan-out then.
    ...(phase.length > 0 && { phase: phase.length === 1 ? phase[0] : (p, ms) => phase.forEach((f) => f(p, ms)) }),
    ...(pluginError.length > 0 && { pluginError: (p, h, k) => pluginError.forEach((f) => f(p, h, k)) }),
    ...(finished.length > 0 && { finished: (r) => finished.forEach((f) => f(r)) }),
    ...(streamAborted.length > 0 && { streamAborted: (reason) => streamAborted.forEach((f) => f(reason)) }),
    // Absent unless someone times hooks (the bench): invokeHook reads no clock then.
    ...(hook.length > 0 && { hook: (p, h, ms) => hook.forEach((f) => f(p, h, ms)) }),
  };
}
