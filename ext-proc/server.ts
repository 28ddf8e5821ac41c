import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import {
  ExternalProcessorService,
  type ProcessingRequest,
  type ProcessingResponse,
} from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { PhaseOrderError } from './phase-order.js';
import { StreamProcessor, type RequestObserver } from './stream.js';
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
}

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

  server.addService(ExternalProcessorService, {
    process: (call: Call) => handleStream(call, opts, live),
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
function handleStream(call: Call, opts: ExtProcServerOptions, live: Set<Call>): void {
  live.add(call);
  const processor = new StreamProcessor(opts.runtime(), opts.log, opts.observer);
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    live.delete(call);
    void processor.end(!processor.complete);
  };

  call.on('data', (msg: ProcessingRequest) => {
    queue = queue.then(async () => {
      if (closed) return;
      try {
        const out = await processor.handle(msg);
        if (!closed) call.write(out);
      } catch (err) {
        if (err instanceof PhaseOrderError) {
          // Not Envoy, or not the modes we asked for: refuse the stream before any hook runs out of order.
          processor.log.warn({ err: err.message }, 'ext_proc message out of order; stream refused');
          opts.observer?.streamAborted?.('out_of_order');
          if (!closed) call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: `ext_proc message out of order: ${err.message}` });
        } else {
          // Unexpected: a bug, not a plugin error (those become responses). Envoy turns this into a 500.
          processor.log.error({ err }, 'ext_proc stream failed');
          opts.observer?.streamAborted?.('internal');
          if (!closed) call.emit('error', { code: grpc.status.INTERNAL, details: 'ext_proc internal error' });
        }
        finish();
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
