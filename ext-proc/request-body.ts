import type { HttpBody, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { takeChanges } from './pipeline/answers.js';
import { BodyBuffer } from './pipeline/body.js';
import type { ChainRunner } from './pipeline/chain-runner.js';
import { requestBodyContext, type ContextSource } from './pipeline/context.js';
import type { MaybePromise } from './pipeline/hooks.js';
import type { Stop } from './pipeline/respond.js';
import type { StopHost } from './pipeline/response-body.js';
import type { RequestState } from './pipeline/state.js';
import { finishRouting, type RouteTargets } from './routing/upstream.js';

/** A request's state and chain, as the phases after its headers read them. */
export interface RequestSide {
  state: RequestState;
  runner: ChainRunner;
  src: ContextSource;
}

/**
 * A whole request body through the `requestBody` hooks, then the route finished (the body is
 * the last request phase): the answer carries the header edits, the route and a replaced body.
 */
export function requestBodyAnswer(host: Pick<StopHost, 'stopped'>, targets: RouteTargets, { state, runner, src }: RequestSide, msg: HttpBody): MaybePromise<ProcessingResponse> {
  const headers = state.requestHeaders;
  const body = new BodyBuffer(msg.body, 'request');
  const stop = runner.run('requestBody', () => requestBodyContext(src, headers, body));
  if (stop instanceof Promise) return stop.then((s) => afterRequestBody(host, targets, state, body, s));
  return afterRequestBody(host, targets, state, body, stop);
}

function afterRequestBody(host: Pick<StopHost, 'stopped'>, targets: RouteTargets, state: RequestState, body: BodyBuffer, stop: Stop | undefined): ProcessingResponse {
  if (stop) return host.stopped(stop);
  const headers = state.requestHeaders;
  const clearRouteCache = finishRouting(state.route, state.request, state.vars, targets, headers);
  let newBody: Buffer | undefined;
  if (body.replaced) {
    newBody = body.body;
    headers.set('content-length', String(newBody.length));
  }
  return { response: { $case: 'requestBody', value: { response: takeChanges(headers, newBody, clearRouteCache) } } };
}
