import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../ext-proc/config/load.js';
import { renderEnvoyConfig } from '../../envoy/render.js';

describe('the ext_proc cluster', () => {
  it('rotates HTTP/2 connections before 1000 streams', () => {
    // Envoy resets every ext_proc stream at its end; Node's nghttp2 treats more than ~1000 resets
    // on one connection as a reset flood and sends GOAWAY, which fails the streams in flight
    // (measured: 8 of 3000 and 36 of 6000 requests answered 500 at ~2k req/s without this).
    const config = parseConfigText('models: { m: { protocol: openai, versions: { v1: { endpoints: ["127.0.0.1:1"] } } } }');
    const rendered = renderEnvoyConfig(config) as { static_resources: { clusters: { name: string; typed_extension_protocol_options?: Record<string, { common_http_protocol_options?: { max_requests_per_connection?: number } }> }[] } };
    const cluster = rendered.static_resources.clusters.find((c) => c.name === 'ext_proc');
    const options = Object.values(cluster?.typed_extension_protocol_options ?? {})[0];
    expect(options?.common_http_protocol_options?.max_requests_per_connection).toBeLessThan(1000);
  });
});
