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

/** A value now, or later: hooks that finish synchronously (most do) never cost a promise. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Calls one plugin's hook. A synchronous hook is answered synchronously: an `await` per hook
 * per phase (a promise and a microtask each) was a measurable part of the per-request CPU.
 * Async hooks race the plugin's timeout (sync ones have already finished, so they get no
 * timer). A returned Respond stops the chain, except on streamed hooks, which run after the
 * status went out.
 */
export function invokeHook(host: HookHost, plugin: PluginInstance, hook: HookName, ctx: object, streamed = false): MaybePromise<Stop | undefined> {
  const fn = plugin.hooks[hook] as ((c: object) => unknown) | undefined;
  if (!fn) return undefined;
  host.runningPlugin = plugin;
  host.runningHook = hook;
  const timed = host.observer.hook;
  const t0 = timed ? performance.now() : 0;
  let result: unknown;
  try {
    result = fn.call(plugin.hooks, ctx);
  } catch (err) {
    return pluginFailed(host, plugin, hook, err, streamed);
  }
  if (timed) timed(plugin.name, hook, performance.now() - t0);
  if (result instanceof Promise) return settle(host, plugin, hook, result, streamed);
  return answered(host, plugin, hook, result, streamed);
}

/** An async hook: its result, or its failure, or its timeout, whichever comes first. */
async function settle(host: HookHost, plugin: PluginInstance, hook: HookName, pending: Promise<unknown>, streamed: boolean): Promise<Stop | undefined> {
  let result: unknown;
  try {
    result = await withTimeout(pending, plugin.timeoutMs, () => gatewayError('plugin_timeout', `${plugin.name}.${hook} timed out after ${plugin.timeoutMs} ms`));
  } catch (err) {
    return pluginFailed(host, plugin, hook, err, streamed);
  }
  return answered(host, plugin, hook, result, streamed);
}

/** What a hook's return value means for the chain. */
function answered(host: HookHost, plugin: PluginInstance, hook: HookName, result: unknown, streamed: boolean): Stop | undefined {
  if (!isRespond(result)) return undefined;
  if (streamed) {
    host.log.warn({ plugin: plugin.name, hook }, 'a streamed-body hook returned a response; ignored (the status is already sent)');
    return undefined;
  }
  return { respond: result, by: plugin.name };
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

/**
 * Runs every `end` hook of the chain once, in order. Never throws: a failure is logged and
 * counted. Synchronous all the way unless a hook returns a promise, which the rest waits for.
 */
export function runEndHooks(host: HookHost, chain: readonly PluginInstance[], endCtx: EndContext, from = 0): MaybePromise<void> {
  for (let i = from; i < chain.length; i++) {
    const plugin = chain[i] as PluginInstance;
    const hook = plugin.hooks.end;
    if (!hook) continue;
    host.runningPlugin = plugin;
    host.runningHook = 'end';
    try {
      const result = hook.call(plugin.hooks, endCtx);
      // Only async hooks need a timer; a sync one has already finished.
      if (result instanceof Promise) return endHookSettled(host, chain, endCtx, i, result);
    } catch (err) {
      endHookFailed(host, plugin, err);
    }
  }
}

async function endHookSettled(host: HookHost, chain: readonly PluginInstance[], endCtx: EndContext, at: number, pending: Promise<unknown>): Promise<void> {
  const plugin = chain[at] as PluginInstance;
  try {
    await withTimeout(pending, plugin.timeoutMs, () => new HookTimeout(`timed out after ${plugin.timeoutMs} ms`));
  } catch (err) {
    endHookFailed(host, plugin, err);
  }
  return runEndHooks(host, chain, endCtx, at + 1);
}

function endHookFailed(host: HookHost, plugin: PluginInstance, err: unknown): void {
  host.observer.pluginError?.(plugin.name, 'end', err instanceof HookTimeout ? 'timeout' : 'error');
  host.log.error({ plugin: plugin.name, hook: 'end', err }, 'end hook failed');
}

class HookTimeout extends Error {}

/** `p`, unless `ms` pass first: then the error `timedOut` makes. The timer never outlives the race. */
async function withTimeout<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
