import type { Logger } from 'pino';
import type { RequestInfo, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import { BodyMode } from '../envoy-messages.js';
import { anyHas, type PluginInstance } from './chain.js';

/** Read `log` only on failure: the request's child logger is made on first use. */
type LogHost = { readonly log: Logger };

/**
 * Asks each plugin with a `requestBody` hook whether it needs this request's body; the ones
 * that say no go into `skip`. Returns whether any plugin needs it.
 */
export function needsRequestBody(
  chain: readonly PluginInstance[],
  request: RequestInfo,
  route: RouteHints,
  vars: RequestVars,
  skip: Set<PluginInstance>,
  host: LogHost,
): boolean {
  let needed = false;
  for (const p of chain) {
    if (!p.hooks.requestBody) continue;
    const need = p.hooks.needs?.requestBody ?? true;
    if (askNeed(host, p, 'requestBody', () => (typeof need === 'function' ? need(request, route, vars) : need))) needed = true;
    else skip.add(p);
  }
  return needed;
}

/**
 * The cheapest body mode that serves the hooks still wanted: SSE streams stay STREAMED
 * (never buffered whole), a whole-body hook on anything else means BUFFERED. Plugins that
 * say no go into `skip`.
 */
export function chooseResponseBodyMode(
  chain: readonly PluginInstance[],
  response: ResponseInfo,
  request: RequestInfo,
  vars: RequestVars,
  skip: Set<PluginInstance>,
  host: LogHost,
): BodyMode {
  const wanted = chain.filter((p) => {
    if (!p.hooks.responseBody && !p.hooks.responseChunk && !p.hooks.responseEvent) return false;
    const need = p.hooks.needs?.responseBody ?? true;
    if (askNeed(host, p, 'responseBody', () => (typeof need === 'function' ? need(response, request, vars) : need))) return true;
    skip.add(p);
    return false;
  });
  const chunks = anyHas(wanted, 'responseChunk');
  if (response.streaming) return chunks || anyHas(wanted, 'responseEvent') ? BodyMode.STREAMED : BodyMode.NONE;
  if (anyHas(wanted, 'responseBody')) return BodyMode.BUFFERED;
  return chunks ? BodyMode.STREAMED : BodyMode.NONE;
}

/** A `needs` function that throws is a bug in the plugin: log it and assume the phase is needed. */
function askNeed(host: LogHost, plugin: PluginInstance, phase: string, ask: () => boolean): boolean {
  try {
    return ask();
  } catch (err) {
    host.log.error({ plugin: plugin.name, hook: `needs.${phase}`, err }, 'plugin needs() failed; assuming the phase is needed');
    return true;
  }
}
