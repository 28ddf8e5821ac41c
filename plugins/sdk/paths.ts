/** The client protocols the gateway speaks; errors are shaped per protocol. */
export type Protocol = 'openai' | 'kserve-v2' | 'tfserving';

/** What the path of a request says about its target; the gateway parses it once per request (`ctx.request.target`). */
export interface PathTarget {
  /** The model named in the path; undefined when it is in the body (OpenAI) or for server-level paths. */
  model?: string;
  /** Version (or alias/label) named in the path. */
  version?: string;
  /** The verb: `infer`, `ready`, `metadata`, `predict`, `chat/completions`, ... */
  action: string;
  /** Rebuilds the path for a concrete version, when the path carried an alias. */
  withVersion?(version: string): string;
}

const V2 = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(infer|ready))?$/;
const V2_SERVER = /^\/v2(?:\/health\/(live|ready))?$/;
/** TF Serving's REST paths: /v1/models/{name}[/versions/{v}|/labels/{l}][:verb|/metadata]. Also decides the protocol (protocol.ts). */
export const TF_PATH = /^\/v1\/models\/([^/:]+)(?:\/(versions|labels)\/([^/:]+))?(?::([a-z]+)|\/(metadata))?$/;
const TF_VERBS = new Set(['predict', 'classify', 'regress']);
const OPENAI_INFERENCE = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses the pathname for the protocol; undefined means the path is not one the protocol defines. */
export function parseTarget(protocol: Protocol, pathname: string): PathTarget | undefined {
  if (protocol === 'kserve-v2') {
    const server = V2_SERVER.exec(pathname);
    if (server) return { action: server[1] ? `health/${server[1]}` : 'server-metadata' };
    const m = V2.exec(pathname);
    if (!m) return undefined;
    const model = decode(m[1] as string);
    const version = m[2] === undefined ? undefined : decode(m[2]);
    if (model === undefined || (m[2] !== undefined && version === undefined)) return undefined;
    const action = m[3] ?? 'metadata';
    return {
      model,
      version,
      action,
      withVersion: (v) => `/v2/models/${m[1]}/versions/${encodeURIComponent(v)}${m[3] ? `/${m[3]}` : ''}`,
    };
  }
  if (protocol === 'tfserving') {
    const m = TF_PATH.exec(pathname);
    if (!m || (m[4] !== undefined && !TF_VERBS.has(m[4]))) return undefined;
    const model = decode(m[1] as string);
    const version = m[3] === undefined ? undefined : decode(m[3]);
    if (model === undefined || (m[3] !== undefined && version === undefined)) return undefined;
    const suffix = m[4] ? `:${m[4]}` : m[5] ? '/metadata' : '';
    return {
      model,
      version,
      action: m[4] ?? m[5] ?? 'status',
      withVersion: (v) => `/v1/models/${m[1]}/versions/${encodeURIComponent(v)}${suffix}`,
    };
  }
  if (OPENAI_INFERENCE.has(pathname)) return { action: pathname.slice('/v1/'.length) };
  if (pathname === '/v1/models') return { action: 'list-models' };
  const retrieve = /^\/v1\/models\/([^/]+)$/.exec(pathname);
  if (retrieve) {
    const model = decode(retrieve[1] as string);
    return model === undefined ? undefined : { action: 'retrieve-model', model };
  }
  return undefined;
}
