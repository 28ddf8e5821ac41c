// The ext_proc messages the processor benchmark replays, and the runtime it runs them on. Not an
// Envoy stand-in (tests use the SDK harness's simulator): the bench sends one fixed exchange and
// measures the processor's own work on it.
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { parseConfigText } from '../ext-proc/config/load.js';
import type { GatewayConfigInput } from '../ext-proc/config/schema.js';
import { ProcessingRequest } from '../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { createRegistry } from '../ext-proc/registry.js';
import { buildRuntime, type Runtime } from '../ext-proc/runtime.js';
import { builtinPlugins } from '../plugins/index.js';
import { bodyModelMetadata } from '../plugins/sdk/envoy-sim-metadata.js';

export async function benchRuntime(input: GatewayConfigInput, log: Logger): Promise<Runtime> {
  const registry = await createRegistry(builtinPlugins, [], process.cwd());
  return buildRuntime({ config: parseConfigText(stringify(input)), hash: 'bench', path: `${process.cwd()}/bench.yaml` }, registry, log);
}

function headerMap(headers: Record<string, string>) {
  return { headers: Object.entries(headers).map(([key, value]) => ({ key, value: '', rawValue: Buffer.from(value, 'latin1') })) };
}

export const msg = {
  /** With the metadata Envoy forwards for an OpenAI body (its `model`, read by json_to_metadata), when `body` is given. */
  requestHeaders: (headers: Record<string, string>, endOfStream = false, body?: string | Buffer): ProcessingRequest =>
    ProcessingRequest.fromPartial({
      request: { $case: 'requestHeaders', value: { headers: headerMap(headers), endOfStream } },
      metadataContext: body === undefined ? undefined : bodyModelMetadata(headers[':path'] ?? '/', Buffer.from(body)),
    }),
  requestBody: (body: string | Buffer, endOfStream = true): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'requestBody', value: { body: Buffer.from(body), endOfStream } } }),
  responseHeaders: (headers: Record<string, string>, endOfStream = false): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'responseHeaders', value: { headers: headerMap(headers), endOfStream } } }),
  responseBody: (body: string | Buffer, endOfStream = true): ProcessingRequest =>
    ProcessingRequest.fromPartial({ request: { $case: 'responseBody', value: { body: Buffer.from(body), endOfStream } } }),
};
