import type { ErrorDetails, RequestInfo, RequestOutcome, Respond, RespondInit } from '../../plugins/sdk/types.js';
import { errorBody } from '../../plugins/sdk/protocol.js';
import type { ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import { immediate } from '../envoy-messages.js';
import { GATEWAY_REPLY_DETAILS_PREFIX } from '../../plugins/sdk/wire.js';

/** Why the chain stopped: the answer, the plugin that gave it and its stable error code. */
export type Stop = { respond: Respond; by: string; code?: string };

/** The stable code of each error made by `ctx.fail`, so metrics and logs can name the rejection. */
const errorCodes = new WeakMap<Respond, string>();

export function isRespond(value: unknown): value is Respond {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'respond';
}

export function respondFrom(init: RespondInit): Respond {
  const headers: Record<string, string> = { ...init.headers };
  let body: Buffer;
  if (init.json !== undefined) {
    body = Buffer.from(JSON.stringify(init.json));
    headers['content-type'] ??= 'application/json';
  } else {
    body = typeof init.body === 'string' ? Buffer.from(init.body) : (init.body ?? Buffer.alloc(0));
  }
  return Object.freeze({ kind: 'respond' as const, status: init.status, headers, body });
}

/** An error in the client's protocol (`ctx.fail`), tagged with the request id and remembered by code. */
export function failResponse(request: RequestInfo | undefined, status: number, message: string, details: ErrorDetails = {}): Respond {
  const body = errorBody(request?.protocol, status, message, details);
  const respond = respondFrom({
    status,
    json: body,
    headers: { ...details.headers, 'x-request-id': request?.id ?? '' },
  });
  if (details.code !== undefined) errorCodes.set(respond, details.code);
  return respond;
}

/** Records the stop in the outcome and turns it into Envoy's ImmediateResponse. */
export function stopResponse(stop: Stop, outcome: RequestOutcome): ProcessingResponse {
  outcome.status = stop.respond.status;
  outcome.answeredBy = stop.by;
  const code = stop.code ?? errorCodes.get(stop.respond);
  if (code) outcome.errorCode = code;
  else if (stop.respond.status >= 400) outcome.errorCode = `http_${stop.respond.status}`;
  return immediate(stop.respond, `${GATEWAY_REPLY_DETAILS_PREFIX}${stop.by}`);
}
