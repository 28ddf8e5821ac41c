import { randomUUID } from 'node:crypto';
import type { HeaderSet } from '../../plugins/sdk/headers.js';
import { parseTarget } from '../../plugins/sdk/paths.js';
import { detectProtocol } from '../../plugins/sdk/protocol.js';
import type { ModelCatalog, RequestInfo } from '../../plugins/sdk/types.js';
import { usableRequestId } from './request-guard.js';

/**
 * The request as every plugin sees it (`ctx.request`), read once from its headers. `bodyModel`
 * is the OpenAI body's model as Envoy read it (routing/hints.ts `bodyModelOf`).
 */
export function requestInfo(values: ReadonlyMap<string, string>, headers: HeaderSet, hasBody: boolean, catalog: ModelCatalog, bodyModel: string | undefined): RequestInfo {
  const path = values.get(':path') ?? '/';
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  const protocol = detectProtocol(pathname, (name) => catalog.get(name)?.protocol);
  const request: { -readonly [K in keyof RequestInfo]: RequestInfo[K] } = {
    id: usableRequestId(values.get('x-request-id')) ?? randomUUID(),
    method: values.get(':method') ?? 'GET',
    path,
    pathname,
    authority: values.get(':authority') ?? '',
    hasBody,
    headers,
    protocol,
    // Parsed once here: routing and every plugin read it instead of re-parsing the path.
    target: protocol === undefined ? undefined : parseTarget(protocol, pathname),
  };
  // Present only when known (not an `undefined` property); set, not spread (no object per request for it).
  if (bodyModel !== undefined && protocol === 'openai') request.bodyModel = bodyModel;
  return request;
}
