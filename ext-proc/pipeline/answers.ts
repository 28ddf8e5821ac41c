import type { HeaderSet } from '../../plugins/sdk/headers.js';
import { common } from '../envoy-messages.js';
import type { CommonResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';

// Envoy's answer to a phase that continues (an immediate response is respond.ts's).

/**
 * The phase's answer: the header edits made since the last phase (the set starts over for the
 * next one), a replaced body, a route to recompute. `common` reads the edits into the answer
 * at once, so the set itself is passed, not a copy.
 */
export function takeChanges(headers: HeaderSet, body?: Buffer, clearRouteCache?: boolean): CommonResponse | undefined {
  const answer = common(headers.changes, body === undefined && clearRouteCache === undefined ? NO_OPTIONS : { body, clearRouteCache });
  headers.changes.clear();
  return answer;
}

const NO_OPTIONS = Object.freeze({});
