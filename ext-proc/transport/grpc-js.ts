import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ExternalProcessorService, type ProcessingRequest, type ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import { decodeProcessingRequest, type EnvoyRequest } from '../envoy-decode.js';
import { removeStaleSocket } from './listen.js';
import { EXT_PROC_SERVICE, type Transport, type TransportOptions } from './types.js';

type Call = grpc.ServerDuplexStream<EnvoyRequest, ProcessingResponse>;

/**
 * The generated service with our decoder: the generated one drops `protocol_config` (newer than
 * the stubs), which tells the processor whether Envoy pipelines this stream's bodies.
 */
const SERVICE = {
  ...ExternalProcessorService,
  process: { ...ExternalProcessorService.process, requestDeserialize: (bytes: Buffer): ProcessingRequest => decodeProcessingRequest(bytes) },
};

/** The reference transport: @grpc/grpc-js with grpc-health-check. */
export async function startGrpcJsTransport(opts: TransportOptions): Promise<Transport> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
    // Envoy keeps one long-lived HTTP/2 connection per worker thread; let it multiplex freely.
    'grpc.max_concurrent_streams': 10_000,
    // We serve no channelz service, and its per-call and per-message bookkeeping (a tracker
    // object per stream, Date.now() per message) is pure cost on the hot path.
    'grpc.enable_channelz': 0,
  });
  const health = new HealthImplementation({ '': 'SERVING', [EXT_PROC_SERVICE]: 'SERVING' });
  health.addToServer(server);
  server.addService(SERVICE, { process: (call: Call) => serve(call, opts) });

  removeStaleSocket(opts.listen);
  const target = 'path' in opts.listen ? `unix:${opts.listen.path}` : `${opts.listen.host}:${opts.listen.port}`;
  const credentials = opts.tls
    ? grpc.ServerCredentials.createSsl(
        readFileSync(opts.tls.clientCa),
        [{ cert_chain: readFileSync(opts.tls.cert), private_key: readFileSync(opts.tls.key) }],
        true,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  const bound = 'path' in opts.listen ? target : `${opts.listen.host}:${port}`;
  return {
    port: 'path' in opts.listen ? 0 : port,
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(EXT_PROC_SERVICE, status);
    },
    drain: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    close: () => server.forceShutdown(),
    // Connections still open after a minute are cut (an SSE stream may live that long).
    rebalance: () => server.drain(bound, 60_000),
  };
}

function serve(call: Call, opts: TransportOptions): void {
  let ended = false;
  const handler = opts.openStream({
    send: (msg) => {
      if (!ended) call.write(msg);
    },
    end: () => {
      if (ended) return;
      ended = true;
      call.end();
    },
    fail: (code, details) => {
      if (ended) return;
      ended = true;
      call.emit('error', { code, details });
    },
  });
  call.on('data', (msg: EnvoyRequest) => handler.message(msg));
  call.on('end', () => handler.halfClose());
  const abort = () => {
    ended = true;
    handler.abort();
  };
  call.on('cancelled', abort);
  call.on('error', abort);
}
