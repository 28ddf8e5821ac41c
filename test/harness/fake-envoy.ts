import { stringify } from 'yaml';
import { builtinPlugins } from '../../plugins/index.js';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { createLogger } from '../../ext-proc/logger.js';
import { createRegistry } from '../../ext-proc/registry.js';
import { buildRuntime, type Runtime } from '../../ext-proc/runtime.js';
import { StreamProcessor } from '../../ext-proc/stream.js';
import { BodyMode } from '../../ext-proc/envoy-messages.js';
import type { ProcessingResponse } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';

/** A runtime built from a config object, as the ext-proc builds it from its file. */
export async function testRuntime(input: GatewayConfigInput): Promise<Runtime> {
  const text = stringify(input);
  const config = parseConfigText(text, 'test config');
  const registry = await createRegistry(builtinPlugins, [], process.cwd());
  return buildRuntime({ config, hash: 'test', path: `${process.cwd()}/gateway.yaml` }, registry, createLogger('silent'));
}

function headerList(headers: Record<string, string | string[]>) {
  return Object.entries(headers).flatMap(([key, v]) =>
    (Array.isArray(v) ? v : [v]).map((value) => ({ key, value: '', rawValue: Buffer.from(value, 'latin1') })),
  );
}

/** What the ext-proc told Envoy to do with one message's headers. */
export interface Mutations {
  set: Record<string, string>;
  removed: string[];
  clearRouteCache: boolean;
}

export function mutationsOf(res: ProcessingResponse): Mutations {
  const r = res.response;
  const common = r && r.$case !== 'immediateResponse' && 'response' in r.value ? r.value.response : undefined;
  const set: Record<string, string> = {};
  for (const h of common?.headerMutation?.setHeaders ?? []) {
    if (h.header) set[h.header.key] = h.header.rawValue.toString('latin1');
  }
  return { set, removed: common?.headerMutation?.removeHeaders ?? [], clearRouteCache: common?.clearRouteCache ?? false };
}

export function immediateOf(res: ProcessingResponse): { status: number; body: unknown } | undefined {
  const r = res.response;
  if (r?.$case !== 'immediateResponse') return undefined;
  return { status: r.value.status?.code ?? 0, body: JSON.parse(r.value.body.toString('utf8')) as unknown };
}

/**
 * Plays Envoy's side of one ext_proc stream against a StreamProcessor: request headers, an
 * optional body, response headers, end.
 */
export class FakeExchange {
  readonly processor: StreamProcessor;

  constructor(runtime: Runtime) {
    this.processor = new StreamProcessor(runtime, createLogger('silent'));
  }

  requestHeaders(method: string, path: string, headers: Record<string, string | string[]> = {}, endOfStream = false) {
    const all = { ':method': method, ':path': path, ':authority': 'gateway', ...headers };
    return this.processor.handle({
      request: { $case: 'requestHeaders', value: { headers: { headers: headerList(all) }, endOfStream, attributes: {} } },
    } as never);
  }

  requestBody(body: unknown) {
    const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return this.processor.handle({ request: { $case: 'requestBody', value: { body: buf, endOfStream: true } } } as never);
  }

  responseHeaders(status: number, headers: Record<string, string> = {}) {
    const all = { ':status': String(status), 'content-type': 'application/json', ...headers };
    return this.processor.handle({
      request: { $case: 'responseHeaders', value: { headers: { headers: headerList(all) }, endOfStream: true, attributes: {} } },
    } as never);
  }

  /** Sends the request (headers, then the body when the processor asked for it): the routing decision. */
  async route(method: string, path: string, opts: { headers?: Record<string, string | string[]>; body?: unknown } = {}) {
    const first = await this.requestHeaders(method, path, { 'content-type': 'application/json', ...opts.headers }, opts.body === undefined);
    const immediate = immediateOf(first);
    // Envoy sends the body only when the processor left the request body mode on.
    const bodySkipped = first.modeOverride !== undefined && first.modeOverride.requestBodyMode === BodyMode.NONE;
    if (immediate || opts.body === undefined || bodySkipped) return { response: first, mutations: mutationsOf(first), immediate };
    const second = await this.requestBody(opts.body);
    const headerMutations = mutationsOf(first);
    const bodyMutations = mutationsOf(second);
    return {
      response: second,
      mutations: { ...bodyMutations, set: { ...headerMutations.set, ...bodyMutations.set }, removed: [...headerMutations.removed, ...bodyMutations.removed] },
      immediate: immediateOf(second),
    };
  }
}
