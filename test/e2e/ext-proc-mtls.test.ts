import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { EXT_PROC_CLUSTER } from '../../envoy/render.js';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseConfig, extProcLog, useStack } from '../harness/e2e.js';
import { makeMtlsFiles, type CertFiles } from '../harness/tls.js';
import { call, v2Input } from '../harness/traffic.js';

// mTLS between Envoy and the ext-proc (docs/security.md, "Who may reach the ext-proc's gRPC
// port"): the ext-proc serves gRPC over TLS and accepts only client certificates from Envoy's
// CA; Envoy's ext_proc cluster presents its certificate and checks the ext-proc's CA and name.
const SERVER_NAME = 'ext-proc.gateway.test';
const files = makeMtlsFiles(SERVER_NAME);
const stack = useStack(
  baseConfig({
    plugins: [
      { type: 'api-key-auth', options: { consumers: [{ id: 'team-a', keys: [hashKey('sk-mtls-4b1d')] }] } },
      { type: 'model-router', name: 'router' },
    ],
    extProc: {
      tls: {
        cert: files.server.cert,
        key: files.server.key,
        clientCa: files.clientCa,
        envoy: { cert: files.envoy.cert, key: files.envoy.key, serverCa: files.serverCa, serverName: SERVER_NAME },
      },
    },
  }),
);

type HealthAnswer = { answered: true; grpcStatus: string | undefined } | { answered: false; error: string };

/** grpc.health.v1.Health/Check straight to the ext-proc's gRPC port, over TLS, with `client`'s certificate if any. */
function checkHealthDirectly(port: number, client: CertFiles | undefined): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      ca: readFileSync(files.serverCa),
      servername: SERVER_NAME,
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    });
    const done = (answer: HealthAnswer) => {
      session.destroy();
      resolve(answer);
    };
    session.on('error', (err) => done({ answered: false, error: String(err) }));
    const stream = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => done({ answered: true, grpcStatus: String(t['grpc-status'] ?? headers['grpc-status']) }));
    stream.on('error', (err) => done({ answered: false, error: String(err) }));
    // A refused handshake closes the stream without trailers (the session error comes first or not at all).
    stream.on('close', () => done({ answered: false, error: `stream closed (rst code ${stream.rstCode})` }));
    stream.resume();
    // An empty HealthCheckRequest (service ""), in one gRPC frame.
    stream.end(Buffer.alloc(5));
  });
}

describe('mTLS between Envoy and the ext-proc', () => {
  it('serves requests through Envoy over mTLS: the plugin chain runs', async () => {
    const url = `${stack().url}/v2/models/sentiment/infer`;
    const routed = await call(url, v2Input(), { 'x-api-key': 'sk-mtls-4b1d' });
    expect(routed.status).toBe(200);
    // Set by the router on the ext-proc's answer: the chain ran behind the TLS connection.
    expect(routed.version).toMatch(/^v[12]$/);

    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(v2Input()) });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: expect.stringMatching(/api key/i) });
  });

  it('Envoy reached the ext-proc over TLS (handshakes on its ext_proc cluster) and the ext-proc serves TLS', async () => {
    const stats = await (await fetch(`${stack().adminUrl}/stats?filter=^cluster\\.${EXT_PROC_CLUSTER}\\.ssl\\.handshake$`)).text();
    const handshakes = Number(/ssl\.handshake: (\d+)/.exec(stats)?.[1] ?? 0);
    expect(handshakes).toBeGreaterThan(0);
    const log = await extProcLog(stack(), (text) => text.includes('ext_proc gRPC server listening'));
    expect(log).toMatch(/"tls":true[^\n]*ext_proc gRPC server listening|ext_proc gRPC server listening[^\n]*"tls":true/);
  });

  it('answers a client with Envoy\'s certificate (the control for the refusals below)', async () => {
    expect(await checkHealthDirectly(stack().config.extProc.port, files.envoy)).toEqual({ answered: true, grpcStatus: '0' });
  });

  it('refuses a client without a certificate', async () => {
    expect(await checkHealthDirectly(stack().config.extProc.port, undefined)).toMatchObject({ answered: false });
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    expect(await checkHealthDirectly(stack().config.extProc.port, files.stranger)).toMatchObject({ answered: false });
  });
});
