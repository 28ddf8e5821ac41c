import type { Logger } from 'pino';
import type { RequestInfo, RequestVars, ResponseInfo, RouteHints } from '../../plugins/sdk/types.js';
import { BodyMode } from '../envoy-messages.js';
import type { PluginInstance } from './chain.js';

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
    if (typeof need === 'boolean' ? need : askNeed(host, p, 'requestBody', need, request, route, vars)) needed = true;
    else (skipped ??= new Set()).add(p);
  }
  return { needed, skipped: skipped ?? NONE };
}

/**
 * The cheapest body mode that serves the hooks still wanted: SSE streams stay STREAMED
 * (never buffered whole), a whole-body hook on anything else means BUFFERED. Also returns
 * the plugins that said no, and whether the wanted whole-body readers only observe.
 */
export function chooseResponseBodyMode(
  chain: readonly PluginInstance[],
  response: ResponseInfo,
  request: RequestInfo,
  vars: RequestVars,
  host: LogHost,
): { mode: BodyMode; skipped: ReadonlySet<PluginInstance>; observedOnly: boolean } {
  let skipped: Set<PluginInstance> | undefined;
  // Whether every whole-body reader still wanted only observes (PluginHooks.observesResponseBody).
  let observedOnly = true;
  // Which kinds of body hook the plugins still wanted have: one pass, no list of them (every response asks).
  let whole = false;
  let chunks = false;
  let events = false;
  for (const p of chain) {
    const { responseBody, responseChunk, responseEvent, needs, observesResponseBody } = p.hooks;
    if (!responseBody && !responseChunk && !responseEvent) continue;
    const need = needs?.responseBody ?? true;
    if (typeof need === 'boolean' ? need : askNeed(host, p, 'responseBody', need, response, request, vars)) {
      whole ||= responseBody !== undefined;
      chunks ||= responseChunk !== undefined;
      events ||= responseEvent !== undefined;
      if ((responseBody || responseChunk) && observesResponseBody !== true) observedOnly = false;
    } else {
      (skipped ??= new Set()).add(p);
    }
  }
  return { mode: bodyModeFor(whole, chunks, events, response.streaming), skipped: skipped ?? NONE, observedOnly };
}

function bodyModeFor(whole: boolean, chunks: boolean, events: boolean, streaming: boolean): BodyMode {
  if (streaming) return chunks || events ? BodyMode.STREAMED : BodyMode.NONE;
  if (whole) return BodyMode.BUFFERED;
  return chunks ? BodyMode.STREAMED : BodyMode.NONE;
}

/**
 * A `needs` function that throws is a bug in the plugin: log it and assume the phase is needed.
 * Its arguments are passed through (not a closure per plugin per request).
 */
function askNeed<A, B, C>(host: LogHost, plugin: PluginInstance, phase: string, need: (a: A, b: B, c: C) => boolean, a: A, b: B, c: C): boolean {
  try {
    return need(a, b, c);
  } catch (err) {
    host.log.error({ plugin: plugin.name, hook: `needs.${phase}`, err }, 'plugin needs() failed; assuming the phase is needed');
    return true;
  }
}
