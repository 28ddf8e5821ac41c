import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import {
  ExternalProcessorService,
  type ProcessingRequest,
  type ProcessingResponse,
} from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { PhaseOrderError } from './phase-order.js';
import { DEFAULT_STREAM_LIMITS, StreamLimitError, type StreamLimits } from './pipeline/request-guard.js';
import { StreamProcessor, type RequestObserver } from './stream.js';
import type { StreamAbortReason } from './pipeline/observer.js';
import type { Runtime } from './runtime.js';

import { EXT_PROC_SERVICE } from '../plugins/sdk/wire.js';

export interface ExtProcServerOptions {
  host: string;
  port: number;
  /** Largest body Envoy may send in one message; grpc-js' 4 MiB default is raised to fit. */
  maxMessageBytes: number;
  log: Logger;
  runtime: () => Runtime;
  observer?: RequestObserver;
  /** `extProc.limits`; the defaults when not given. */
  limits?: Partial<ServerLimits>;
}

/** The config's `extProc.limits`: per stream (StreamLimits) and for the process. */
export interface ServerLimits extends StreamLimits {
  /** Cut a stream after this long without a message from Envoy; 0: never. */
  readonly streamIdleTimeoutMs: number;
  /** Streams in flight at once; beyond, new ones are refused with UNAVAILABLE. */
  readonly maxStreams: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = { ...DEFAULT_STREAM_LIMITS, streamIdleTimeoutMs: 300_000, maxStreams: 10_000 };

export interface ExtProcServer {
  readonly port: number;
  inFlight(): number;
  /**
   * Reports NOT_SERVING at once but keeps serving for `delayMs`, so Envoy's health checks move
   * new streams to other replicas first; then stops taking new streams, lets in-flight ones
   * finish for up to `graceMs`, and cuts the rest.
   */
  shutdown(graceMs: number, delayMs?: number): Promise<void>;
}

type Call = grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

export async function startExtProcServer(opts: ExtProcServerOptions): Promise<ExtProcServer> {
  const { log } = opts;
  const limit = opts.maxMessageBytes + 64 * 1024;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': limit,
    'grpc.max_send_message_length': limit,
    // Envoy keeps one long-lived HTTP/2 connection; let it multiplex freely.
    'grpc.max_concurrent_streams': 10_000,
    // We serve no channelz service, and its per-call and per-message bookkeeping (a tracker
    // object per stream, Date.now() per message) is pure cost on the hot path.
    'grpc.enable_channelz': 0,
  });
  const live = new Set<Call>();
  const health = new HealthImplementation({ '': 'SERVING', [EXT_PROC_SERVICE]: 'SERVING' });
  health.addToServer(server);

  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits };
  server.addService(ExternalProcessorService, {
    process: (call: Call) => handleStream(call, opts, limits, live),
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  log.info({ port, host: opts.host }, 'ext_proc gRPC server listening');

  return {
    port,
    inFlight: () => live.size,
    async shutdown(graceMs, delayMs = 0) {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(EXT_PROC_SERVICE, 'NOT_SERVING');
      if (delayMs > 0) {
        log.info({ inFlight: live.size, delayMs }, 'shutting down: NOT_SERVING, still serving until Envoy has moved away');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      log.info({ inFlight: live.size, graceMs }, 'shutting down: draining in-flight streams');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ inFlight: live.size }, 'grace period over: cancelling remaining streams');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * The server loop of one stream: messages are handled strictly in order (each answered
 * exactly once), and the processor's `end` runs once however the stream stops.
 *
 * Envoy ends every stream the same way, finished or not (half-close, then reset), and a
 * client that goes away looks identical: whether the request was cancelled is decided by
 * whether the exchange reached its last message, not by which event arrived.
 */
function handleStream(call: Call, opts: ExtProcServerOptions, limits: ServerLimits, live: Set<Call>): void {
  if (live.size >= limits.maxStreams) {
    // Envoy's retry policy moves an UNAVAILABLE stream to another replica.
    opts.observer?.streamAborted?.('overloaded');
    opts.log.warn({ inFlight: live.size, maxStreams: limits.maxStreams }, 'ext_proc stream refused: too many streams in flight');
    call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'ext_proc overloaded: too many streams in flight' });
    return;
  }
  live.add(call);
  const processor = new StreamProcessor(opts.runtime(), opts.log, opts.observer, limits);
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  let idle: NodeJS.Timeout | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    if (idle) clearTimeout(idle);
    live.delete(call);
    void processor.end(!processor.complete);
  };
  /** Ends the stream with a gRPC status (Envoy answers the client with its status_on_error). */
  const abort = (code: grpc.status, details: string, reason: StreamAbortReason) => {
    opts.observer?.streamAborted?.(reason);
    if (!closed) call.emit('error', { code, details });
    finish();
  };
  const idleMs = limits.streamIdleTimeoutMs;
  // A stream Envoy never finishes (a peer that opened it and went quiet) would hold its state
  // forever. Re-armed on every message, refresh() keeps it one timer per stream.
  if (idleMs > 0) {
    idle = setTimeout(() => {
      processor.log.warn({ idleMs }, 'ext_proc stream idle too long; cut');
      abort(grpc.status.DEADLINE_EXCEEDED, `ext_proc stream idle for ${idleMs} ms`, 'idle_timeout');
    }, idleMs);
    idle.unref();
  }

  call.on('data', (msg: ProcessingRequest) => {
    idle?.refresh();
    queue = queue.then(async () => {
      if (closed) return;
      try {
        const out = await processor.handle(msg);
        if (!closed) call.write(out);
      } catch (err) {
        if (err instanceof PhaseOrderError) {
          // Not Envoy, or not the modes we asked for: refuse the stream before any hook runs out of order.
          processor.log.warn({ err: err.message }, 'ext_proc message out of order; stream refused');
          abort(grpc.status.FAILED_PRECONDITION, `ext_proc message out of order: ${err.message}`, 'out_of_order');
        } else if (err instanceof StreamLimitError) {
          processor.log.warn({ err: err.message }, 'ext_proc stream over its limits; cut');
          abort(grpc.status.RESOURCE_EXHAUSTED, `ext_proc stream over its limits: ${err.message}`, 'limit');
        } else {
          // Unexpected: a bug, not a plugin error (those become responses). Envoy turns this into a 500.
          processor.log.error({ err }, 'ext_proc stream failed');
          abort(grpc.status.INTERNAL, 'ext_proc internal error', 'internal');
        }
      }
    });
  });
  call.on('end', () => {
    // Answer whatever is still queued first, then close our side.
    void queue.then(() => {
      if (!closed) call.end();
      finish();
    });
  });
  call.on('cancelled', finish);
  call.on('error', finish);
}
