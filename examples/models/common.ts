// Shared plumbing for the demo model servers: a tiny router over node:http, JSON helpers,
// the /__demo/ test-control surface (stats + fault injection) and CLI bootstrapping.
// Protocol-specific code lives in each server; this module knows nothing about models.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export interface DemoServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Error thrown by handlers; rendered by the server's protocol-specific `errorBody`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { code?: string; param?: string; type?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export type RouteKind = 'health' | 'inference' | 'other';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Raw (still percent-encoded) pathname. */
  path: string;
  query: URLSearchParams;
  body: Buffer;
  /** Percent-decoded capture groups of the matched route pattern. */
  params: string[];
  /** False while the `notready` fault is active; health handlers answer 503 then. */
  ready: boolean;
  /** Aborts when the client goes away, so streaming handlers stop early. */
  signal: AbortSignal;
}

export type Handler = (ctx: RequestContext) => void | Promise<void>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  pattern: RegExp;
  /** Drives stats (health checks are counted apart) and which requests faults apply to. */
  kind: RouteKind;
  methods: Partial<Record<Method, Handler>>;
}

export interface DemoAppOptions {
  host?: string;
  port?: number;
  /** Instance label sent back as `x-demo-instance` on every response. */
  name: string;
  routes: Route[];
  /** Renders an error in the protocol's own JSON shape. */
  errorBody(err: HttpError): unknown;
  maxBodyBytes?: number;
  /** How long close() waits for in-flight responses (e.g. SSE streams) before cutting them. */
  closeGraceMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
const STATS_BODY_LIMIT = 4096;
const RECENT_LIMIT = 50;

// ---------------------------------------------------------------------------------------
// JSON helpers

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(payload.length),
  });
  res.end(payload);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body of ${declared} bytes exceeds limit of ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new HttpError(413, `request body exceeds limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Parses a JSON body; malformed input becomes a 400 in the caller's protocol shape. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'request body is empty; expected JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${(err as Error).message}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------
// Test-control surface: request stats and fault injection

interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface LastRequest extends RecordedRequest {
  body: string;
  bodyBytes: number;
}

class RequestStats {
  requests = 0;
  healthChecks = 0;
  byPath: Record<string, number> = {};
  last: LastRequest | null = null;
  recent: RecordedRequest[] = [];

  /** Health checks only bump counters: a prober polling every second must not evict real traffic. */
  record(method: string, path: string, headers: IncomingHttpHeaders, kind: RouteKind): LastRequest | null {
    this.byPath[path] = (this.byPath[path] ?? 0) + 1;
    if (kind === 'health') {
      this.healthChecks++;
      return null;
    }
    this.requests++;
    const entry: LastRequest = { method, path, headers, body: '', bodyBytes: 0 };
    this.last = entry;
    this.recent.push({ method, path, headers });
    if (this.recent.length > RECENT_LIMIT) this.recent.shift();
    return entry;
  }

  reset(): void {
    this.requests = 0;
    this.healthChecks = 0;
    this.byPath = {};
    this.last = null;
    this.recent = [];
  }

  toJSON() {
    return {
      requests: this.requests,
      healthChecks: this.healthChecks,
      byPath: this.byPath,
      last: this.last,
      recent: this.recent,
    };
  }
}

const faultSchema = z.object({
  mode: z.enum(['ok', 'slow', 'error', 'notready', 'reset']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  status: z.number().int().min(400).max(599).optional(),
  /** Apply to the next N inference requests only, then revert to ok (handy for retry tests). */
  count: z.number().int().min(1).optional(),
});
type FaultSpec = z.infer<typeof faultSchema>;

type FaultAction = { kind: 'slow'; delayMs: number } | { kind: 'error'; status: number } | { kind: 'reset' };

class FaultState {
  spec: FaultSpec = { mode: 'ok' };

  get ready(): boolean {
    return this.spec.mode !== 'notready';
  }

  /** The action for the next inference request, consuming one use of a counted fault. */
  take(): FaultAction | null {
    const spec = this.spec;
    if (spec.mode === 'ok' || spec.mode === 'notready') return null;
    if (spec.count !== undefined) {
      this.spec = spec.count <= 1 ? { mode: 'ok' } : { ...spec, count: spec.count - 1 };
    }
    if (spec.mode === 'slow') return { kind: 'slow', delayMs: spec.delayMs ?? 1000 };
    if (spec.mode === 'error') return { kind: 'error', status: spec.status ?? 500 };
    return { kind: 'reset' };
  }
}

// ---------------------------------------------------------------------------------------
// Server

export function startDemoServer(opts: DemoAppOptions): Promise<DemoServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const stats = new RequestStats();
  const faults = new FaultState();

  const sendError = (res: ServerResponse, err: HttpError) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    sendJson(res, err.status, opts.errorBody(err), err.extra.headers);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '/__demo/stats' && method === 'GET') return sendJson(res, 200, stats);
    if (path === '/__demo/reset-stats' && method === 'POST') {
      stats.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/__demo/fault' && method === 'GET') return sendJson(res, 200, faults.spec);
    if (path === '/__demo/fault' && method === 'POST') {
      let parsed: unknown;
      try {
        parsed = parseJson(await readBody(req, 64 * 1024));
      } catch (err) {
        return sendJson(res, 400, { error: (err as Error).message });
      }
      const result = faultSchema.safeParse(parsed);
      if (!result.success) return sendJson(res, 400, { error: `invalid fault: ${z.prettifyError(result.error)}` });
      faults.spec = result.data;
      return sendJson(res, 200, faults.spec);
    }
    sendJson(res, 404, { error: `unknown demo control endpoint ${method} ${path}` });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('x-demo-instance', opts.name);
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const path = url.pathname;
    if (path.startsWith('/__demo/')) return control(req, res, path);

    // HEAD is answered by the GET handler; node drops the body for us.
    const method = (req.method ?? 'GET') === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const match = matchRoute(opts.routes, path);
    const handler = match?.route.methods[method as Method];
    const kind: RouteKind = match && handler ? match.route.kind : 'other';
    const recorded = stats.record(req.method ?? 'GET', path, req.headers, kind);

    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (err) {
      res.setHeader('connection', 'close');
      return sendError(res, err instanceof HttpError ? err : new HttpError(400, (err as Error).message));
    }
    if (recorded) {
      recorded.body = body.subarray(0, STATS_BODY_LIMIT).toString('utf8');
      recorded.bodyBytes = body.length;
    }

    if (!match) return sendError(res, new HttpError(404, `no route for ${req.method} ${path}`));
    if (!handler) {
      const allow = Object.keys(match.route.methods).join(', ');
      return sendError(res, new HttpError(405, `method ${req.method} not allowed on ${path}; allowed: ${allow}`, { headers: { allow } }));
    }

    const abort = new AbortController();
    res.once('close', () => abort.abort());

    if (kind === 'inference') {
      const fault = faults.take();
      if (fault?.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'error') {
        return sendError(res, new HttpError(fault.status, `demo fault injected: status ${fault.status}`));
      }
      if (fault?.kind === 'slow') {
        try {
          await sleep(fault.delayMs, undefined, { signal: abort.signal });
        } catch {
          return; // client gave up while we were stalling
        }
      }
    }

    await handler({
      req,
      res,
      method,
      path,
      query: url.searchParams,
      body,
      params: match.params,
      ready: faults.ready,
      signal: abort.signal,
    });
  };

  // Accept what Envoy lets through (max_request_headers_kb: 60): Node's 16 KiB default would
  // answer bodiless 431s for headers the gateway already accepted.
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendError(res, err instanceof HttpError ? err : new HttpError(500, `internal error: ${(err as Error)?.message ?? String(err)}`));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${urlHost}:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 2000).unref();
          }),
      });
    });
  });
}

function matchRoute(routes: Route[], path: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    try {
      return { route, params: m.slice(1).map((p) => decodeURIComponent(p ?? '')) };
    } catch {
      return null; // malformed percent-encoding: treat as no route
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Async helpers

/** Resolves false instead of throwing when aborted, so streaming loops can just stop. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// CLI bootstrapping

export interface CommonFlags {
  host: string;
  port: number;
  name: string | undefined;
}

type FlagSpec = Record<string, { type: 'string'; default?: string } | { type: 'boolean'; default?: boolean }>;

/**
 * Parses --host/--port/--name plus server-specific string flags. Unknown flags are an error
 * so a typo in a test harness fails loudly instead of silently using a default.
 */
export function parseCli<T extends FlagSpec>(
  argv: string[],
  extra: T,
  defaultPort: number,
): CommonFlags & { values: { [K in keyof T]: T[K] extends { type: 'boolean' } ? boolean | undefined : string | undefined } } {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      name: { type: 'string' },
      ...extra,
    },
    strict: true,
    allowPositionals: false,
  });
  const v = values as Record<string, string | boolean | undefined>;
  const portText = typeof v.port === 'string' ? v.port : String(defaultPort);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${portText}`);
  const name = typeof v.name === 'string' ? v.name : process.env.DEMO_NAME;
  return { host: String(v.host), port, name, values: v as never };
}

/** True when `moduleUrl` is the script node was asked to run (not merely imported). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(entry).href;
}

/** Starts a server, announces it on stdout for a parent process, and closes it on signals. */
export async function runCli(start: () => Promise<DemoServer>): Promise<void> {
  let server: DemoServer;
  try {
    server = await start();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.port })}\n`);
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
