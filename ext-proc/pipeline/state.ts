import type { RequestInfo, RequestOutcome, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import type { HeaderSet } from '../../plugins/sdk/headers.js';

/**
 * One request's state, made when its request headers arrive (so `request` is always there)
 * and dropped with its stream. The processor writes it; plugins read it through their
 * contexts; the summary at the end is taken from it.
 */
export class RequestState {
  readonly route: RouteHints = {};
  readonly vars: RequestVars = {};
  /** Set at response headers; `Responded` is this record once they arrived. */
  response: ResponseInfo | undefined;
  responseHeaders: HeaderSet | undefined;

  constructor(
    readonly request: RequestInfo,
    readonly requestHeaders: HeaderSet,
    readonly outcome: RequestOutcome,
  ) {}

  /** Records the upstream's response headers; from here on the response is known. */
  responded(response: ResponseInfo, headers: HeaderSet): Responded {
    this.response = response;
    this.responseHeaders = headers;
    this.outcome.status = response.status;
    return this as Responded;
  }
}

/** The state in the response phases: response and its headers are known. */
export interface Responded extends RequestState {
  readonly response: ResponseInfo;
  readonly responseHeaders: HeaderSet;
}
