// The bench's targets: what each one runs and what request it is sent. Every target answers the
// same upstream; "ours" targets run Envoy with the gateway's own rendered config and our ext-proc.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../ext-proc/config/load.js';
import { clusterName, type GatewayConfigInput } from '../ext-proc/config/schema.js';
import { BODY_LENGTH_HEADER, CLUSTER_HEADER, SHADOW_HEADER } from '../plugins/sdk/wire.js';
import { EXT_PROC_CLUSTER, renderEnvoyConfig } from '../envoy/render.js';
import { REPO_ROOT } from '../scripts/envoy-bin.js';
import { freePort } from '../scripts/stack/processes.js';
import { startRedis, STACK_REDIS_URL_ENV, type RedisHandle } from '../scripts/stack/redis.js';
import { body, floorEnvoy, FLOOR_CLUSTER, fullChainHeaders, plainEnvoy, withExtProcStreamsPerConnection } from './configs.js';
import { startEnvoy, startExtProc, startFloor, waitHealthy, type Proc } from './procs.js';

export type TargetKind = 'plain' | 'floor' | 'headers' | 'body' | 'full' | 'full-redis' | 'full-unpipelined' | 'full-envoy';
export const TARGET_KINDS: readonly TargetKind[] = ['plain', 'floor', 'headers', 'body', 'full', 'full-redis', 'full-unpipelined', 'full-envoy'];
/** What `npm run bench` runs without --targets: the targets (the rest are for a before/after). */
export const DEFAULT_TARGETS: readonly TargetKind[] = ['plain', 'floor', 'headers', 'body', 'full', 'full-redis'];

const TITLES: Record<TargetKind, string> = {
  plain: 'plain Envoy',
  floor: 'floor: plain Envoy + no-op Go ext_proc',
  headers: 'ours, headers only',
  body: 'ours, buffered body + usage',
  full: 'ours, full example chain',
  'full-redis': 'ours, full example chain + limits in Redis',
  'full-unpipelined': 'ours, full example chain, bodies not pipelined',
  'full-envoy': "the full chain's Envoy (its config) + the no-op Go ext_proc, routing only",
};

export interface Target {
  /** Unique in a run: the kind, plus the transport for "ours" targets run once per transport. */
  key: string;
  kind: TargetKind;
  title: string;
  /** GATEWAY_EXT_PROC_TRANSPORT for our ext-proc; undefined leaves the default. */
  transport?: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

export const isOurs = (k: TargetKind) => k !== 'plain' && k !== 'floor' && k !== 'full-envoy';
/** Targets whose ext_proc is the floor's Go program. */
export const usesFloor = (k: TargetKind) => k === 'floor' || k === 'full-envoy';

/** The targets of a run, in run order; "ours" ones once per transport when transports are given. */
export function targetList(kinds: readonly TargetKind[], transports: readonly string[]): Target[] {
  const openai = body('openai', 'bench');
  const json = { 'content-type': 'application/json' };
  const request: Record<TargetKind, Pick<Target, 'path' | 'body' | 'headers'>> = {
    plain: { path: '/v1/chat/completions', body: openai, headers: json },
    floor: { path: '/v1/chat/completions', body: openai, headers: json },
    // kserve-v2 names the model in the path: the ext-proc sees request and response headers only.
    headers: { path: '/v2/models/bench/versions/v1/infer', body: body('v2', 'bench'), headers: json },
    body: { path: '/v1/chat/completions', body: openai, headers: json },
    full: { path: '/v1/chat/completions', body: body('openai', 'tinylm'), headers: { ...json, ...fullChainHeaders() } },
    'full-unpipelined': { path: '/v1/chat/completions', body: body('openai', 'tinylm'), headers: { ...json, ...fullChainHeaders() } },
    'full-redis': { path: '/v1/chat/completions', body: body('openai', 'tinylm'), headers: { ...json, ...fullChainHeaders() } },
    'full-envoy': { path: '/v1/chat/completions', body: body('openai', 'tinylm'), headers: { ...json, ...fullChainHeaders() } },
  };
  return kinds.flatMap((kind): Target[] => {
    const base = { kind, ...request[kind] };
    if (!isOurs(kind) || transports.length === 0) return [{ ...base, key: kind, title: TITLES[kind] }];
    return transports.map((t) => ({ ...base, key: `${kind}@${t}`, title: `${TITLES[kind]} [${t}]`, transport: t }));
  });
}

const endpoint = (port: number) => ({ endpoints: [`127.0.0.1:${port}`], healthCheck: { path: '/health', intervalMs: 1000 } });

/** The gateway config of an "ours" target (and of plain Envoy and the floor, which reuse its model cluster). */
export async function gatewayConfig(kind: TargetKind, upstreamPort: number): Promise<GatewayConfigInput> {
  if (kind === 'full-redis') return withLimitsInRedis(await gatewayConfig('full', upstreamPort));
  // The full chain as before session 7: four ext_proc round trips, two per direction.
  if (kind === 'full-unpipelined') {
    const c = await gatewayConfig('full', upstreamPort);
    return { ...c, envoy: { ...c.envoy, pipelineBodies: false } };
  }
  if (kind === 'full') {
    const example = parse(await readFile(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8')) as GatewayConfigInput;
    for (const m of Object.values(example.models)) for (const v of Object.values(m.versions)) Object.assign(v, endpoint(upstreamPort));
    return example;
  }
  if (kind === 'headers') return { plugins: [{ type: 'model-router' }], models: { bench: { protocol: 'kserve-v2', versions: { v1: endpoint(upstreamPort) } } } };
  // Model from the buffered request body, token usage from the buffered response: the Go peer's work.
  return { plugins: [{ type: 'model-router' }, { type: 'openai-usage' }], models: { bench: { protocol: 'openai', versions: { v1: endpoint(upstreamPort) } } } };
}

/**
 * The full chain with its `consumer-limits` instance in Redis (`store: redis`, a local
 * redis-server started with the target): against `full`, what the shared store adds per request
 * (one admission script and one pipelined release for the demo consumer; docs/limits.md).
 * A generous wait and hook budget: the bench measures Redis, not the failure policy (503s
 * `limits_store_unavailable` in the counts would say it was hit all the same).
 */
function withLimitsInRedis(config: GatewayConfigInput): GatewayConfigInput {
  for (const p of config.plugins ?? []) {
    if (p.type !== 'consumer-limits') continue;
    p.options = { ...(p.options as object), store: 'redis', redis: { urlEnv: STACK_REDIS_URL_ENV, timeoutMs: 500, onFailure: 'closed' } };
    p.timeoutMs = 900;
  }
  return config;
}

/** Everything a target needs from the run to start. */
export interface RunContext {
  envoyBin: string;
  workDir: string;
  upstreamPort: number;
  envoyConcurrency: number;
  /** The ext-proc bundle; undefined runs it through tsx. */
  bundle?: string;
  floorBin?: string;
  extProcEnv: Record<string, string>;
  nodeArgs: string[];
  /** Overrides the ext_proc cluster's streams per connection (0: no limit); undefined keeps render.ts's. */
  streamsPerConnection?: number;
}

export interface Running {
  url: string;
  envoyAdmin: number;
  envoy: Proc;
  /** Our ext-proc or the floor's Go one. */
  extProc?: Proc;
  /** Our ext-proc's /metrics port. */
  metricsPort?: number;
  /** The cluster Envoy sends ext_proc streams to. */
  extProcCluster?: string;
  stop(): Promise<void>;
}

function withPorts(config: GatewayConfigInput, listen: number, admin: number, grpc: number, http: number): GatewayConfigInput {
  const c = structuredClone(config);
  c.envoy = { ...c.envoy, listener: { host: '127.0.0.1', port: listen }, admin: { host: '127.0.0.1', port: admin } };
  c.extProc = { ...c.extProc, host: '127.0.0.1', port: grpc, http: { host: '127.0.0.1', port: http } };
  return c;
}

export async function startTarget(t: Target, ctx: RunContext, round: number): Promise<Running> {
  const [listen, admin, grpc, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const name = `${t.key.replace('@', '-')}-r${round}`;
  const config = withPorts(await gatewayConfig(isOurs(t.kind) ? t.kind : t.kind === 'full-envoy' ? 'full' : 'body', ctx.upstreamPort), listen, admin, grpc, http);
  const cfgFile = join(ctx.workDir, `gateway-${name}.yaml`);
  await writeFile(cfgFile, stringify(config));
  const rendered = renderEnvoyConfig(parseConfigText(stringify(config), cfgFile), { extProcAddresses: [`127.0.0.1:${grpc}`] });
  const started: Proc[] = [];
  let redis: RedisHandle | undefined;
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((p) => p.stop()));
    await redis?.stop();
  };
  try {
    // Not in the ext-proc's CPU column: redis-server's own CPU (a few µs per request on loopback).
    if (t.kind === 'full-redis') redis = await startRedis(await mkdtemp(join(ctx.workDir, `redis-${name}-`)));
    let envoyConfig: object;
    let extProc: Proc | undefined;
    let extProcCluster: string | undefined;
    if (t.kind === 'plain' || t.kind === 'floor') {
      const plain = plainEnvoy(rendered, 'bench@v1');
      if (t.kind === 'floor') {
        if (!ctx.floorBin) throw new Error('the floor needs Go (bench/floor)');
        extProc = await startFloor(ctx.floorBin, grpc, ctx.workDir);
        started.push(extProc);
        extProcCluster = FLOOR_CLUSTER;
      }
      envoyConfig = t.kind === 'floor' ? floorEnvoy(plain, grpc) : plain;
    } else if (t.kind === 'full-envoy') {
      // What Envoy itself spends on the full chain (both ext_proc filters, the buffer filter, body
      // messages, the route recomputed, the shadow copy), with a processor that costs nothing but
      // names the clusters our ext-proc would and, as it does, answers a pipelined response's
      // headers with its body's length: the rest of `full`'s latency is our processor's.
      if (!ctx.floorBin) throw new Error('full-envoy needs Go (bench/floor)');
      extProc = await startFloor(
        ctx.floorBin,
        grpc,
        ctx.workDir,
        [`${CLUSTER_HEADER}=${clusterName('tinylm', 'v1')}`, `${SHADOW_HEADER}=${clusterName('tinylm', 'v2')}`],
        BODY_LENGTH_HEADER,
      );
      started.push(extProc);
      extProcCluster = EXT_PROC_CLUSTER;
      envoyConfig = rendered;
    } else {
      extProc = await startExtProc(`ext-proc-${name}`, ctx.workDir, {
        configFile: cfgFile,
        grpcPort: grpc,
        httpPort: http,
        bundle: ctx.bundle,
        nodeArgs: ctx.nodeArgs,
        env: { ...ctx.extProcEnv, ...(t.transport ? { GATEWAY_EXT_PROC_TRANSPORT: t.transport } : {}), ...(redis ? { [STACK_REDIS_URL_ENV]: redis.url } : {}) },
      });
      started.push(extProc);
      extProcCluster = EXT_PROC_CLUSTER;
      envoyConfig = ctx.streamsPerConnection === undefined ? rendered : withExtProcStreamsPerConnection(rendered, ctx.streamsPerConnection);
    }
    const envoy = await startEnvoy(`envoy-${name}`, ctx.envoyBin, envoyConfig, admin, ctx.workDir, ctx.envoyConcurrency);
    started.push(envoy);
    await waitHealthy(admin);
    return {
      url: `http://127.0.0.1:${listen}${t.path}`,
      envoyAdmin: admin,
      envoy,
      extProc,
      metricsPort: isOurs(t.kind) ? http : undefined,
      extProcCluster,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
