import { readFileSync } from 'node:fs';
import http2, { type Http2Server, type Http2Session, type SecureServerOptions, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { GrpcStatus } from './grpc-status.js';
import { HEALTH_CHECK_PATH, HealthState } from './health.js';
import { isGrpcRequest, refuseCall, serveHealthCheck, serveProcess } from './http2-call.js';
import { listenOn } from './listen.js';
import { NGHTTP2_RESET_BURST, NGHTTP2_RESET_RATE, ResetGuard } from './reset-guard.js';
import { PROCESS_PATH, type Transport, type TransportOptions } from './types.js';

/**
 * A minimal gRPC server on node:http2 for the ext_proc method and health checks: no generic
 * service machinery, no per-call metadata objects, one frame parser per stream. It costs less
 * per stream than @grpc/grpc-js (see docs/performance.md, "The ext_proc transport").
 */
export async function startHttp2Transport(opts: TransportOptions): Promise<Transport> {
  const health = new HealthState();
  const services = { maxMessageBytes: opts.maxMessageBytes, health, openStream: opts.openStream };
  const sessions = new Set<Http2Session>();
  const mib = 1024 * 1024;
  const common = {
    // Envoy multiplexes every stream of a worker thread on one connection: no small cap.
    settings: { maxConcurrentStreams: 10_000, initialWindowSize: mib },
    // Buffered bodies up to maxMessageBytes may be in flight on several streams at once.
    maxSessionMemory: Math.max(32, Math.ceil((4 * opts.maxMessageBytes) / mib)),
    // Where Node supports them (not 20): nghttp2's reset-flood limits, raised far above any
    // cancellation rate Envoy can relay; ResetGuard covers the runtimes that ignore these.
    streamResetBurst: 100 * NGHTTP2_RESET_BURST,
    streamResetRate: 100 * NGHTTP2_RESET_RATE,
  };
  const guards = new WeakMap<Http2Session, ResetGuard>();
  const server: Http2Server = opts.tls
    ? http2.createSecureServer({ ...common, ...tlsOptions(opts.tls) })
    : http2.createServer(common);

  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    guards.set(session, new ResetGuard(session, opts.log));
    session.on('error', (err) => opts.log.debug({ err }, 'ext_proc connection error'));
    session.on('close', () => sessions.delete(session));
    // The connection-level window too, so one large body does not stall the others.
    session.once('localSettings', () => session.setLocalWindowSize(8 * mib));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    if (!isGrpcRequest(headers)) return refuseCall(stream, GrpcStatus.INTERNAL, 'expected a gRPC request (POST, content-type application/grpc)');
    const path = headers[':path'];
    if (path === PROCESS_PATH) {
      const guard = guards.get(stream.session as Http2Session);
      return serveProcess(stream, services, () => guard?.reset());
    }
    if (path === HEALTH_CHECK_PATH) return serveHealthCheck(stream, health);
    refuseCall(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${String(path)}`);
  });
  server.on('error', (err) => opts.log.error({ err }, 'ext_proc server error'));

  await listenOn(server, opts.listen);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? (address as AddressInfo).port : 0;

  return {
    port,
    setServing: (serving) => health.set(serving),
    async drain() {
      server.close();
      await Promise.all([...sessions].map((s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(() => resolve())))));
    },
    close() {
      for (const session of sessions) session.destroy();
      server.close();
    },
    rebalance() {
      for (const session of sessions) session.close();
    },
  };
}

function tlsOptions(tls: NonNullable<TransportOptions['tls']>): SecureServerOptions {
  return {
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ca: readFileSync(tls.clientCa),
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
    ALPNProtocols: ['h2'],
    minVersion: 'TLSv1.2',
  };
}
