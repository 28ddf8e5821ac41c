import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { HttpRoute } from '../http-status.js';
import { decideAccess, sameOriginWrite } from './access.js';
import type { ActionResult, ConfigActions } from './actions.js';
import type { ConsoleConfig } from '../config/console.js';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const MAX_BODY_BYTES = 64 * 1024;

// The page sends these; anything else is a 400 before the config file is touched.
const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/);
const WeightsBody = z.object({ model: Name, weights: z.record(Name, z.number().min(0).max(1e6)) }).strict();
const AliasBody = z.object({ model: Name, alias: Name, version: Name }).strict();

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...SECURITY_HEADERS, ...extra }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SyntaxError('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export interface RouteDeps {
  boundHost: string;
  /** The console's config in force (read per request: a reload changes keys and actions). */
  settings(): ConsoleConfig;
  state(): Promise<unknown>;
  actions: ConfigActions;
}

/** The console's routes for the status server: the page, its assets, its state and its actions. */
export function consoleRoutes(deps: RouteDeps): Record<string, HttpRoute> {
  const guard =
    (handler: HttpRoute): HttpRoute =>
    async (req, res) => {
      const settings = deps.settings();
      if (!settings.enabled) return json(res, 404, { error: 'the console is disabled (console.enabled: false)' });
      const access = decideAccess(req, deps.boundHost, settings.adminKeys);
      if (!access.ok) {
        return json(res, access.status, { error: access.error }, access.challenge ? { 'www-authenticate': 'Basic realm="gateway console", charset="UTF-8"' } : {});
      }
      return handler(req, res);
    };

  const routes: Record<string, HttpRoute> = {};
  for (const file of readdirSync(STATIC_DIR)) {
    const body = readFileSync(join(STATIC_DIR, file));
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const serve: HttpRoute = (_req, res) => void res.writeHead(200, { 'content-type': type, ...SECURITY_HEADERS }).end(body);
    routes[`GET /console/${file}`] = guard(serve);
    if (file === 'index.html') {
      routes['GET /'] = guard(serve);
      routes['GET /console'] = guard(serve);
    }
  }
  routes['GET /console/api/state'] = guard(async (_req, res) => json(res, 200, await deps.state()));

  const action = (run: (body: unknown) => Promise<ActionResult>): HttpRoute =>
    guard(async (req, res) => {
      if (!deps.settings().actions) return json(res, 403, { error: 'console actions are off (console.actions: true in the config turns them on)' });
      const refused = sameOriginWrite(req);
      if (refused) return json(res, 403, { error: refused });
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return json(res, 400, { error: `the body is not JSON: ${(err as Error).message}` });
      }
      let result: ActionResult;
      try {
        result = await run(body);
      } catch (err) {
        if (err instanceof z.ZodError) return json(res, 400, { error: err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
        throw err;
      }
      return result.applied ? json(res, 200, result) : json(res, result.status, { error: result.error });
    });
  routes['POST /console/api/weights'] = action(async (body) => {
    const b = WeightsBody.parse(body);
    return deps.actions.weights(b.model, b.weights);
  });
  routes['POST /console/api/alias'] = action(async (body) => {
    const b = AliasBody.parse(body);
    return deps.actions.alias(b.model, b.alias, b.version);
  });
  routes['POST /console/api/rollback'] = action(async () => deps.actions.rollback());
  return routes;
}
