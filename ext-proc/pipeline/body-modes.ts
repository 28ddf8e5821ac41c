import type { Logger } from 'pino';
import type { RequestInfo, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import { BodyMode } from '../envoy-messages.js';
import { anyHas, type PluginInstance } from './chain.js';

/** Read `log` only on failure: the request's child logger is made on first use. */
type LogHost = { readonly log: Logger };

const NONE: ReadonlySet<PluginInstance> = new Set();

/**
 * Asks each plugin with a `requestBody` hook whether it needs this request's body. Returns
 * whether any does, and the ones that said no.
 */
export function needsRequestBody(
  chain: readonly PluginInstance[],
  request: RequestInfo,
  route: RouteHints,
  vars: RequestVars,
  host: LogHost,
): { needed: boolean; skipped: ReadonlySet<PluginInstance> } {
  let needed = false;
  let skipped: Set<PluginInstance> | undefined;
  for (const p of chain) {
    if (!p.hooks.requestBody) continue;
    const need = p.hooks.needs?.requestBody ?? true;
    if (askNeed(host, p, 'requestBody', () => (typeof need === 'function' ? need(request, route, vars) : need))) needed = true;
    else (skipped ??= new Set()).add(p);
  }
  return { needed, skipped: skipped ?? NONE };
}

/**
 * The cheapest body mode that serves the hooks still wanted: SSE streams stay STREAMED
 * (never buffered whole), a whole-body hook on anything else means BUFFERED. Also returns
 * the plugins that said no.
 */
export function chooseResponseBodyMode(
  chain: readonly PluginInstance[],
  response: ResponseInfo,
  request: RequestInfo,
  vars: RequestVars,
  host: LogHost,
): { mode: BodyMode; skipped: ReadonlySet<PluginInstance> } {
  let skipped: Set<PluginInstance> | undefined;
  const wanted = chain.filter((p) => {
    if (!p.hooks.responseBody && !p.hooks.responseChunk && !p.hooks.responseEvent) return false;
    const need = p.hooks.needs?.responseBody ?? true;
    if (askNeed(host, p, 'responseBody', () => (typeof need === 'function' ? need(response, request, vars) : need))) return true;
    (skipped ??= new Set()).add(p);
    return false;
  });
  return { mode: bodyModeFor(wanted, response.streaming), skipped: skipped ?? NONE };
}

function bodyModeFor(wanted: readonly PluginInstance[], streaming: boolean): BodyMode {
  const chunks = anyHas(wanted, 'responseChunk');
  if (streaming) return chunks || anyHas(wanted, 'responseEvent') ? BodyMode.STREAMED : BodyMode.NONE;
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
