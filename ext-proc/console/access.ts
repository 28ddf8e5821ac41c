import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { KeyTable } from '../../plugins/sdk/keys.js';

/** Whether a bind address only takes connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** `Host: 127.0.0.1:9464` → `127.0.0.1`; `[::1]:9464` → `::1`. */
function hostname(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

/** The key a request presents: `Authorization: Bearer <key>`, or Basic with the key as password (the browser's prompt). */
export function presentedKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value = ''] = authorization.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value.trim() || undefined;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1) || undefined;
  }
  return undefined;
}

export type AccessDecision =
  | { ok: true }
  | { ok: false; status: 401 | 403; error: string; challenge?: boolean };

/**
 * Who may open the console. Admin keys configured: only a request presenting one (checked in
 * constant time against the stored hashes). None configured: only when the port is bound to
 * loopback, and only under a loopback host name, so a web page whose domain resolves to
 * 127.0.0.1 (DNS rebinding) cannot read it from the operator's browser.
 */
export function decideAccess(req: Pick<IncomingMessage, 'headers'>, boundHost: string, adminKeys: readonly string[]): AccessDecision {
  if (adminKeys.length > 0) {
    const key = presentedKey(req.headers.authorization);
    if (key !== undefined && new KeyTable([{ id: 'admin', keys: adminKeys }]).match(key)) return { ok: true };
    return { ok: false, status: 401, error: 'the console needs an admin key (console.adminKeys)', challenge: true };
  }
  if (!isLoopbackHost(boundHost)) {
    return { ok: false, status: 403, error: `the console is bound to ${boundHost}, beyond loopback: set console.adminKeys to open it` };
  }
  if (!isLoopbackHost(hostname(req.headers.host))) {
    return { ok: false, status: 403, error: 'the console answers loopback host names only (127.0.0.1, localhost, [::1])' };
  }
  return { ok: true };
}

/**
 * A state-changing request must come from the console's own page: it sends a custom header,
 * which a cross-site form or fetch cannot without a CORS preflight (never granted here), and
 * an Origin, when present, naming this host.
 */
export function sameOriginWrite(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  if (req.headers['x-gateway-console'] !== '1') return 'missing x-gateway-console: 1 (actions come from the console page)';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'malformed Origin';
    }
    if (host !== req.headers.host) return `cross-origin request from ${origin}`;
  } else if (origin === 'null') {
    return 'opaque Origin';
  }
  return undefined;
}
