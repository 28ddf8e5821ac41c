import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../ext-proc/config/load.js';
import { renderEnvoyConfig } from '../../envoy/render.js';

type Cluster = {
  name: string;
  type: string;
  transport_socket?: { typed_config: { sni?: string; common_tls_context: { tls_certificates: unknown[]; validation_context: Record<string, unknown> } } };
  load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: Record<string, unknown> } }[] }[] };
  typed_extension_protocol_options?: Record<
    string,
    { explicit_http_config?: { http2_protocol_options?: { max_concurrent_streams?: number } }; common_http_protocol_options?: { max_requests_per_connection?: number } }
  >;
};

function extProcCluster(extProc: string, env: NodeJS.ProcessEnv = {}): Cluster {
  const saved = process.env.GATEWAY_EXT_PROC_TRANSPORT;
  if (env.GATEWAY_EXT_PROC_TRANSPORT === undefined) delete process.env.GATEWAY_EXT_PROC_TRANSPORT;
  else process.env.GATEWAY_EXT_PROC_TRANSPORT = env.GATEWAY_EXT_PROC_TRANSPORT;
  try {
    const config = parseConfigText(`extProc: ${extProc}\nmodels: { m: { protocol: openai, versions: { v1: { endpoints: ["127.0.0.1:1"] } } } }`);
    const rendered = renderEnvoyConfig(config) as { static_resources: { clusters: Cluster[] } };
    const cluster = rendered.static_resources.clusters.find((c) => c.name === 'ext_proc');
    if (!cluster) throw new Error('no ext_proc cluster');
    return cluster;
  } finally {
    if (saved === undefined) delete process.env.GATEWAY_EXT_PROC_TRANSPORT;
    else process.env.GATEWAY_EXT_PROC_TRANSPORT = saved;
  }
}
const options = (c: Cluster) => Object.values(c.typed_extension_protocol_options ?? {})[0];

describe('the ext_proc cluster', () => {
  it('with grpc-js, rotates HTTP/2 connections before 1000 streams', () => {
    // A reset ext_proc stream (a cancelled request) counts towards nghttp2's reset-flood limit;
    // past ~1000 on one connection it sends GOAWAY, which fails the streams in flight
    // (measured: 8 of 3000 and 36 of 6000 requests answered 500 at ~2k req/s without this).
    for (const cluster of [extProcCluster('{ transport: grpc-js }'), extProcCluster('{}', { GATEWAY_EXT_PROC_TRANSPORT: 'grpc-js' })]) {
      expect(options(cluster)?.common_http_protocol_options?.max_requests_per_connection).toBeLessThan(1000);
    }
  });

  it('with the h2 (the default) and http2 transports, keeps its connections: no reset-flood limit to dodge, or the server guards it itself', () => {
    expect(options(extProcCluster('{}'))?.common_http_protocol_options).toBeUndefined();
    expect(options(extProcCluster('{ transport: grpc-js }', { GATEWAY_EXT_PROC_TRANSPORT: 'h2' }))?.common_http_protocol_options).toBeUndefined();
    expect(options(extProcCluster('{ transport: grpc-js }', { GATEWAY_EXT_PROC_TRANSPORT: 'http2' }))?.common_http_protocol_options).toBeUndefined();
  });

  it('caps streams per connection when several workers share the port, so Envoy opens a connection per worker', () => {
    expect(options(extProcCluster('{ workers: 4 }'))?.explicit_http_config?.http2_protocol_options?.max_concurrent_streams).toBeGreaterThan(0);
  });

  it('reaches a Unix socket through a pipe address', () => {
    const cluster = extProcCluster('{ socket: /run/gateway/ext-proc.sock }');
    expect(cluster.type).toBe('STATIC');
    expect(cluster.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address).toEqual({ pipe: { path: '/run/gateway/ext-proc.sock' } });
  });

  it('presents a client certificate and checks the server name with mTLS', () => {
    const cluster = extProcCluster('{ tls: { cert: /s.crt, key: /s.key, clientCa: /ca.crt, envoy: { cert: /c.crt, key: /c.key, serverCa: /ca.crt, serverName: ext-proc.internal } } }');
    const tls = cluster.transport_socket?.typed_config;
    expect(tls?.sni).toBe('ext-proc.internal');
    expect(tls?.common_tls_context.tls_certificates).toEqual([{ certificate_chain: { filename: '/c.crt' }, private_key: { filename: '/c.key' } }]);
    expect(tls?.common_tls_context.validation_context).toMatchObject({ trusted_ca: { filename: '/ca.crt' } });
  });
});
