import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../plugins/index.js';
import { definePlugin, z, type RequestOutcome } from '../plugins/sdk/index.js';
import { parseConfigText } from './config/load.js';
import { ExternalProcessorClient, type ProcessingRequest, type ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from './logger.js';
import { createRegistry } from './registry.js';
import { buildRuntime } from './runtime.js';
import { startExtProcServer, type ExtProcServer } from './server.js';
import type { RequestSummary } from './stream.js';
import { TRANSPORTS } from './transport/types.js';

// Envoy's side of the stream, played by a grpc-js client: the server must answer each
// message in order and run `end` however the stream stops.

/** Outcome seen by an `end` hook, per request id. */
const ends = new Map<string, RequestOutcome>();
const recorder = definePlugin({
  type: 'recorder',
  options: z.object({}),
  setup: () => ({ end: (ctx) => void ends.set(ctx.request.id, { ...ctx.outcome }) }),
});

describe.each(TRANSPORTS)('ext_proc gRPC server (%s transport)', (transport) => {
  const summaries: RequestSummary[] = [];
  let server: ExtProcServer;
  let client: ExternalProcessorClient;

  beforeAll(async () => {
    const config = parseConfigText(`
  plugins: [{ type: model-router }, { type: recorder }]
  models:
    sentiment: { protocol: kserve-v2, versions: { v1: { endpoints: ["127.0.0.1:1"] } } }
  `);
    const runtime = await buildRuntime({ config, hash: 't', path: '/tmp/gateway.yaml' }, await createRegistry([...builtinPlugins, recorder]), createLogger('silent'));
    server = await startExtProcServer({
      listen: { host: '127.0.0.1', port: 0 },
      transport,
      maxMessageBytes: 1024 * 1024,
      log: createLogger('silent'),
      runtime: () => runtime,
      observer: { finished: (s) => void summaries.push(s) },
    });
    client = new ExternalProcessorClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown(1000);
  });

  const headers = (pairs: Record<string, string>, endOfStream: boolean): ProcessingRequest['request'] => ({
    $case: 'requestHeaders',
    value: { headers: { headers: Object.entries(pairs).map(([key, v]) => ({ key, value: '', rawValue: Buffer.from(v) })) }, attributes: {}, endOfStream },
  });

  const message = (request: ProcessingRequest['request']): ProcessingRequest => ({ request, attributes: {}, observabilityMode: false });

  /** The outcome once the end hooks of request `id` ran: the server runs them after the stream closes. */
  async function endOf(id: string): Promise<RequestOutcome | undefined> {
    for (let i = 0; i < 200 && !ends.has(id); i++) await new Promise((r) => setTimeout(r, 5));
    return ends.get(id);
  }

  describe('streams', () => {
    it('answers each message of a stream in order with the matching kind, then runs end hooks', async () => {
      const call = client.process();
      const answers: ProcessingResponse[] = [];
      call.on('data', (r: ProcessingResponse) => answers.push(r));
      const closed = new Promise<void>((resolve) => call.on('end', () => resolve()));

      call.write(message(headers({ ':method': 'POST', ':path': '/v2/models/sentiment/infer', 'x-request-id': `r1-${transport}` }, false)));
      call.write(message({ $case: 'responseHeaders', value: { headers: { headers: [{ key: ':status', value: '', rawValue: Buffer.from('200') }] }, attributes: {}, endOfStream: true } }));
      call.end();
      await closed;

      expect(answers.map((a) => a.response?.$case)).toEqual(['requestHeaders', 'responseHeaders']);
      const first = answers[0]?.response;
      const set = first?.$case === 'requestHeaders' ? first.value.response?.headerMutation?.setHeaders : [];
      expect(set?.find((h) => h.header?.key === 'x-gateway-cluster')?.header?.rawValue.toString()).toBe('sentiment@v1');
      expect(answers[0]?.modeOverride).toBeDefined();
      expect(await endOf(`r1-${transport}`)).toEqual({ status: 200, cancelled: false });
      expect(summaries.find((s) => s.request?.id === `r1-${transport}`)?.route).toMatchObject({ model: 'sentiment', version: 'v1' });
    });

    it('answers an unknown model with an immediate 404 in the client protocol', async () => {
      const call = client.process();
      const answer = new Promise<ProcessingResponse>((resolve) => call.once('data', resolve));
      call.write(message(headers({ ':method': 'POST', ':path': '/v2/models/nope/infer' }, true)));
      const r = await answer;
      call.end();
      expect(r.response?.$case).toBe('immediateResponse');
      if (r.response?.$case !== 'immediateResponse') return;
      expect(r.response.value.status?.code).toBe(404);
      expect(JSON.parse(r.response.value.body.toString())).toMatchObject({ code: 'model_not_found' });
    });

    it('treats a stream cancelled mid-request as a cancellation: end hooks run with cancelled set', async () => {
      const call = client.process();
      const answered = new Promise<void>((resolve) => call.once('data', () => resolve()));
      call.on('error', () => {}); // the client side sees CANCELLED; expected.
      call.write(message(headers({ ':method': 'POST', ':path': '/v2/models/sentiment/infer', 'x-request-id': `gone-${transport}` }, false)));
      await answered;
      call.cancel();
      expect(await endOf(`gone-${transport}`)).toEqual({ cancelled: true });
      expect(server.inFlight()).toBe(0);
    });

    it('survives a message without a phase: that stream fails with FAILED_PRECONDITION, the next one works', async () => {
      const call = client.process();
      const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
      call.write(message(undefined));
      expect((await failed).code).toBe(grpc.status.FAILED_PRECONDITION);

      const next = client.process();
      const answer = new Promise<ProcessingResponse>((resolve) => next.once('data', resolve));
      next.write(message(headers({ ':method': 'GET', ':path': '/v2/health/ready' }, true)));
      expect((await answer).response?.$case).toBe('immediateResponse');
      next.end();
    });
  });
});
