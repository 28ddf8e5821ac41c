// Raw ext_proc messages for tests that play a hostile or broken peer: sequences Envoy never
// sends, which the processor must refuse (issue 13). Tests of what Envoy does send use the
// SDK's one Envoy simulator (plugins/sdk/envoy-sim.ts) instead.
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { ProcessingRequest } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { createRegistry } from '../../ext-proc/registry.js';
import { buildRuntime, type Runtime } from '../../ext-proc/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { PluginDef } from '../../plugins/sdk/types.js';

export async function testRuntime(
  input: GatewayConfigInput,
  opts: { plugins?: readonly PluginDef[]; log?: Logger } = {},
): Promise<Runtime> {
  const log = opts.log ?? pino({ level: 'silent' });
  const registry = await createRegistry([...builtinPlugins, ...(opts.plugins ?? [])], [], process.cwd());
  return buildRuntime({ config: parseConfigText(stringify(input)), hash: 'test', path: `${process.cwd()}/test.yaml` }, registry, log);
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
