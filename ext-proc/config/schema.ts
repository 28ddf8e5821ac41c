import { z } from 'zod';
import { TRANSPORTS } from '../transport/names.js';
import { ConsoleSchema } from './console.js';
import { DEFAULT_STREAM_LIMITS } from './stream-limits.js';
import { ExtProcHealthCheckSchema, LimitsSchema, LoadBalancingSchema, OutlierDetectionSchema, RetriesSchema } from './resilience.js';

/** Names end up in Envoy cluster and stat names: no dots (Envoy's stat tag regexes split on them). */
const MODEL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const INSTANCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const ModelName = z.string().regex(MODEL_NAME, 'model names are lower-case letters, digits, "_" and "-"');
export const VersionName = z.string().regex(VERSION_NAME, 'version names are letters, digits, "_" and "-"');

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const Port = z.number().int().min(0).max(65535);
const Host = z.string().min(1);
const Endpoint = z
  .string()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'an endpoint is host:port');

export const PluginInstanceSchema = z
  .object({
    /** The plugin type (built-in, or from `pluginSources`). */
    type: z.string().min(1),
    /** This instance's name; defaults to the type. Unique within its chain. */
    name: z.string().regex(INSTANCE_NAME).optional(),
    options: z.unknown().optional(),
    /** Budget for each hook call of this instance. */
    timeoutMs: z.number().int().positive().max(60_000).default(200),
    /** On a throw or timeout, skip this plugin instead of failing the request with a 500. */
    failOpen: z.boolean().default(false),
  })
  .strict();
export type PluginInstanceConfig = z.infer<typeof PluginInstanceSchema>;

/** PEM file paths, absolute or relative to the working directory of the process that reads them. */
const ExtProcTlsSchema = z
  .object({
    /** The ext-proc's server certificate (chain) and key. */
    cert: z.string().min(1),
    key: z.string().min(1),
    /** The CA that signs the client certificates the ext-proc accepts (Envoy's). */
    clientCa: z.string().min(1),
    /** What Envoy presents and trusts on its connections to the ext-proc. */
    envoy: z
      .object({
        cert: z.string().min(1),
        key: z.string().min(1),
        /** The CA that signs the ext-proc's certificate. */
        serverCa: z.string().min(1),
        /** SNI and the name the ext-proc's certificate must carry; by default the host Envoy connects to. */
        serverName: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict();

const HealthCheckSchema = z
  .object({
    /** Defaults per protocol: V2 `/v2/health/ready`, OpenAI `/health`, TF Serving the model status URL. */
    path: z.string().startsWith('/').optional(),
    intervalMs: z.number().int().positive().default(5_000),
    timeoutMs: z.number().int().positive().default(1_000),
    unhealthyThreshold: z.number().int().positive().default(2),
    healthyThreshold: z.number().int().positive().default(1),
  })
  .strict();

export const VersionSchema = z
  .object({
    endpoints: z.array(Endpoint).min(1),
    /** Whole-request timeout; 0 disables it (long streams). */
    timeoutMs: z.number().int().min(0).default(30_000),
    healthCheck: HealthCheckSchema.prefault({}),
    /** Longest silence on a request or response stream (route `idle_timeout`); 0 disables. The streaming-safe overall bound. */
    idleTimeoutMs: z.number().int().min(0).optional(),
    loadBalancing: LoadBalancingSchema.prefault({}),
    retries: RetriesSchema.prefault({}),
    outlierDetection: OutlierDetectionSchema.prefault({}),
    /** Circuit breakers: beyond these, a fast JSON 503 instead of a queue. */
    limits: LimitsSchema.prefault({}),
  })
  .strict();
export type VersionConfig = z.infer<typeof VersionSchema>;

/** An experiment or variant name: shown to clients in a response header. */
const LabelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names are letters, digits, ".", "_" and "-"');

/** What keeps one user on one variant: a request header, or the authenticated consumer's id. */
export const StickyKeySchema = z.union([
  z.object({ header: z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name').toLowerCase() }).strict(),
  z.object({ consumer: z.literal(true) }).strict(),
]);
export type StickyKeyConfig = z.infer<typeof StickyKeySchema>;

export const TrafficSchema = z
  .object({
    /** Relative weights of versions for requests that name no version. */
    weights: z.record(VersionName, z.number().min(0)).optional(),
    /** Requests with the same key land on the same version while its bucket keeps its version. */
    stickyKey: StickyKeySchema.optional(),
    /** Mirror a share of the split's requests to this version; its answers are discarded. */
    shadow: z
      .object({ version: VersionName, percent: z.number().min(0).max(100).default(100) })
      .strict()
      .optional(),
    /** Serves a request when its chosen version has no healthy endpoint, or fails with a connection error or 5xx. */
    fallback: VersionName.optional(),
    /** Experiment name, echoed as `x-gateway-experiment` on requests the split assigned. */
    experiment: LabelName.optional(),
    /** Variant names per version (`{ v1: control, v2: treatment }`), echoed as `x-gateway-variant`; default the version. */
    variants: z.record(VersionName, LabelName).optional(),
  })
  .strict();
export type TrafficConfig = z.infer<typeof TrafficSchema>;

export const ModelSchema = z
  .object({
    protocol: z.enum(['openai', 'kserve-v2', 'tfserving']),
    versions: z.record(VersionName, VersionSchema),
    aliases: z.record(VersionName, VersionName).default({}),
    /** Version used when no weights are set; defaults to the first listed. */
    defaultVersion: VersionName.optional(),
    traffic: TrafficSchema.optional(),
    /** This model's chain, run after the global chain once the model is known. */
    plugins: z.array(PluginInstanceSchema).default([]),
    /**
     * With the ext-proc unreachable, pass this model's requests through unprocessed (no
     * plugins: no auth, no validation), routed by path (OpenAI: the path and the body's exact model
     * name, read by Envoy) to the default version; default: the global envoy.failureModeAllow.
     */
    failOpen: z.boolean().optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    const versions = Object.keys(model.versions);
    if (versions.length === 0) ctx.addIssue({ code: 'custom', path: ['versions'], message: 'at least one version is required' });
    for (const [alias, target] of Object.entries(model.aliases)) {
      if (!(target in model.versions)) {
        ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `alias points to unknown version "${target}"` });
      }
      if (alias in model.versions) {
        ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `alias "${alias}" shadows a version of the same name` });
      }
    }
    if (model.defaultVersion && !(model.defaultVersion in model.versions)) {
      ctx.addIssue({ code: 'custom', path: ['defaultVersion'], message: `unknown version "${model.defaultVersion}"` });
    }
    const weights = model.traffic?.weights;
    if (weights) {
      for (const v of Object.keys(weights)) {
        if (!(v in model.versions)) ctx.addIssue({ code: 'custom', path: ['traffic', 'weights', v], message: `unknown version "${v}"` });
      }
      if (Object.values(weights).reduce((a, b) => a + b, 0) <= 0) {
        ctx.addIssue({ code: 'custom', path: ['traffic', 'weights'], message: 'weights must add up to more than 0' });
      }
    }
    const traffic = model.traffic;
    const known = (v: string | undefined, path: PropertyKey[]) => {
      if (v !== undefined && !(v in model.versions)) ctx.addIssue({ code: 'custom', path: ['traffic', ...path], message: `unknown version "${v}"` });
    };
    known(traffic?.shadow?.version, ['shadow', 'version']);
    known(traffic?.fallback, ['fallback']);
    for (const v of Object.keys(traffic?.variants ?? {})) known(v, ['variants', v]);
  });
export type ModelConfig = z.infer<typeof ModelSchema>;

export const GatewayConfigSchema = z
  .object({
    envoy: z
      .object({
        listener: z.object({ host: Host.default('127.0.0.1'), port: Port.default(8080) }).strict().prefault({}),
        admin: z.object({ host: Host.default('127.0.0.1'), port: Port.default(9901) }).strict().prefault({}),
        /** Largest request body accepted; Envoy answers 413 above it. Also sizes Envoy's buffers and gRPC's limit. */
        maxRequestBytes: z.number().int().positive().max(64 * 1024 * 1024).default(4 * 1024 * 1024),
        /** How long Envoy waits for each ext_proc answer. */
        messageTimeoutMs: z.number().int().positive().default(1_000),
        /**
         * Pipelined OpenAI bodies: Envoy sends the request headers and the whole body together, and
         * the ext-proc answers them together (one round trip per direction instead of two), where
         * both bodies go to the ext-proc anyway (envoy/pipelined.ts). `false`: headers first, as before.
         */
        pipelineBodies: z.boolean().default(true),
        /** Fail-open: with the ext-proc unreachable, pass requests through unprocessed. */
        failureModeAllow: z.boolean().default(false),
        /** Address Envoy uses to reach the ext-proc (a service name under docker compose). */
        extProcAddress: z.string().optional(),
        /** Envoy's gRPC health checks of the ext-proc replicas. */
        extProcHealthCheck: ExtProcHealthCheckSchema.prefault({}),
        /** Responses compressed by Envoy (gzip, br) for clients that accept it; request bodies are always decompressed. */
        compression: z
          .object({
            responses: z.boolean().default(true),
            /** Smaller responses are sent as they are (compressing them costs more than it saves). */
            minResponseBytes: z.number().int().min(0).default(1024),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    extProc: z
      .object({
        /** The gRPC port binds loopback by default: whoever reaches it steers routing (docs/security.md). */
        host: Host.default('127.0.0.1'),
        port: Port.default(50051),
        /** Serve gRPC on this Unix socket instead of host:port (the sidecar shape; Envoy connects through a `pipe` address). */
        socket: z.string().min(1).optional(),
        /** mTLS on the gRPC port (docs/security.md): the ext-proc's certificate and the CA of Envoy's, and Envoy's side. */
        tls: ExtProcTlsSchema.optional(),
        /** `h2`: the gateway's own gRPC server on its own HTTP/2 framing over node:net (the leanest); `http2`: the same on node:http2; `grpc-js`: @grpc/grpc-js, the reference. Env GATEWAY_EXT_PROC_TRANSPORT overrides. */
        transport: z.enum(TRANSPORTS).default('h2'),
        /**
         * Processes serving the gRPC port (node:cluster); `auto`: one per core this process may use.
         * Default 1: in-memory plugin state (consumer-limits without Redis) is per process.
         */
        workers: z.union([z.number().int().positive().max(256), z.literal('auto')]).optional(),
        /** HTTP port for /healthz, /readyz and /metrics. */
        http: z.object({ host: Host.default('127.0.0.1'), port: Port.default(9464) }).strict().prefault({}),
        /** In-flight streams get this long to finish on SIGTERM. */
        shutdownGraceMs: z.number().int().positive().default(10_000),
        /**
         * On SIGTERM, report NOT_SERVING and keep serving this long before refusing new streams,
         * so Envoy's health checks move traffic away first. Keep above Envoy's detection time
         * (envoy.extProcHealthCheck interval × unhealthyThreshold + timeout).
         */
        shutdownDelayMs: z.number().int().min(0).default(2_000),
        /** Bounds on each ext_proc stream and on all of them together (docs/security.md, "Bounds"). */
        limits: z
          .object({
            /** Header entries per headers message; above it requests get a 431, responses a 502, in the client's protocol. */
            maxHeaders: z.number().int().min(8).max(10_000).default(DEFAULT_STREAM_LIMITS.maxHeaders),
            /** Bytes of header names and values per headers message (same answers). */
            maxHeaderBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_STREAM_LIMITS.maxHeaderBytes),
            /** Characters of a streamed SSE response held while its event is incomplete; beyond, the stream is cut. */
            maxSseEventBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_STREAM_LIMITS.maxSseEventBytes),
            /** A stream with no message from Envoy for this long is cut (0: never). Keep above the longest silence of a model's stream. */
            streamIdleTimeoutMs: z.number().int().min(0).default(300_000),
            /** Streams in flight in this process; beyond, new streams are refused with UNAVAILABLE (Envoy retries another replica). */
            maxStreams: z.number().int().min(1).default(10_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: LogLevel.default('info'),
        /** One structured line per request (level info). */
        accessLog: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Off unless `otlp` is set; see docs/observability.md. */
    tracing: z
      .object({
        otlp: z
          .object({
            /** OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
            endpoint: z.url({ protocol: /^https?$/ }),
            /** Sent with each export (e.g. a collector's API key); never logged. */
            headers: z.record(z.string(), z.string()).default({}),
            serviceName: z.string().min(1).default('inference-gateway'),
            exportIntervalMs: z.number().int().positive().default(1_000),
            timeoutMs: z.number().int().positive().default(5_000),
          })
          .strict()
          .optional(),
        /** Share of new traces recorded; a client's sampled flag is followed as it is. */
        sampleRatio: z.number().min(0).max(1).default(1),
      })
      .strict()
      .prefault({}),
    /** The operator's console on the ext-proc's HTTP port (docs/observability.md#console). */
    console: ConsoleSchema,
    /** Directories or npm packages that provide extra plugin types. */
    pluginSources: z.array(z.string().min(1)).default([]),
    /** The global chain, run for every request, in order. */
    plugins: z.array(PluginInstanceSchema).default([]),
    models: z.record(ModelName, ModelSchema),
  })
  .strict();

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

/** The Envoy cluster that serves one model version. `@` keeps it unambiguous and dot-free. */
export function clusterName(model: string, version: string): string {
  return `${model}@${version}`;
}

/**
 * The Envoy aggregate cluster that tries `version` first and `fallback` when it has no healthy
 * endpoint or the attempt fails. `~` is not allowed in version names, so the name is unambiguous.
 */
export function fallbackClusterName(model: string, version: string, fallback: string): string {
  return `${clusterName(model, version)}~${fallback}`;
}
