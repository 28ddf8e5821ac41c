import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { HealthState } from '../health.js';
import { listenOn } from '../listen.js';
import type { Transport, TransportOptions } from '../types.js';
import { H2Connection } from './connection.js';

/**
 * The `h2` transport: gRPC's one bidi method (and health checks) on our own HTTP/2 framing over
 * node:net, without node:http2. node:http2 builds a Duplex stream, header objects and several
 * event listeners per HTTP/2 stream, and writes each frame separately; for ext_proc, where a
 * stream carries a few small messages, that was most of the ext-proc's CPU per request (see
 * docs/performance.md, "The ext_proc transport"). Here a stream is two small records, and every
 * frame answered in one turn of the event loop leaves in one write.
 */
export async function startH2Transport(opts: TransportOptions): Promise<Transport> {
  const health = new HealthState();
  const connections = new Set<H2Connection>();
  const services = { maxMessageBytes: opts.maxMessageBytes, health, openStream: opts.openStream };
  const serve = (socket: Socket) => {
    const connection = new H2Connection(socket, services, opts.log);
    connections.add(connection);
    connection.whenEnded(() => connections.delete(connection));
  };

  let server: Server;
  if (opts.tls) {
    const files = opts.tls;
    server = tls.createServer(
      {
        cert: readFileSync(files.cert),
        key: readFileSync(files.key),
        ca: readFileSync(files.clientCa),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1.2',
      },
      (socket: TLSSocket) => {
        if (socket.alpnProtocol !== 'h2') {
          opts.log.warn({ alpn: socket.alpnProtocol }, 'ext_proc TLS connection refused: it did not negotiate h2');
          socket.destroy();
          return;
        }
        serve(socket);
      },
    );
    server.on('tlsClientError', (err) => opts.log.warn({ err: err.message }, 'ext_proc TLS handshake failed'));
  } else {
    server = net.createServer(serve);
  }
  server.on('error', (err) => opts.log.error({ err }, 'ext_proc server error'));

  await listenOn(server, opts.listen);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? (address as AddressInfo).port : 0;

  return {
    port,
    setServing: (serving) => health.set(serving),
    async drain() {
      server.close();
      await Promise.all(
        [...connections].map(
          (c) =>
            new Promise<void>((resolve) => {
              c.whenEnded(resolve);
              c.goAway();
            }),
        ),
      );
    },
    close() {
      for (const c of connections) c.destroy();
      server.close();
    },
    rebalance() {
      for (const c of connections) c.goAway();
    },
  };
}
