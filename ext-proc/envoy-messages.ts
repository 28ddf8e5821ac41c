import type {
  CommonResponse_ResponseStatus,
  CommonResponse,
  HeaderMutation,
  ProcessingResponse,
} from './gen/envoy/service/ext_proc/v3/external_processor.js';

// Only types from the service stub: its module also defines the gRPC service and so loads
// grpc-js, which the request pipeline (and the SDK's test harness) must not need.
const CONTINUE = 0 as CommonResponse_ResponseStatus.CONTINUE;
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOption } from './gen/envoy/config/core/v3/base.js';
import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
  type ProcessingMode,
} from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import type { Respond } from '../plugins/sdk/types.js';

export { ProcessingMode_BodySendMode as BodyMode };
export { FILTER_BODY_MODES, FILTER_RESPONSE_HEADER_MODE } from './filter-modes.js';


export function headerOption(key: string, value: string): HeaderValueOption {
  return {
    header: { key, value: '', rawValue: Buffer.from(value, 'latin1') },
    appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    // Lets a plugin deliberately send an empty header value.
    keepEmptyValue: true,
  };
}

export function headerMutation(changes: ReadonlyMap<string, string | null>): HeaderMutation | undefined {
  if (changes.size === 0) return undefined;
  const setHeaders: HeaderValueOption[] = [];
  const removeHeaders: string[] = [];
  for (const [key, value] of changes) {
    if (value === null) removeHeaders.push(key);
    else setHeaders.push(headerOption(key, value));
  }
  return { setHeaders, removeHeaders };
}

export function common(
  changes: ReadonlyMap<string, string | null>,
  opts: { readonly body?: Buffer; readonly clearRouteCache?: boolean } = {},
): CommonResponse | undefined {
  const mutation = headerMutation(changes);
  if (!mutation && !opts.body && !opts.clearRouteCache) return undefined;
  return {
    status: CONTINUE,
    headerMutation: mutation,
    bodyMutation: opts.body ? { mutation: { $case: 'body', value: opts.body } } : undefined,
    clearRouteCache: opts.clearRouteCache ?? false,
  };
}


export function immediate(respond: Respond, details: string): ProcessingResponse {
  const setHeaders = Object.entries(respond.headers).map(([key, value]) => headerOption(key, value));
  return {
    response: {
      $case: 'immediateResponse',
      value: {
        status: { code: respond.status },
        headers: { setHeaders, removeHeaders: [] },
        body: respond.body,
        grpcStatus: undefined,
        // Shows in Envoy's %RESPONSE_CODE_DETAILS%; Envoy rejects spaces there.
        details: details.replace(/[^A-Za-z0-9_.-]/g, '_'),
      },
    },
  };
}

/** A full processing mode for `mode_override`: Envoy reads every field, so none may be left at its zero value by accident. */
export function modeOverride(requestBody: ProcessingMode_BodySendMode, responseBody: ProcessingMode_BodySendMode): ProcessingMode {
  return {
    requestHeaderMode: ProcessingMode_HeaderSendMode.SEND,
    responseHeaderMode: ProcessingMode_HeaderSendMode.SEND,
    requestBodyMode: requestBody,
    responseBodyMode: responseBody,
    requestTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
    responseTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
  };
}
