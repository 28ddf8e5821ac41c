import { consumerOf, statusClass } from '../observe.js';
import type { RequestObserver, RequestSummary } from '../pipeline/observer.js';

/** One failed request, as the console lists it: enough to find it in the access log. */
export interface RecentError {
  /** Unix time in milliseconds. */
  at: number;
  reqId: string | undefined;
  model: string | undefined;
  version: string | undefined;
  consumer: string | undefined;
  status: number | undefined;
  statusClass: string;
  /** The stable error code when the gateway answered itself (`invalid_api_key`, …). */
  code: string | undefined;
  /** The plugin that answered when the gateway answered itself, else `upstream` (the model server). */
  answeredBy: string;
}

/**
 * The last `capacity` requests that ended in a 4xx, a 5xx or a cancel, newest first. Fed by
 * the request observer (the same one the metrics hang off); it keeps examples, not counts.
 */
export class RecentErrors {
  private readonly ring: RecentError[] = [];

  constructor(
    private readonly capacity = 50,
    private readonly now: () => number = Date.now,
  ) {}

  readonly observer: RequestObserver = {
    finished: (r) => this.add(r),
  };

  add(r: RequestSummary): void {
    const status = r.outcome.status;
    if (!(r.outcome.cancelled || (status !== undefined && status >= 400))) return;
    this.ring.unshift({
      at: this.now(),
      reqId: r.request?.id,
      model: r.route.model,
      version: r.route.version,
      consumer: consumerOf(r.vars) || undefined,
      status,
      statusClass: statusClass(r.outcome),
      code: r.outcome.errorCode,
      answeredBy: r.outcome.answeredBy ?? 'upstream',
    });
    if (this.ring.length > this.capacity) this.ring.length = this.capacity;
  }

  list(): readonly RecentError[] {
    return this.ring;
  }
}
