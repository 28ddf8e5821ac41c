import cluster from 'node:cluster';
import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import type { ListenAddress } from './types.js';

/** A stale socket file left by a killed process is replaced; workers share the primary's socket, which removed it before forking. */
export function removeStaleSocket(at: ListenAddress): void {
  if ('path' in at && cluster.isPrimary) rmSync(at.path, { force: true });
}

/** Listens on a TCP address or a Unix socket. */
export async function listenOn(server: Pick<Server, 'listen' | 'once' | 'off'>, at: ListenAddress): Promise<void> {
  removeStaleSocket(at);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in at) server.listen(at.path, done);
    else server.listen(at.port, at.host, done);
  });
}
