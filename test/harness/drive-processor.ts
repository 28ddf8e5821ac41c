// Drives a StreamProcessor the way Envoy's ext_proc filter would, without Envoy or gRPC: for
// unit tests of plugins and of what the core reports (metrics, access log, traces).
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { ProcessingRequest, type ProcessingResponse } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { createRegistry } from '../../ext-proc/registry.js';
import { buildRuntime, type Runtime } from '../../ext-proc/runtime.js';
import { StreamProcessor, type RequestObserver } from '../../ext-proc/stream.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { PluginDef } from '../../plugins/sdk/types.js';

export async function testRuntime(
  input: GatewayConfigInput,
  opts: { plugins?: readonly PluginDef[]; log?: Logger } = {},
): Promise<Runtime> {
  const text = stringify(input);
  const log = opts.log ?? pino({ level: 'silent' });
  const registry = await createRegistry([...builtinPlugins, ...(opts.plugins ?? [])], [], process.cwd());
  return buildRuntime({ config: parseConfigText(text), hash: 'test', path: `${process.cwd()}/test.yaml` }, registry, log);
}

function headerMap(headers: Record<string, string>) {
  return { headers: Object.entries(headers).map(([key, value]) => ({ key, value: '', rawValue: Buffer.from(value, 'latin1') })) };
}

export const msg = {
  requestHeaders: (headers: Record<string, string>, endOfStream = false): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'requestHeaders', value: { headers: headerMap(headers), endOfStream } } }),
  requestBody: (body: string | Buffer, endOfStream = true): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'requestBody', value: { body: Buffer.from(body), endOfStream } } }),
  responseHeaders: (headers: Record<string, string>, endOfStream = false): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'responseHeaders', value: { headers: headerMap(headers), endOfStream } } }),
  responseBody: (body: string | Buffer, endOfStream = true): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'responseBody', value: { body: Buffer.from(body), endOfStream } } }),
};

/** Sends the messages in order, then ends the stream; returns every answer. */
export async function drive(
  runtime: Runtime,
  messages: ProcessingRequest[],
  opts: { observer?: RequestObserver; log?: Logger; cancelled?: boolean } = {},
): Promise<ProcessingResponse[]> {
  const p = new StreamProcessor(runtime, opts.log ?? pino({ level: 'silent' }), opts.observer);
  const out: ProcessingResponse[] = [];
  for (const m of messages) {
    const r = await p.handle(m);
    out.push(r);
    if (r.response?.$case === 'immediateResponse') break;
  }
  await p.end(opts.cancelled ?? false);
  return out;
}

/** Header mutations an answer carries, as a plain object (removals as null). */
export function mutations(r: ProcessingResponse | undefined): Record<string, string | null> {
  const v = r?.response?.value as { response?: { headerMutation?: { setHeaders: { header?: { key: string; rawValue: Buffer } }[]; removeHeaders: string[] } } } | undefined;
  const m = v?.response?.headerMutation;
  const out: Record<string, string | null> = {};
  for (const h of m?.setHeaders ?? []) if (h.header) out[h.header.key] = h.header.rawValue.toString('latin1');
  for (const k of m?.removeHeaders ?? []) out[k] = null;
  return out;
}
