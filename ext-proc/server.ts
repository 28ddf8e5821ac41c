import type { Logger } from 'pino';
import { StreamProcessor, type RequestObserver } from './stream.js';
import type { Runtime } from './runtime.js';
import { GrpcStatus } from './transport/grpc-status.js';
import { EXT_PROC_SERVICE, type ListenAddress, type StreamHandler, type StreamSink, type TlsFiles, type Transport, type TransportName, type TransportOptions } from './transport/types.js';

export { EXT_PROC_SERVICE };
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
}

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

/** Loaded on demand: the process that serves with http2 never loads @grpc/grpc-js' server. */
async function startTransport(name: TransportName, opts: TransportOptions): Promise<Transport> {
  if (name === 'grpc-js') return (await import('./transport/grpc-js.js')).startGrpcJsTransport(opts);
  return (await import('./transport/http2.js')).startHttp2Transport(opts);
}

export async function startExtProcServer(opts: ExtProcServerOptions): Promise<ExtProcServer> {
  const { log } = opts;
  const live = new Set<StreamHandler>();
  const transport = await startTransport(opts.transport, {
    listen: opts.listen,
    tls: opts.tls,
    maxMessageBytes: opts.maxMessageBytes + 64 * 1024,
    log,
    openStream: (sink) => openStream(sink, opts, live),
  });
  const where = 'path' in opts.listen ? { socket: opts.listen.path } : { host: opts.listen.host, port: transport.port };
  log.info({ ...where, transport: opts.transport, tls: opts.tls !== undefined }, 'ext_proc gRPC server listening');

  return {
    port: transport.port,
    inFlight: () => live.size,
    rebalance: () => transport.rebalance(),
    async shutdown(graceMs, delayMs = 0) {
      transport.setServing(false);
      if (delayMs > 0) {
        log.info({ inFlight: live.size, delayMs }, 'shutting down: NOT_SERVING, still serving until Envoy has moved away');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      log.info({ inFlight: live.size, graceMs }, 'shutting down: draining in-flight streams');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)));
      if ((await Promise.race([transport.drain(), graceOver])) === 'grace over') {
        log.warn({ inFlight: live.size }, 'grace period over: cancelling remaining streams');
      }
      clearTimeout(timer);
      transport.close();
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
function openStream(sink: StreamSink, opts: ExtProcServerOptions, live: Set<StreamHandler>): StreamHandler {
  opts.onStream?.();
  const processor = new StreamProcessor(opts.runtime(), opts.log, opts.observer);
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    live.delete(handler);
    void processor.end(!processor.complete);
  };
  const handler: StreamHandler = {
    message(msg) {
      queue = queue.then(async () => {
        if (closed) return;
        try {
          const out = await processor.handle(msg);
          if (!closed) sink.send(out);
        } catch (err) {
          // Unexpected: a bug, not a plugin error (those become responses). Envoy turns this into a 500.
          processor.log.error({ err }, 'ext_proc stream failed');
          if (!closed) sink.fail(GrpcStatus.INTERNAL, 'ext_proc internal error');
          finish();
        }
      });
    },
    halfClose() {
      // Answer whatever is still queued first, then close our side.
      void queue.then(() => {
        if (!closed) sink.end();
        finish();
      });
    },
    abort: finish,
  };
  live.add(handler);
  return handler;
}
