import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  BaseContext,
  EndContext,
  ErrorDetails,
  HeaderMutator,
  PluginHooks,
  RequestInfo,
  RequestOutcome,
  RequestVars,
  Respond,
  RespondInit,
  ResponseInfo,
  RouteHints,
  SseEvent,
} from '../plugins/sdk/types.js';
import { PluginError, GatewayErrorCodes } from '../plugins/sdk/errors.js';
import { HeaderSet } from '../plugins/sdk/headers.js';
import { detectProtocol, errorBody } from '../plugins/sdk/protocol.js';
import type { HttpBody, HttpHeaders, ProcessingRequest, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { BodyMode, common, FILTER_BODY_MODES, GATEWAY_REPLY_DETAILS_PREFIX, headersToMap, immediate, modeOverride } from './envoy-messages.js';
import { BodyBuffer } from './pipeline/body.js';
import { anyHas, appliesTo, type HookName, type PluginInstance } from './pipeline/chain.js';
import { serializeEvent, SseParser } from './pipeline/sse.js';
import { loggableHeaders } from './logger.js';
import type { Runtime } from './runtime.js';
import { CONSUMER_HEADER } from '../plugins/shared/consumer.js';

/** The header Envoy's route reads the upstream cluster from (`cluster_header`). Only the gateway sets it. */
export const CLUSTER_HEADER = 'x-gateway-cluster';
/** The cluster Envoy mirrors this request to (`request_mirror_policies[].cluster_header`). Only the gateway sets it. */
export const SHADOW_HEADER = 'x-gateway-shadow';
/** Response header Envoy's route sets from the serving endpoint's metadata: the version that answered. */
export const UPSTREAM_VERSION_HEADER = 'x-gateway-upstream-version';
/** Request headers that steer Envoy: whatever a client sends under these names is dropped. */
export const INTERNAL_REQUEST_HEADERS = [CLUSTER_HEADER, SHADOW_HEADER, CONSUMER_HEADER] as const;

/**
 * Observes requests; the metrics, access log and traces hang off this. Called on the hot
 * path: implementations must be cheap and must not throw.
 */
export interface RequestObserver {
  phase?(phase: HookName, durationMs: number): void;
  /** A plugin threw (not a deliberate client error) or ran out of time. */
  pluginError?(plugin: string, hook: HookName | 'end', kind: 'error' | 'timeout'): void;
  finished?(summary: RequestSummary): void;
}

export interface RequestSummary {
  request: RequestInfo | undefined;
  route: Readonly<RouteHints>;
  vars: RequestVars;
  response: ResponseInfo | undefined;
  outcome: RequestOutcome;
  /** First request header to the end of the exchange as the ext-proc saw it (stream end). */
  elapsedMs: number;
  /** First request header to the upstream's response headers; undefined when none came. */
  responseHeadersMs: number | undefined;
  /** First request header to the first streamed response body chunk (time to first token for SSE). */
  firstChunkMs: number | undefined;
  /** Time spent in the ext-proc itself (all phases). */
  processingMs: number;
}

type Stop = { respond: Respond; by: string; code?: string };

/**
 * All state of one HTTP request, alive as long as its ext_proc stream. One method per phase;
 * the server loop only decodes a message and calls `handle`.
 */
export class StreamProcessor {
  private request: RequestInfo | undefined;
  private requestHeaders = new HeaderSet();
  private responseHeaders = new HeaderSet();
  private response: ResponseInfo | undefined;
  private readonly route: RouteHints = {};
  private readonly vars: RequestVars = {};
  private chain: PluginInstance[] = [];
  private joinedModel: string | undefined;
  /** Model plugins that joined after request headers and still owe their requestHeaders call. */
  private lateJoiners: PluginInstance[] = [];
  private responseBodyMode = BodyMode.NONE;
  /** Plugins whose `needs` said no for this request: their body hooks are not called. */
  private readonly skipRequestBody = new Set<PluginInstance>();
  private readonly skipResponseBody = new Set<PluginInstance>();
  private sse: SseParser | undefined;
  private readonly outcome: RequestOutcome = { cancelled: false };
  /** Created on first use: most requests never look at `ctx.signal`, and abort() costs a DOMException. */
  private abortController: AbortController | undefined;
  private readonly startedAt = performance.now();
  private processingMs = 0;
  private responseHeadersAt: number | undefined;
  private firstChunkAt: number | undefined;
  private ended = false;
  /** The exchange reached its last message (or we answered it ourselves). */
  complete = false;
  private logger: Logger | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly rootLog: Logger,
    private readonly observer: RequestObserver = {},
  ) {}

  /** The stream's logger, tagged with the request id once the request headers arrived. */
  get log(): Logger {
    if (this.logger) return this.logger;
    if (!this.request) return this.rootLog;
    this.logger = this.rootLog.child({ reqId: this.request.id });
    return this.logger;
  }

  async handle(msg: ProcessingRequest): Promise<ProcessingResponse> {
    const t0 = performance.now();
    const r = msg.request;
    let out: ProcessingResponse;
    let phase: HookName | undefined;
    switch (r?.$case) {
      case 'requestHeaders':
        phase = 'requestHeaders';
        out = await this.onRequestHeaders(r.value);
        break;
      case 'requestBody':
        phase = 'requestBody';
        out = await this.onRequestBody(r.value);
        break;
      case 'responseHeaders':
        phase = 'responseHeaders';
        out = await this.onResponseHeaders(r.value);
        break;
      case 'responseBody':
        phase = 'responseBody';
        out = await this.onResponseBody(r.value);
        break;
      case 'requestTrailers':
        out = { response: { $case: 'requestTrailers', value: {} } };
        break;
      case 'responseTrailers':
        out = { response: { $case: 'responseTrailers', value: {} } };
        break;
      default:
        throw new Error('ProcessingRequest without a known phase');
    }
    const dt = performance.now() - t0;
    this.processingMs += dt;
    if (phase) this.observer.phase?.(phase, dt);
    return out;
  }

  // ---- phases -------------------------------------------------------------------------------

  private async onRequestHeaders(msg: HttpHeaders): Promise<ProcessingResponse> {
    const values = headersToMap(msg);
    this.requestHeaders = new HeaderSet(values);
    // The gateway's invariant, not a plugin's choice: clients never pick the cluster or the mirror.
    for (const name of INTERNAL_REQUEST_HEADERS) if (values.has(name)) this.requestHeaders.remove(name);
    const path = values.get(':path') ?? '/';
    const q = path.indexOf('?');
    const pathname = q === -1 ? path : path.slice(0, q);
    const catalog = this.runtime.catalog;
    this.request = {
      id: values.get('x-request-id') ?? randomUUID(),
      method: values.get(':method') ?? 'GET',
      path,
      pathname,
      authority: values.get(':authority') ?? '',
      hasBody: !msg.endOfStream,
      headers: this.requestHeaders,
      protocol: detectProtocol(pathname, (name) => catalog.get(name)?.protocol),
    };
    this.chain = this.runtime.globalChain.filter((p) => appliesTo(p, this.request?.protocol));
    if (this.rootLog.isLevelEnabled('debug')) {
      this.log.debug({ protocol: this.request.protocol, headers: loggableHeaders(values) }, 'request headers');
    }

    const stop = await this.runHook('requestHeaders', () => this.headersCtx('requestHeaders', this.requestHeaders));
    if (stop) return this.stop(stop);

    const wantsBody = !msg.endOfStream && this.needsRequestBody();
    let clearRouteCache = false;
    if (!wantsBody) {
      const routed = this.finishRouting();
      if ('respond' in routed) return this.stop(routed);
      clearRouteCache = routed.changed;
    }
    const changes = this.takeChanges(this.requestHeaders);
    return {
      response: { $case: 'requestHeaders', value: { response: common(changes, { clearRouteCache }) } },
      // The filter's default is BUFFERED request bodies; skip that round trip when nobody reads the body.
      modeOverride: modeOverride(wantsBody ? FILTER_BODY_MODES.request : BodyMode.NONE, BodyMode.NONE),
    };
  }

  private async onRequestBody(msg: HttpBody): Promise<ProcessingResponse> {
    const body = new BodyBuffer(msg.body, 'request');
    const stop = await this.runHook('requestBody', () => withBody(this.headersCtx('requestBody', this.requestHeaders), body));
    if (stop) return this.stop(stop);
    const routed = this.finishRouting();
    if ('respond' in routed) return this.stop(routed);
    let newBody: Buffer | undefined;
    if (body.replaced) {
      newBody = body.body;
      this.requestHeaders.set('content-length', String(newBody.length));
    }
    const changes = this.takeChanges(this.requestHeaders);
    return {
      response: {
        $case: 'requestBody',
        value: { response: common(changes, { body: newBody, clearRouteCache: routed.changed }) },
      },
    };
  }

  private async onResponseHeaders(msg: HttpHeaders): Promise<ProcessingResponse> {
    this.responseHeadersAt = performance.now();
    const values = headersToMap(msg);
    this.responseHeaders = new HeaderSet(values);
    this.noteServedVersion(values.get(UPSTREAM_VERSION_HEADER));
    const status = Number(values.get(':status') ?? 0);
    this.outcome.status = status;
    this.response = {
      status,
      headers: this.responseHeaders,
      streaming: (values.get('content-type') ?? '').includes('text/event-stream'),
    };
    const response = this.response;
    if (this.rootLog.isLevelEnabled('debug')) this.log.debug({ headers: loggableHeaders(values) }, 'response headers');
    const stop = await this.runHook('responseHeaders', () => Object.assign(this.headersCtx('responseHeaders', this.responseHeaders), { response }));
    if (stop) return this.stop(stop);

    if (!msg.endOfStream) this.responseBodyMode = this.chooseResponseBodyMode(response);
    if (this.responseBodyMode === BodyMode.NONE) this.complete = true;
    if (this.responseBodyMode === BodyMode.STREAMED && response.streaming && this.chain.some((p) => p.hooks.responseEvent && !this.skipResponseBody.has(p))) {
      this.sse = new SseParser();
    }
    const changes = this.takeChanges(this.responseHeaders);
    return {
      response: { $case: 'responseHeaders', value: { response: common(changes) } },
      modeOverride: this.responseBodyMode === BodyMode.NONE ? undefined : modeOverride(BodyMode.NONE, this.responseBodyMode),
    };
  }

  private async onResponseBody(msg: HttpBody): Promise<ProcessingResponse> {
    if (msg.endOfStream) this.complete = true;
    if (this.responseBodyMode === BodyMode.BUFFERED) return this.onBufferedResponseBody(msg);
    // Only when the chain streams the body anyway: timing it never adds a round trip.
    this.firstChunkAt ??= performance.now();
    const chunk = await this.onStreamedChunk(msg);
    return { response: { $case: 'responseBody', value: { response: common(new Map(), { body: chunk }) } } };
  }

  private async onBufferedResponseBody(msg: HttpBody): Promise<ProcessingResponse> {
    const body = new BodyBuffer(msg.body, 'response');
    const response = this.response as ResponseInfo;
    const stop = await this.runHook('responseBody', () =>
      withBody(Object.assign(this.headersCtx('responseBody', this.responseHeaders), { response }), body),
    );
    if (stop) return this.stop(stop);
    // Chunk hooks see every byte that reaches the client; here that is the whole body, once.
    const chunk = await this.runChunkHooks(body.body, true);
    let newBody: Buffer | undefined;
    if (body.replaced || chunk) {
      newBody = chunk ?? body.body;
      this.responseHeaders.set('content-length', String(newBody.length));
    }
    const changes = this.takeChanges(this.responseHeaders);
    return { response: { $case: 'responseBody', value: { response: common(changes, { body: newBody }) } } };
  }

  /** Returns the replacement for this chunk, or undefined to pass it through untouched. */
  private async onStreamedChunk(msg: HttpBody): Promise<Buffer | undefined> {
    const replacedChunk = await this.runChunkHooks(msg.body, msg.endOfStream);
    const chunk = replacedChunk ?? msg.body;
    if (!this.sse) return replacedChunk;

    // Events leave in whole: the tail of a chunk waits for the chunk that completes its event.
    let out = '';
    for (const { event, raw } of this.sse.feed(chunk)) {
      const next = await this.runEventHooks(event);
      if (next === undefined) out += raw;
      else if (next !== null) out += serializeEvent(next);
    }
    if (msg.endOfStream) out += this.sse.flush();
    const input = chunk.toString('utf8');
    if (replacedChunk === undefined && out === input) return undefined;
    return Buffer.from(out);
  }

  /** Runs `responseChunk` hooks; returns the replacement chunk if any hook replaced it. */
  private async runChunkHooks(original: Buffer, endOfStream: boolean): Promise<Buffer | undefined> {
    const response = this.response as ResponseInfo;
    let chunk = original;
    let replaced = false;
    await this.runHook(
      'responseChunk',
      () =>
        Object.assign(this.baseCtx('responseChunk'), {
          response,
          chunk,
          endOfStream,
          replaceChunk(next: Buffer | string) {
            chunk = typeof next === 'string' ? Buffer.from(next) : next;
            replaced = true;
          },
        }),
      { streamed: true },
    );
    return replaced ? chunk : undefined;
  }

  /** Runs `responseEvent` hooks on one event: undefined = unchanged, null = dropped, else the replacement. */
  private async runEventHooks(original: SseEvent): Promise<SseEvent | null | undefined> {
    const response = this.response as ResponseInfo;
    let current: SseEvent | null = original;
    let changed = false;
    const done = original.data === '[DONE]';
    await this.runHook(
      'responseEvent',
      () => {
        const event = current as SseEvent;
        return Object.assign(this.baseCtx('responseEvent'), {
          response,
          event,
          done,
          json<T>(): T | undefined {
            if (event.data === '[DONE]') return undefined;
            try {
              return JSON.parse(event.data) as T;
            } catch {
              return undefined;
            }
          },
          replaceEvent(next: SseEvent | null) {
            current = next === null ? null : { ...next };
            changed = true;
          },
        });
      },
      // A dropped event is gone: later plugins have nothing to look at.
      { streamed: true, until: () => current === null },
    );
    return changed ? current : undefined;
  }

  // ---- routing ------------------------------------------------------------------------------

  /** Asks each plugin with a `requestBody` hook; the ones that say no are skipped for this request. */
  private needsRequestBody(): boolean {
    const request = this.request as RequestInfo;
    let needed = false;
    for (const p of this.chain) {
      if (!p.hooks.requestBody) continue;
      const need = p.hooks.needs?.requestBody ?? true;
      if (this.askNeed(p, 'requestBody', () => (typeof need === 'function' ? need(request, this.route, this.vars) : need))) needed = true;
      else this.skipRequestBody.add(p);
    }
    return needed;
  }

  /**
   * The cheapest body mode that serves the hooks still wanted: SSE streams stay STREAMED
   * (never buffered whole), a whole-body hook on anything else means BUFFERED.
   */
  private chooseResponseBodyMode(response: ResponseInfo): BodyMode {
    const request = this.request as RequestInfo;
    const wanted = this.chain.filter((p) => {
      if (!p.hooks.responseBody && !p.hooks.responseChunk && !p.hooks.responseEvent) return false;
      const need = p.hooks.needs?.responseBody ?? true;
      if (this.askNeed(p, 'responseBody', () => (typeof need === 'function' ? need(response, request, this.vars) : need))) return true;
      this.skipResponseBody.add(p);
      return false;
    });
    const chunks = anyHas(wanted, 'responseChunk');
    if (response.streaming) return chunks || anyHas(wanted, 'responseEvent') ? BodyMode.STREAMED : BodyMode.NONE;
    if (anyHas(wanted, 'responseBody')) return BodyMode.BUFFERED;
    return chunks ? BodyMode.STREAMED : BodyMode.NONE;
  }

  /** A `needs` function that throws is a bug in the plugin: log it and assume the phase is needed. */
  private askNeed(plugin: PluginInstance, phase: string, ask: () => boolean): boolean {
    try {
      return ask();
    } catch (err) {
      this.log.error({ plugin: plugin.name, hook: `needs.${phase}`, err }, 'plugin needs() failed; assuming the phase is needed');
      return true;
    }
  }

  /** Validates and records hints; unknown models and versions are the client's 404, never a fall-through. */
  private setRoute(hints: RouteHints): void {
    const protocol = this.request?.protocol;
    if (hints.model !== undefined && hints.model !== this.route.model) {
      if (this.joinedModel !== undefined) {
        throw new PluginError(500, 'route_conflict', `model already resolved to "${this.joinedModel}"`, { expose: false });
      }
      const model = this.runtime.catalog.get(hints.model);
      if (!model) {
        throw new PluginError(404, GatewayErrorCodes.modelNotFound, `The model '${hints.model}' does not exist`, {
          param: protocol === 'openai' ? 'model' : undefined,
        });
      }
      this.route.model = hints.model;
    }
    if (hints.version !== undefined) {
      const modelName = this.route.model;
      const model = modelName === undefined ? undefined : this.runtime.catalog.get(modelName);
      if (!model) throw new PluginError(500, 'route_incomplete', 'a version was set before the model', { expose: false });
      const alias = model.aliases[hints.version];
      const version = alias ?? hints.version;
      if (!model.versions.includes(version)) {
        throw new PluginError(404, GatewayErrorCodes.versionNotFound, `Model '${model.name}' has no version or alias '${hints.version}'`);
      }
      this.route.version = version;
      if (alias !== undefined) this.route.reason = hints.reason ?? `alias:${hints.version}`;
    }
    if (hints.reason !== undefined && this.route.reason === undefined) this.route.reason = hints.reason;
    if (hints.variant !== undefined) this.route.variant = hints.variant;
    if (hints.experiment !== undefined) this.route.experiment = hints.experiment;
    if (hints.shadow !== undefined) this.route.shadow = this.knownVersion(hints.shadow, 'shadow');
    if (hints.fallback !== undefined) this.route.fallback = this.knownVersion(hints.fallback, 'fallback');
    this.joinModelChain();
  }

  /** Shadow and fallback come from the config, never from the client: a bad one is our bug. */
  private knownVersion(version: string, what: string): string {
    const model = this.route.model === undefined ? undefined : this.runtime.catalog.get(this.route.model);
    if (!model?.versions.includes(version)) {
      throw new PluginError(500, 'route_invalid', `${what} version "${version}" is not a version of the model`, { expose: false });
    }
    return version;
  }

  /**
   * Envoy's route stamps the version of the endpoint that answered. When it is the fallback,
   * the route records that, so the client is told who really served it. The header never
   * reaches the client.
   */
  private noteServedVersion(served: string | undefined): void {
    if (served === undefined) return;
    this.responseHeaders.remove(UPSTREAM_VERSION_HEADER);
    const { model, version } = this.route;
    if (model === undefined || version === undefined || served === version) return;
    if (served !== this.route.fallback) return;
    this.route.fallbackFrom = version;
    this.route.version = served;
  }

  /** Once the model is known its own chain runs after the global one. */
  private joinModelChain(): void {
    const model = this.route.model;
    if (model === undefined || this.joinedModel !== undefined) return;
    this.joinedModel = model;
    const extra = (this.runtime.modelChains.get(model) ?? []).filter((p) => appliesTo(p, this.request?.protocol));
    if (extra.length === 0) return;
    this.chain = [...this.chain, ...extra];
    if (this.phaseReached !== 'requestHeaders') this.lateJoiners = extra;
  }

  /** At the last request phase: pick the version if nobody did, and point Envoy at its cluster. */
  private finishRouting(): { changed: boolean } | Stop {
    const model = this.route.model;
    if (model === undefined) return { changed: false };
    if (this.route.version === undefined) {
      const fallback = this.runtime.catalog.get(model)?.defaultVersion;
      if (fallback !== undefined) {
        this.route.version = fallback;
        this.route.reason ??= 'default';
      }
    }
    const { version, fallback, shadow } = this.route;
    const cluster = version === undefined ? undefined : this.runtime.cluster(model, version, fallback);
    if (!cluster || version === undefined) return { changed: false };
    this.requestHeaders.set(CLUSTER_HEADER, cluster);
    const mirror = shadow === undefined || shadow === version ? undefined : this.runtime.cluster(model, shadow);
    if (mirror) this.requestHeaders.set(SHADOW_HEADER, mirror);
    return { changed: true };
  }

  // ---- running hooks ------------------------------------------------------------------------

  private phaseReached: HookName = 'requestHeaders';

  /**
   * Calls `hook` on each plugin of the chain, in order, until one stops the request.
   * `streamed` hooks run after the status went out: they cannot stop anything, and a failure
   * is logged and skipped so the rest of the chain still sees the chunk.
   */
  private async runHook(
    hook: HookName,
    makeCtx: () => object,
    opts: { streamed?: boolean; until?: () => boolean } = {},
  ): Promise<Stop | undefined> {
    // One context per phase, shared by the plugins (it reads through to live state); streamed
    // hooks get a fresh one per plugin because it carries the (maybe replaced) chunk or event.
    let shared: object | undefined;
    this.phaseReached = hook;
    const skip = hook === 'requestBody' ? this.skipRequestBody : hook.startsWith('response') && hook !== 'responseHeaders' ? this.skipResponseBody : undefined;
    // The chain can grow while it runs (the model's plugins join once a plugin names the model).
    for (let i = 0; i < this.chain.length; i++) {
      const plugin = this.chain[i] as PluginInstance;
      if (this.lateJoiners.includes(plugin)) {
        this.lateJoiners = this.lateJoiners.filter((p) => p !== plugin);
        if (plugin.hooks.requestHeaders && hook !== 'requestHeaders') {
          const stop = await this.invoke(plugin, 'requestHeaders', this.headersCtx('requestHeaders', this.requestHeaders));
          if (stop) return stop;
        }
      }
      if (!plugin.hooks[hook] || skip?.has(plugin)) continue;
      const ctx = opts.streamed ? makeCtx() : (shared ??= makeCtx());
      const stop = await this.invoke(plugin, hook, ctx, opts.streamed ?? false);
      if (stop && !opts.streamed) return stop;
      if (opts.until?.()) break;
    }
    return undefined;
  }

  private async invoke(plugin: PluginInstance, hook: HookName, ctx: object, streamed = false): Promise<Stop | undefined> {
    const fn = plugin.hooks[hook] as ((c: object) => unknown) | undefined;
    if (!fn) return undefined;
    this.runningPlugin = plugin;
    this.runningHook = hook;
    let timer: NodeJS.Timeout | undefined;
    try {
      let result = fn.call(plugin.hooks, ctx);
      if (result instanceof Promise) {
        result = await Promise.race([
          result,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new PluginError(500, GatewayErrorCodes.pluginTimeout, `${plugin.name}.${hook} timed out after ${plugin.timeoutMs} ms`, { expose: false })),
              plugin.timeoutMs,
            );
          }),
        ]);
      }
      if (!isRespond(result)) return undefined;
      if (streamed) {
        this.log.warn({ plugin: plugin.name, hook }, 'a streamed-body hook returned a response; ignored (the status is already sent)');
        return undefined;
      }
      return { respond: result, by: plugin.name };
    } catch (err) {
      return this.pluginFailed(plugin, hook, err, streamed);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private pluginFailed(plugin: PluginInstance, hook: HookName, err: unknown, streamed: boolean): Stop | undefined {
    if (PluginError.is(err) && err.expose && !streamed) {
      return {
        respond: this.fail(err.status, err.message, { code: err.code, param: err.param, headers: err.headers }),
        by: plugin.name,
        code: err.code,
      };
    }
    const code = PluginError.is(err) ? err.code : GatewayErrorCodes.pluginError;
    const errorId = randomBytes(6).toString('hex');
    const failOpen = plugin.failOpen || streamed;
    this.observer.pluginError?.(plugin.name, hook, code === GatewayErrorCodes.pluginTimeout ? 'timeout' : 'error');
    this.log.error(
      { plugin: plugin.name, type: plugin.type, hook, errorId, code, failOpen, err },
      streamed ? 'plugin failed on a streamed body; chunk passed on unchanged' : failOpen ? 'plugin failed; skipped (fail-open)' : 'plugin failed; request answered 500',
    );
    if (failOpen) return undefined;
    return {
      respond: this.fail(500, `Internal error in the gateway (error id ${errorId})`, {
        code,
        headers: { 'x-gateway-error-id': errorId },
      }),
      by: plugin.name,
      code,
    };
  }

  private stop(stop: Stop): ProcessingResponse {
    this.outcome.status = stop.respond.status;
    this.outcome.answeredBy = stop.by;
    this.complete = true;
    const code = stop.code ?? errorCodes.get(stop.respond);
    if (code) this.outcome.errorCode = code;
    else if (stop.respond.status >= 400) this.outcome.errorCode = `http_${stop.respond.status}`;
    return immediate(stop.respond, `${GATEWAY_REPLY_DETAILS_PREFIX}${stop.by}`);
  }

  private takeChanges(headers: HeaderSet): Map<string, string | null> {
    const changes = new Map(headers.changes);
    headers.changes.clear();
    return changes;
  }

  // ---- contexts -----------------------------------------------------------------------------

  private get signal(): AbortSignal {
    this.abortController ??= new AbortController();
    if (this.ended) this.abortController.abort();
    return this.abortController.signal;
  }

  /**
   * The context of one phase, shared by the plugins it runs (built once per phase: per-plugin
   * wrapper objects were the largest item of our own code in the profile). `log` is tagged with
   * the plugin whose hook is running when it is read; hooks run one at a time, so only work a
   * plugin leaves running after its hook returned could be tagged with a later plugin.
   */
  private baseCtx<P extends string>(phase: P): BaseContext & { phase: P } {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      phase,
      get log() {
        return self.pluginLog();
      },
      request: this.request as RequestInfo,
      get signal() {
        return self.signal;
      },
      route: this.route,
      setRoute: (hints) => this.setRoute(hints),
      vars: this.vars,
      models: this.runtime.catalog,
      respond: respondFrom,
      fail: (status, message, details) => this.fail(status, message, details),
    };
  }

  private headersCtx<P extends string>(phase: P, headers: HeaderMutator) {
    // Object.assign, not a spread: a spread would call the lazy `signal` getter.
    return Object.assign(this.baseCtx(phase), { headers });
  }

  private runningPlugin: PluginInstance | undefined;
  private runningHook: HookName | 'end' | undefined;

  /** A logger tagged with the running plugin and hook, made only when a plugin logs. */
  private pluginLog(): Logger {
    const plugin = this.runningPlugin;
    if (!plugin) return this.log;
    // One child straight off the root (not a child of the request's child): plugins that only
    // debug-log on every request pay for one pino child, not two.
    return this.rootLog.child({ reqId: this.request?.id, plugin: plugin.name, hook: this.runningHook });
  }

  private fail(status: number, message: string, details: ErrorDetails = {}): Respond {
    const body = errorBody(this.request?.protocol, status, message, details);
    const respond = respondFrom({
      status,
      json: body,
      headers: { ...details.headers, 'x-request-id': this.request?.id ?? '' },
    });
    if (details.code !== undefined) errorCodes.set(respond, details.code);
    return respond;
  }

  // ---- end ----------------------------------------------------------------------------------

  /** Runs every `end` hook exactly once, whatever happened. Never throws. */
  async end(cancelled: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outcome.cancelled = cancelled;
    this.abortController?.abort();
    const elapsedMs = performance.now() - this.startedAt;
    if (this.request) {
      const endCtx: EndContext = Object.assign(this.baseCtx('end'), {
        response: this.response,
        outcome: this.outcome,
        elapsedMs,
      });
      for (const plugin of this.chain) {
        const hook = plugin.hooks.end;
        if (!hook) continue;
        this.runningPlugin = plugin;
        this.runningHook = 'end';
        try {
          const result = hook.call(plugin.hooks, endCtx);
          // Only async hooks need a timer; a sync one has already finished.
          if (result instanceof Promise) await withTimeout(result, plugin.timeoutMs);
        } catch (err) {
          this.observer.pluginError?.(plugin.name, 'end', err instanceof HookTimeout ? 'timeout' : 'error');
          this.log.error({ plugin: plugin.name, hook: 'end', err }, 'end hook failed');
        }
      }
    }
    this.observer.finished?.({
      request: this.request,
      route: this.route,
      vars: this.vars,
      response: this.response,
      outcome: this.outcome,
      elapsedMs,
      responseHeadersMs: this.responseHeadersAt === undefined ? undefined : this.responseHeadersAt - this.startedAt,
      firstChunkMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.startedAt,
      processingMs: this.processingMs,
    });
  }
}

/** Adds the shared body to a context; `body` stays a getter so each read sees the latest replacement. */
function withBody<T extends object>(ctx: T, body: BodyBuffer): T {
  Object.defineProperty(ctx, 'body', { get: () => body.body, enumerable: true });
  return Object.assign(ctx, {
    json: (schema?: Parameters<BodyBuffer['json']>[0]) => body.json(schema),
    replaceBody: (b: Buffer | string) => body.replaceBody(b),
    replaceJson: (v: unknown) => body.replaceJson(v),
  });
}

/** The stable code of each error made by `ctx.fail`, so metrics and logs can name the rejection. */
const errorCodes = new WeakMap<Respond, string>();

function isRespond(value: unknown): value is Respond {
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

export type { PluginHooks };
