import type { Logger } from 'pino';
import { PhaseOrderError } from './phase-order.js';
import { DEFAULT_STREAM_LIMITS, StreamLimitError, type StreamLimits } from './pipeline/request-guard.js';
import { StreamProcessor, type ProcessorLimits, type RequestObserver } from './stream.js';
import type { StreamAbortReason } from './pipeline/observer.js';
import type { Runtime } from './runtime.js';
import type { EnvoyRequest } from './envoy-decode.js';
import type { ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { GrpcStatus } from './transport/grpc-status.js';
import type { ListenAddress, StreamHandler, StreamSink, TlsFiles, Transport, TransportName, TransportOptions } from './transport/types.js';

export type { TransportName };

export interface ExtProcServerOptions {
  /** A TCP address (loopback by default) or a Unix socket. */
  listen: ListenAddress;
  /** mTLS on the gRPC port: Envoy must present a certificate signed by `clientCa`. */
  tls?: TlsFiles;
  transport: TransportName;
  /** Largest body Envoy may send in one message; the message limit leaves room for headers around it. */
  maxMessageBytes: number;
  log: Logger;
  runtime: () => Runtime;
  observer?: RequestObserver;
  /** Called for every stream opened (a per-process counter). */
  onStream?: () => void;
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
  /** The TCP port bound (0 on a Unix socket). */
  readonly port: number;
  inFlight(): number;
  /**
   * Reports NOT_SERVING at once but keeps serving for `delayMs`, so Envoy's health checks move
   * new streams to other replicas first; then stops taking new streams, lets in-flight ones
   * finish for up to `graceMs`, and cuts the rest.
   */
  shutdown(graceMs: number, delayMs?: number): Promise<void>;
  /** See Transport.rebalance. */
  rebalance(): void;
}

/** Loaded on demand: a process loads only the transport it serves with. */
async function startTransport(name: TransportName, opts: TransportOptions): Promise<Transport> {
  if (name === 'grpc-js') return (await import('./transport/grpc-js.js')).startGrpcJsTransport(opts);
  if (name === 'http2') return (await import('./transport/http2.js')).startHttp2Transport(opts);
  return (await import('./transport/h2/server.js')).startH2Transport(opts);
}

export async function startExtProcServer(opts: ExtProcServerOptions): Promise<ExtProcServer> {
  const { log } = opts;
  // A count, not a Set of the streams: a Set with an add and a delete per stream keeps
  // finished streams alive until the next full GC (see ChurnTable).
  const live: InFlight = { count: 0 };
  const limits: ServerLimits & ProcessorLimits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits, maxHeldBodyBytes: opts.maxMessageBytes };
  const transport = await startTransport(opts.transport, {
    listen: opts.listen,
    tls: opts.tls,
    maxMessageBytes: opts.maxMessageBytes + 64 * 1024,
    log,
    openStream: (sink) => openStream(sink, opts, limits, live),
  });
  const where = 'path' in opts.listen ? { socket: opts.listen.path } : { host: opts.listen.host, port: transport.port };
  log.info({ ...where, transport: opts.transport, tls: opts.tls !== undefined }, 'ext_proc gRPC server listening');

  return {
    port: transport.port,
    inFlight: () => live.count,
    rebalance: () => transport.rebalance(),
    async shutdown(graceMs, delayMs = 0) {
      transport.setServing(false);
      if (delayMs > 0) {
        log.info({ inFlight: live.count, delayMs }, 'shutting down: NOT_SERVING, still serving until Envoy has moved away');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      log.info({ inFlight: live.count, graceMs }, 'shutting down: draining in-flight streams');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)));
      if ((await Promise.race([transport.drain(), graceOver])) === 'grace over') {
        log.warn({ inFlight: live.count }, 'grace period over: cancelling remaining streams');
      }
      clearTimeout(timer);
      transport.close();
    },
  };
}

const REFUSED: StreamHandler = { message: () => {}, halfClose: () => {}, abort: () => {} };

/**
 * The server loop of one stream: messages are handled strictly in order (each answered
 * exactly once), and the processor's `end` runs once however the stream stops.
 *
 * Envoy ends every stream the same way, finished or not (half-close, then reset), and a
 * client that goes away looks identical: whether the request was cancelled is decided by
 * whether the exchange reached its last message, not by which event arrived.
 */
/** Streams in flight in the process. */
interface InFlight {
  count: number;
}

function openStream(sink: StreamSink, opts: ExtProcServerOptions, limits: ServerLimits & ProcessorLimits, live: InFlight): StreamHandler {
  if (live.count >= limits.maxStreams) {
    // Envoy's retry policy moves an UNAVAILABLE stream to another replica.
    opts.observer?.streamAborted?.('overloaded');
    opts.log.warn({ inFlight: live.count, maxStreams: limits.maxStreams }, 'ext_proc stream refused: too many streams in flight');
    sink.fail(GrpcStatus.UNAVAILABLE, 'ext_proc overloaded: too many streams in flight');
    return REFUSED;
  }
  opts.onStream?.();
  let closed = false;
  const write = (answers: readonly ProcessingResponse[]) => {
    if (!closed) for (const answer of answers) sink.send(answer);
  };
  // `write` also sends what is answered outside a message (a held headers' answer sent early).
  const processor = new StreamProcessor(opts.runtime(), opts.log, opts.observer, limits, write);
  /** The message being handled and the ones queued behind it, while one waits for an async hook; else undefined. */
  let queue: Promise<void> | undefined;
  let idle: NodeJS.Timeout | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    if (idle) clearTimeout(idle);
    live.count--;
    void processor.end(!processor.complete);
  };
  /** Ends the stream with a gRPC status (Envoy answers the client with its status_on_error). */
  const abort = (code: number, details: string, reason: StreamAbortReason) => {
    opts.observer?.streamAborted?.(reason);
    if (!closed) sink.fail(code, details);
    finish();
  };
  const idleMs = limits.streamIdleTimeoutMs;
  // A stream Envoy never finishes (a peer that opened it and went quiet) would hold its state
  // forever. Re-armed on every message, refresh() keeps it one timer per stream.
  if (idleMs > 0) {
    idle = setTimeout(() => {
      processor.log.warn({ idleMs }, 'ext_proc stream idle too long; cut');
      abort(GrpcStatus.DEADLINE_EXCEEDED, `ext_proc stream idle for ${idleMs} ms`, 'idle_timeout');
    }, idleMs);
    idle.unref();
  }

  const send = (answers: readonly ProcessingResponse[]) => {
    write(answers);
    // After the write the answers just queued (the h2 transport flushes in a setImmediate
    // queued before this one; node:http2 in a native immediate, which runs before it), in
    // the same turn of the event loop: no message that arrives later is handled before it.
    if (processor.hasDeferred) setImmediate(() => processor.runDeferred());
  };
  const failed = (err: unknown) => {
    if (err instanceof PhaseOrderError) {
      // Not Envoy, or not the modes we asked for: refuse the stream before any hook runs out of order.
      processor.log.warn({ err: err.message }, 'ext_proc message out of order; stream refused');
      abort(GrpcStatus.FAILED_PRECONDITION, `ext_proc message out of order: ${err.message}`, 'out_of_order');
    } else if (err instanceof StreamLimitError) {
      processor.log.warn({ err: err.message }, 'ext_proc stream over its limits; cut');
      abort(GrpcStatus.RESOURCE_EXHAUSTED, `ext_proc stream over its limits: ${err.message}`, 'limit');
    } else {
      // Unexpected: a bug, not a plugin error (those become responses). Envoy turns this into a 500.
      processor.log.error({ err }, 'ext_proc stream failed');
      abort(GrpcStatus.INTERNAL, 'ext_proc internal error', 'internal');
    }
  };
  /**
   * One message, answered at once when every hook it ran was synchronous (most are): no promise
   * chain per message, which after an idle gap (cold caches) was a cost of its own. Never throws.
   */
  const handle = (msg: EnvoyRequest): Promise<void> | undefined => {
    if (closed) return undefined;
    try {
      const answers = processor.handleNow(msg);
      if (answers instanceof Promise) return answers.then(send).catch(failed);
      send(answers);
    } catch (err) {
      failed(err);
    }
    return undefined;
  };
  /** Settles once `work` has, and the queue is empty again unless more was queued meanwhile. */
  const queued = (work: Promise<void>): Promise<void> => {
    const settled: Promise<void> = work.then(() => {
      if (queue === settled) queue = undefined;
    });
    return settled;
  };

  const handler: StreamHandler = {
    message(msg) {
      idle?.refresh();
      // Strictly in order: behind a message still waiting for an async hook, or now.
      if (queue) queue = queued(queue.then(() => handle(msg)));
      else {
        const pending = handle(msg);
        if (pending) queue = queued(pending);
      }
    },
    halfClose() {
      // Answer whatever is still queued first, then close our side.
      void (queue ?? Promise.resolve()).then(() => {
        if (!closed) sink.end();
        finish();
      });
    },
    abort: finish,
  };
  live.count++;
  return handler;
}
