/**
 * Test harness for plugin authors: runs a plugin, or a whole chain, against synthetic
 * requests and responses without Envoy. It drives the gateway's real StreamProcessor with
 * the ext_proc messages Envoy would send (./envoy-sim.ts, the one Envoy
 * simulator in this repository), so what passes here is
 * what runs in production.
 *
 *   import { createTestGateway } from '@inference-gateway/sdk/testing';
 *   const gw = await createTestGateway({ plugins: [{ plugin: myPlugin, options: {...} }], models: exampleModels });
 *   const res = await gw.request({ path: '/v2/models/sentiment/infer', json: {...} }, { upstream: { json: {...} } });
 *   expect(res.upstream?.json()).toEqual(...);
 */
import { Writable } from 'node:stream';
import { builtinPlugins } from '../index.js';
import { GatewayConfigSchema, TrafficSchema, type GatewayConfigInput, type PluginInstanceConfig } from '../../ext-proc/config/schema.js';
import { ConfigError, formatIssues } from '../../ext-proc/config/load.js';
import { simulateExchange, type SimMessage, type SimPhase, type SimRequest, type SimResponse, type SimUpstream, type SimUpstreamRequest } from './envoy-sim.js';
import { createLogger } from '../../ext-proc/logger.js';
import type { LevelWithSilent, Logger } from 'pino';
import type { PluginRegistry } from '../../ext-proc/registry.js';
import { buildRuntime, type Runtime } from '../../ext-proc/runtime.js';
import { StreamProcessor, type RequestObserver, type RequestSummary } from '../../ext-proc/stream.js';
import { SseParser } from '../../ext-proc/pipeline/sse.js';
import type { z } from 'zod';
import type { PluginDef, Protocol, RequestOutcome, RequestVars, RouteHints, SseEvent } from './types.js';

export type { SimMessage as ExchangeMessage, SimResponse as UpstreamResponse };

/** A plugin in a test chain: a definition (options default to `{}`), a registered type name, or a full instance. */
export type TestPlugin =
  | PluginDef
  | string
  | { plugin: PluginDef | string; name?: string; options?: unknown; timeoutMs?: number; failOpen?: boolean };

export interface TestModel {
  protocol: Protocol;
  /** Default `['v1']`. */
  versions?: readonly string[];
  /** `host:port` of each version's model servers, for plugins that read model metadata; default 127.0.0.1:1 (nothing listens). */
  endpoints?: Readonly<Record<string, readonly string[]>>;
  aliases?: Readonly<Record<string, string>>;
  defaultVersion?: string;
  weights?: Readonly<Record<string, number>>;
  /** The model's full traffic policy as in the gateway config (weights, sticky key, shadow, fallback...). */
  traffic?: z.input<typeof TrafficSchema>;
  /** This model's chain. */
  plugins?: readonly TestPlugin[];
}

export interface TestGatewayOptions {
  /**
   * The global chain, in order. The core routes after it (before the models' chains); list
   * `'model-router'` before your plugin to have the routing step run there instead, when your
   * plugin reads `ctx.route` in the global chain.
   */
  plugins?: readonly TestPlugin[];
  models?: Readonly<Record<string, TestModel>>;
  /** Plugin types to register besides the built-ins, for chains that refer to them by type name. */
  types?: readonly PluginDef[];
  /** Directory plugins resolve relative option paths against (`host.configDir`). */
  configDir?: string;
  /** The config's `tracing:` section, to test what the gateway exports. */
  tracing?: GatewayConfigInput['tracing'];
  /** Log level of the gateway and plugins while the test runs (default `debug`). */
  logLevel?: LevelWithSilent;
  /**
   * Observes every request as the ext-proc's metrics and access log do; given the gateway's
   * logger so an access log lands in `logs`.
   */
  observe?: (log: Logger) => RequestObserver;
}

/** The demo models of examples/gateway.yaml, for tests that want realistic routing. */
export const exampleModels: Readonly<Record<string, TestModel>> = {
  sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'], aliases: { stable: 'v1', canary: 'v2' } },
  tinylm: { protocol: 'openai', versions: ['v1'] },
  iris: { protocol: 'tfserving', versions: ['1'], aliases: { stable: '1' } },
};

/** What the model server received: method, path, headers, body, and the cluster Envoy chose. */
export type UpstreamRequest = TestBody & Omit<SimUpstreamRequest, 'body'>;

export interface ExchangeOptions {
  /** The model server's answer, or a function of what it received. Default: 200 `{}`. */
  upstream?: SimResponse | ((request: UpstreamRequest) => SimResponse | Promise<SimResponse>);
  /** The client goes away after Envoy got the answer to this phase. */
  cancelAfter?: SimPhase;
  /** See SimOptions.streamEnd. */
  streamEnd?: 'separate' | 'last-chunk';
  /** See SimOptions.readsBodyModel: false for an Envoy that does not read OpenAI bodies (Envoy Gateway). */
  envoyReadsBodyModel?: boolean;
}

export interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  plugin?: string;
  hook?: string;
  [key: string]: unknown;
}

export interface TestBody {
  readonly body: Buffer;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface TestResult extends TestBody {
  /** What the client got: status, headers, body (the gateway's own answer or the model's). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as the client received it, chunk by chunk (one entry when not streamed). */
  readonly chunks: readonly string[];
  /** The client's body parsed as SSE events (reassembled across chunks). */
  readonly events: readonly SseEvent[];
  /** Set when the gateway answered itself: a plugin stopped the request, or failed. */
  readonly immediate: (TestBody & { status: number; headers: Readonly<Record<string, string>> }) | undefined;
  /** What the model server received; undefined when the request never reached one. */
  readonly upstream: UpstreamRequest | undefined;
  /** Routing hints at the end of the request, and the cluster Envoy was pointed at. */
  readonly route: Readonly<RouteHints>;
  readonly vars: RequestVars;
  readonly outcome: RequestOutcome;
  /** Every message Envoy sent and what came back, in order: the round trips this request cost. */
  readonly messages: readonly SimMessage[];
  /** The ext_proc phases Envoy sent, e.g. `['requestHeaders', 'responseHeaders']`. */
  readonly phases: readonly SimPhase[];
  /** Body modes after the processor's mode overrides (`NONE`, `BUFFERED`, `STREAMED`). */
  readonly modes: { readonly requestBody: string; readonly responseBody: string };
  /** Header mutations Envoy's default rules would drop. */
  readonly rejectedMutations: readonly string[];
  /** Log lines written while this request ran (the gateway's and the plugins'). */
  readonly logs: readonly LogLine[];
}

export interface TestGateway {
  request(request: SimRequest, opts?: ExchangeOptions): Promise<TestResult>;
  /** Every log line so far, including set-up. */
  readonly logs: readonly LogLine[];
  /** Plugin types of the global chain as the gateway built it, in order. */
  readonly chain: readonly string[];
  /** Stops the plugins and flushes exporters (traces). */
  close(): Promise<void>;
}

function body(bytes: Buffer): TestBody {
  return {
    body: bytes,
    get text() {
      return bytes.toString('utf8');
    },
    json<T>() {
      return JSON.parse(bytes.toString('utf8')) as T;
    },
  };
}

function upstreamView(r: SimUpstreamRequest): UpstreamRequest {
  return { ...body(r.body), method: r.method, path: r.path, headers: r.headers, cluster: r.cluster };
}

function sseEvents(chunks: readonly Buffer[]): SseEvent[] {
  const parser = new SseParser();
  const events = chunks.flatMap((c) => parser.feed(c).map((p) => p.event));
  return events;
}

/**
 * A gateway in a box: the real config validation (options errors name the instance and
 * field), the real chain building and the real per-request processor; only Envoy and the
 * model servers are imitated.
 */
export async function createTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const log = createLogger(opts.logLevel ?? 'debug', sink);
  const observer = opts.observe?.(log);

  const byType = new Map<string, PluginDef>(builtinPlugins.map((d) => [d.type, d]));
  const register = (def: PluginDef) => {
    const known = byType.get(def.type);
    if (known && known !== def) throw new ConfigError(`plugin type "${def.type}" is registered twice with different definitions`);
    byType.set(def.type, def);
  };
  for (const def of opts.types ?? []) register(def);
  const instance = (p: TestPlugin): PluginInstanceConfig | Record<string, unknown> => {
    if (typeof p === 'string') return { type: p };
    if ('setup' in p) {
      register(p);
      return { type: p.type };
    }
    const type = typeof p.plugin === 'string' ? p.plugin : (register(p.plugin), p.plugin.type);
    return { type, name: p.name, options: p.options, timeoutMs: p.timeoutMs, failOpen: p.failOpen };
  };

  const models: NonNullable<GatewayConfigInput['models']> = {};
  for (const [name, m] of Object.entries(opts.models ?? {})) {
    models[name] = {
      protocol: m.protocol,
      versions: Object.fromEntries((m.versions ?? ['v1']).map((v) => [v, { endpoints: [...(m.endpoints?.[v] ?? ['127.0.0.1:1'])] }])),
      aliases: { ...m.aliases },
      defaultVersion: m.defaultVersion,
      traffic: m.traffic ?? (m.weights ? { weights: { ...m.weights } } : undefined),
      plugins: (m.plugins ?? []).map(instance) as GatewayConfigInput['plugins'],
    };
  }
  const parsed = GatewayConfigSchema.safeParse({ plugins: (opts.plugins ?? []).map(instance), models, tracing: opts.tracing });
  if (!parsed.success) throw new ConfigError(`invalid test gateway config:\n${formatIssues(parsed.error.issues)}`);
  const registry: PluginRegistry = { get: (t) => byType.get(t), types: () => [...byType.keys()].sort() };
  const configDir = opts.configDir ?? process.cwd();
  const runtime: Runtime = await buildRuntime({ config: parsed.data, hash: 'test', path: `${configDir}/gateway.yaml` }, registry, log);

  return {
    logs: lines,
    chain: runtime.globalChain.map((p) => p.type),
    close: () => runtime.close(),
    async request(request, exchange = {}) {
      let summary: RequestSummary | undefined;
      const processor = new StreamProcessor(runtime, log, {
        ...observer,
        finished: (s) => {
          summary = s;
          observer?.finished?.(s);
        },
      });
      const from = lines.length;
      const planned = exchange.upstream ?? { json: {} };
      const upstream: SimUpstream = typeof planned === 'function' ? (r) => planned(upstreamView(r)) : planned;
      const sim = await simulateExchange(processor, request, upstream, {
        // `model@version`, or `model@version~fallback` for a version with a fallback.
        hasCluster: (cluster) => {
          const m = /^(.+)@([^@~]+)(?:~(.+))?$/.exec(cluster);
          return m !== null && runtime.cluster(m[1] as string, m[2] as string, m[3]) === cluster;
        },
        cancelAfter: exchange.cancelAfter,
        streamEnd: exchange.streamEnd,
        readsBodyModel: exchange.envoyReadsBodyModel,
      });
      const s = summary as RequestSummary;
      const client = body(sim.client.body);
      return {
        ...client,
        status: sim.client.status,
        headers: sim.client.headers,
        chunks: sim.client.chunks.map((c) => c.toString('utf8')),
        events: sseEvents(sim.client.chunks),
        immediate: sim.immediate && { ...body(sim.immediate.body), status: sim.immediate.status, headers: sim.immediate.headers },
        upstream: sim.upstream && upstreamView(sim.upstream),
        route: { ...s.route },
        vars: s.vars,
        outcome: { ...s.outcome },
        messages: sim.messages,
        phases: sim.messages.map((m) => m.phase),
        modes: sim.modes,
        rejectedMutations: sim.rejectedMutations,
        logs: lines.slice(from),
      };
    },
  };
}

/** One plugin alone in the global chain, for quick tests; with `router` the core's routing step runs before it (it runs after it otherwise). */
export function testPlugin(
  plugin: PluginDef,
  options: unknown = {},
  extra: Omit<TestGatewayOptions, 'plugins'> & { router?: boolean } = {},
): Promise<TestGateway> {
  const chain: TestPlugin[] = [{ plugin, options }];
  if (extra.router) chain.unshift('model-router');
  return createTestGateway({ ...extra, plugins: chain });
}
