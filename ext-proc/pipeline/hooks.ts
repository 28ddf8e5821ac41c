import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { EndContext, RequestInfo } from '../../plugins/sdk/types.js';
import { gatewayError, GatewayErrorCodes, PluginError } from '../../plugins/sdk/errors.js';
import type { HookName, PluginInstance } from './chain.js';
import type { RequestObserver } from './observer.js';
import { failResponse, isRespond, type Stop } from './respond.js';

/** What calling one hook reads and records on the request it runs for (the stream processor). */
export interface HookHost {
  readonly log: Logger;
  readonly observer: RequestObserver;
  readonly request: RequestInfo | undefined;
  /** The plugin and hook running now: `ctx.log` tags its lines with them. */
  runningPlugin: PluginInstance | undefined;
  runningHook: HookName | 'end' | undefined;
}

/**
 * Calls one plugin's hook. Async hooks race the plugin's timeout (sync ones have already
 * finished, so they get no timer). A returned Respond stops the chain, except on streamed
 * hooks, which run after the status went out.
 */
export async function invokeHook(host: HookHost, plugin: PluginInstance, hook: HookName, ctx: object, streamed = false): Promise<Stop | undefined> {
  const fn = plugin.hooks[hook] as ((c: object) => unknown) | undefined;
  if (!fn) return undefined;
  host.runningPlugin = plugin;
  host.runningHook = hook;
  let timer: NodeJS.Timeout | undefined;
  try {
    let result = fn.call(plugin.hooks, ctx);
    if (result instanceof Promise) {
      result = await Promise.race([
        result,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(gatewayError('plugin_timeout', `${plugin.name}.${hook} timed out after ${plugin.timeoutMs} ms`)),
            plugin.timeoutMs,
          );
        }),
      ]);
    }
    if (!isRespond(result)) return undefined;
    if (streamed) {
      host.log.warn({ plugin: plugin.name, hook }, 'a streamed-body hook returned a response; ignored (the status is already sent)');
      return undefined;
    }
    return { respond: result, by: plugin.name };
  } catch (err) {
    return pluginFailed(host, plugin, hook, err, streamed);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * A deliberate, exposable PluginError is the client's answer. Anything else is our failure:
 * logged with an error id and answered 500 naming that id, or skipped when the plugin (or the
 * streamed phase) fails open.
 */
function pluginFailed(host: HookHost, plugin: PluginInstance, hook: HookName, err: unknown, streamed: boolean): Stop | undefined {
  if (PluginError.is(err) && err.expose && !streamed) {
    return {
      respond: failResponse(host.request, err.status, err.message, { code: err.code, param: err.param, headers: err.headers }),
      by: plugin.name,
      code: err.code,
    };
  }
  const code = PluginError.is(err) ? err.code : GatewayErrorCodes.pluginError;
  const errorId = randomBytes(6).toString('hex');
  const failOpen = plugin.failOpen || streamed;
  host.observer.pluginError?.(plugin.name, hook, code === GatewayErrorCodes.pluginTimeout ? 'timeout' : 'error');
  host.log.error(
    { plugin: plugin.name, type: plugin.type, hook, errorId, code, failOpen, err },
    streamed ? 'plugin failed on a streamed body; chunk passed on unchanged' : failOpen ? 'plugin failed; skipped (fail-open)' : 'plugin failed; request answered 500',
  );
  if (failOpen) return undefined;
  return {
    respond: failResponse(host.request, 500, `Internal error in the gateway (error id ${errorId})`, {
      code,
      headers: { 'x-gateway-error-id': errorId },
    }),
    by: plugin.name,
    code,
  };
}

/** Runs every `end` hook of the chain once, in order. Never throws: a failure is logged and counted. */
export async function runEndHooks(host: HookHost, chain: readonly PluginInstance[], endCtx: EndContext): Promise<void> {
  for (const plugin of chain) {
    const hook = plugin.hooks.end;
    if (!hook) continue;
    host.runningPlugin = plugin;
    host.runningHook = 'end';
    try {
      const result = hook.call(plugin.hooks, endCtx);
      // Only async hooks need a timer; a sync one has already finished.
      if (result instanceof Promise) await withTimeout(result, plugin.timeoutMs);
    } catch (err) {
      host.observer.pluginError?.(plugin.name, 'end', err instanceof HookTimeout ? 'timeout' : 'error');
      host.log.error({ plugin: plugin.name, hook: 'end', err }, 'end hook failed');
    }
  }
}

class HookTimeout extends Error {}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HookTimeout(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
