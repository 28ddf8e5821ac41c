import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseConfig, useStack } from '../harness/e2e.js';
import { call, v2Input } from '../harness/traffic.js';

// The sidecar shape: the ext-proc serves gRPC on a Unix socket only, Envoy reaches it through a
// `pipe` address; nothing listens on the gRPC TCP port.
const socket = join(tmpdir(), `gateway-ext-proc-${process.pid}.sock`);
const stack = useStack(baseConfig({ extProc: { socket } }));

describe('ext-proc on a Unix socket', () => {
  it('serves requests through Envoy over the socket', async () => {
    expect(existsSync(socket)).toBe(true);
    const seen = await call(`${stack().url}/v2/models/sentiment/infer`, v2Input());
    expect(seen.status).toBe(200);
    expect(seen.version).toMatch(/^v[12]$/);
  });

  it('binds no TCP port for gRPC', async () => {
    const port = stack().config.extProc.port;
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
