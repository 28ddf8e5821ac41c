import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/processes.js';

describe('freePort', () => {
  it('hands out distinct bindable ports below the range outgoing connections use', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    // Below the range when there is room for it (Linux's default range starts at 32768).
    if (low > 11_000) for (const port of ports) expect(port).toBeLessThan(low);
    // Bindable now: a stack process will listen on it.
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
});
