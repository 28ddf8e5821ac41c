import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Liveness (`/healthz`: the process answers), readiness (`/readyz`: config loaded, gRPC bound,
 * not draining) and any extra routes (metrics) on one small HTTP port.
 */
export async function startStatusServer(opts: {
  host: string;
  port: number;
  log: Logger;
  ready: () => boolean;
  routes?: Record<string, HttpRoute>;
}): Promise<StatusServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') return opts.ready() ? json(200, { status: 'ready' }) : json(503, { status: 'not ready' });
    const route = opts.routes?.[`${req.method} ${path}`] ?? opts.routes?.[path];
    if (route) {
      Promise.resolve(route(req, res)).catch((err: unknown) => {
        opts.log.error({ err, path }, 'status route failed');
        if (!res.headersSent) json(500, { error: 'internal error' });
      });
      return;
    }
    json(404, { error: `no such path: ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
