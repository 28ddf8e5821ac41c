// OTLP export of one span per request, against a local receiver; W3C traceparent handling.
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { drive, msg, mutations, testRuntime } from '../harness/drive-processor.js';
import { startOtlpReceiver } from '../harness/otlp-receiver.js';

const receiver = await startOtlpReceiver();
afterAll(() => receiver.close());

const models: GatewayConfigInput['models'] = {
  sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] }, v2: { endpoints: ['127.0.0.1:1'] } } },
};
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

describe('tracing', () => {
  it('is off by default: a client traceparent passes through untouched and nothing is exported', async () => {
    const runtime = await testRuntime({ plugins: [{ type: 'model-router' }], models });
    const [headers] = await drive(runtime, [
      msg.requestHeaders({ ':method': 'GET', ':path': '/v2/models/sentiment/versions/v1', traceparent: `00-${TRACE}-${PARENT}-01` }, true),
    ]);
    expect(mutations(headers)).not.toHaveProperty('traceparent');
    expect(runtime.globalChain.map((p) => p.type)).toEqual(['model-router']);
  });

  it('exports a span per request with model, version and consumer, continuing the client trace', async () => {
    const runtime = await testRuntime({
      plugins: [{ type: 'model-router' }],
      models,
      tracing: { otlp: { endpoint: receiver.url, serviceName: 'gw-test' } },
    });
    const answers = await drive(runtime, [
      msg.requestHeaders({ ':method': 'POST', ':path': '/v2/models/sentiment/versions/v2/infer', traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'r-1' }, true),
      msg.responseHeaders({ ':status': '200' }, true),
    ]);
    const [, , upstreamSpan, flags] = (mutations(answers[0]).traceparent ?? '').split('-');
    expect(mutations(answers[0]).traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(upstreamSpan).not.toBe(PARENT);
    await runtime.close(); // flushes the exporter

    const span = receiver.spans.find((s) => s.traceId === TRACE);
    expect(span).toMatchObject({
      spanId: upstreamSpan,
      parentSpanId: PARENT,
      name: 'gateway sentiment',
      attributes: { 'gateway.model': 'sentiment', 'gateway.model_version': 'v2', 'gateway.request_id': 'r-1', 'http.response.status_code': 200 },
      resource: { 'service.name': 'gw-test' },
    });
    expect(flags).toBe('01');
    expect(BigInt(span?.endTimeUnixNano ?? 0)).toBeGreaterThan(BigInt(span?.startTimeUnixNano ?? 0));
  });

  it('starts a trace when the client sent none', async () => {
    const runtime = await testRuntime({ plugins: [{ type: 'model-router' }], models, tracing: { otlp: { endpoint: receiver.url } } });
    const [headers] = await drive(runtime, [msg.requestHeaders({ ':method': 'GET', ':path': '/v2/models/sentiment/versions/v1' }, true)]);
    const [, traceId, spanId] = (mutations(headers).traceparent ?? '').split('-');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await runtime.close();
    const span = receiver.spans.find((s) => s.traceId === traceId);
    expect(span?.spanId).toBe(spanId);
    expect(span?.parentSpanId).toBeUndefined();
  });

  it('follows a client that did not sample: propagates, records nothing', async () => {
    const runtime = await testRuntime({ plugins: [{ type: 'model-router' }], models, tracing: { otlp: { endpoint: receiver.url } } });
    const trace = 'aaaa651916cd43dd8448eb211c80319c';
    const [headers] = await drive(runtime, [
      msg.requestHeaders({ ':method': 'GET', ':path': '/v2/models/sentiment/versions/v1', traceparent: `00-${trace}-${PARENT}-00` }, true),
    ]);
    expect(mutations(headers).traceparent).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`));
    await runtime.close();
    expect(receiver.spans.some((s) => s.traceId === trace)).toBe(false);
  });
});
