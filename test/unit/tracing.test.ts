// OTLP export of one span per request, against a local receiver; W3C traceparent handling.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGatewayOptions, type TestResult } from '../../plugins/sdk/testing.js';
import { startOtlpReceiver } from '../harness/otlp-receiver.js';

const receiver = await startOtlpReceiver();
afterAll(() => receiver.close());

const models: TestGatewayOptions['models'] = { sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'] } };
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

const gateway = (tracing?: TestGatewayOptions['tracing']) => createTestGateway({ plugins: ['model-router'], models, ...(tracing && { tracing }) });
/** What the ext-proc set on the request headers it answered. */
const mutations = (res: TestResult) => res.messages.find((m) => m.phase === 'requestHeaders')?.headerMutation?.set ?? {};

describe('tracing', () => {
  it('is off by default: a client traceparent passes through untouched and nothing is exported', async () => {
    const gw = await gateway();
    const res = await gw.request({ method: 'GET', path: '/v2/models/sentiment/versions/v1', headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    expect(mutations(res)).not.toHaveProperty('traceparent');
    expect(gw.chain).toEqual(['model-router']);
  });

  it('exports a span per request with model, version and consumer, continuing the client trace', async () => {
    const gw = await gateway({ otlp: { endpoint: receiver.url, serviceName: 'gw-test' } });
    const res = await gw.request(
      { method: 'POST', path: '/v2/models/sentiment/versions/v2/infer', headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'r-1' } },
      { upstream: { status: 200 } },
    );
    const [, , upstreamSpan, flags] = (mutations(res).traceparent ?? '').split('-');
    expect(mutations(res).traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(upstreamSpan).not.toBe(PARENT);
    await gw.close(); // flushes the exporter

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
    const gw = await gateway({ otlp: { endpoint: receiver.url } });
    const res = await gw.request({ method: 'GET', path: '/v2/models/sentiment/versions/v1' });
    const [, traceId, spanId] = (mutations(res).traceparent ?? '').split('-');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await gw.close();
    const span = receiver.spans.find((s) => s.traceId === traceId);
    expect(span?.spanId).toBe(spanId);
    expect(span?.parentSpanId).toBeUndefined();
  });

  it('follows a client that did not sample: propagates, records nothing', async () => {
    const gw = await gateway({ otlp: { endpoint: receiver.url } });
    const trace = 'aaaa651916cd43dd8448eb211c80319c';
    const res = await gw.request({ method: 'GET', path: '/v2/models/sentiment/versions/v1', headers: { traceparent: `00-${trace}-${PARENT}-00` } });
    expect(mutations(res).traceparent).toMatch(new RegExp(`^00-${trace}-[0-9a-f]{16}-00$`));
    await gw.close();
    expect(receiver.spans.some((s) => s.traceId === trace)).toBe(false);
  });
});
