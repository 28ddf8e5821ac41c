// Observability through the real stack: /metrics moving under traffic (joined with Envoy's own
// stats), traceparent reaching the model server and spans exported over OTLP, the access log
// (no secrets in it), and the log level changed while running.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { baseConfig, demoStats, postJson, useStack } from '../harness/e2e.js';
import { startOtlpReceiver } from '../harness/otlp-receiver.js';

const receiver = await startOtlpReceiver();
afterAll(() => receiver.close());

const stack = useStack(
  baseConfig({
    plugins: [
      { type: 'model-router', name: 'router' },
      { type: 'openai-usage', name: 'usage' },
    ],
    tracing: { otlp: { endpoint: receiver.url, exportIntervalMs: 50 } },
  }),
);

/** Prometheus text → `name{labels}` → value (labels as printed, in order). */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
function sum(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, v] of samples) {
    const brace = key.indexOf('{');
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, l]) => key.includes(`${k}="${l}"`))) total += v;
  }
  return total;
}
const metricsUrl = () => `http://127.0.0.1:${stack().extProcs[0]?.httpPort}/metrics`;
const statusUrl = (path: string) => `http://127.0.0.1:${stack().extProcs[0]?.httpPort}${path}`;
const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a wonderful day'] }] };
const chat = (extra: object = {}) => ({ model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about the rabbit' }], max_tokens: 6, ...extra });

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('observability on the real stack', () => {
  it('metrics move under traffic and join Envoy cluster stats on model@version', async () => {
    const envoyStats = `${stack().adminUrl}/stats/prometheus`;
    const [before, envoyBefore] = await Promise.all([scrape(metricsUrl()), scrape(envoyStats)]);

    for (let i = 0; i < 3; i++) expect((await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2)).status).toBe(200);
    expect((await postJson(`${stack().url}/v2/models/sentiment/versions/canary/infer`, v2)).status).toBe(200);
    const plain = (await (await postJson(`${stack().url}/v1/chat/completions`, chat())).json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const streamed = await (await postJson(`${stack().url}/v1/chat/completions`, chat({ stream: true, stream_options: { include_usage: true } }))).text();
    const streamUsage = JSON.parse(
      streamed.split('\n').find((l) => l.startsWith('data: {') && l.includes('"usage":{'))?.slice(6) ?? 'null',
    ) as { usage: { prompt_tokens: number; completion_tokens: number } };
    expect((await postJson(`${stack().url}/v1/chat/completions`, chat({ model: 'nope' }))).status).toBe(404);

    // The access log line (and the metrics) are written when the ext_proc stream ends.
    const after = await until('the last request in the metrics', async () => {
      const m = await scrape(metricsUrl());
      return sum(m, 'gateway_requests_total') - sum(before, 'gateway_requests_total') >= 7 ? m : undefined;
    });
    const d = (name: string, labels: Record<string, string> = {}) => sum(after, name, labels) - sum(before, name, labels);

    expect(d('gateway_requests_total', { model: 'sentiment', version: 'v1', protocol: 'kserve-v2', status_class: '2xx' })).toBe(3);
    expect(d('gateway_requests_total', { model: 'tinylm', version: 'v1', status_class: '2xx' })).toBe(2);
    expect(d('gateway_requests_total', { model: '', status_class: '4xx' })).toBe(1);
    expect(d('gateway_route_decisions_total', { model: 'sentiment', version: 'v2', reason: 'alias:canary' })).toBe(1);
    expect(d('gateway_rejections_total', { reason: 'routing', code: 'model_not_found' })).toBe(1);
    expect(d('gateway_tokens_total', { model: 'tinylm', type: 'prompt' })).toBe(plain.usage.prompt_tokens + streamUsage.usage.prompt_tokens);
    expect(d('gateway_tokens_total', { model: 'tinylm', type: 'completion' })).toBe(plain.usage.completion_tokens + streamUsage.usage.completion_tokens);
    expect(d('gateway_time_to_first_token_seconds_count', { model: 'tinylm', version: 'v1' })).toBe(1);
    expect(d('gateway_request_duration_seconds_count', { model: 'sentiment', version: 'v1' })).toBe(3);
    expect(d('gateway_response_headers_duration_seconds_count', { model: 'tinylm', version: 'v1' })).toBe(2);
    expect(d('gateway_ext_proc_phase_duration_seconds_count', { phase: 'requestHeaders' })).toBe(7);
    expect(sum(after, 'gateway_config_info')).toBe(1);

    // Envoy's own series for the same traffic, joined on envoy_cluster_name="<model>@<version>".
    const envoyAfter = await scrape(envoyStats);
    const upstream = (m: Map<string, number>, cluster: string) => sum(m, 'envoy_cluster_upstream_rq_total', { envoy_cluster_name: cluster });
    expect(upstream(envoyAfter, 'sentiment@v1') - upstream(envoyBefore, 'sentiment@v1')).toBe(3);
    expect(upstream(envoyAfter, 'tinylm@v1') - upstream(envoyBefore, 'tinylm@v1')).toBe(2);
  });

  it('every series the Grafana dashboard queries exists (ext-proc and Envoy)', async () => {
    const dash = JSON.parse(await readFile(join(REPO_ROOT, 'deploy/grafana/dashboards/gateway.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    // Metric names only: label matchers `{...}` and grouping `by (...)` are cut out first.
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr.replace(/\{[^}]*\}|by \([^)]*\)/g, '')));
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:gateway|envoy)_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, ''))));
    expect(names.size).toBeGreaterThan(10);
    const text = (await (await fetch(metricsUrl())).text()) + (await (await fetch(`${stack().adminUrl}/stats/prometheus`)).text());
    const missing = [...names].filter((n) => !new RegExp(`^# TYPE ${n} `, 'm').test(text));
    expect(missing).toEqual([]);
  });

  it('propagates traceparent to the model server and exports the gateway span', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const client = '00f067aa0ba902b7';
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v2/infer`, v2, { traceparent: `00-${trace}-${client}-01`, tracestate: 'vendor=x' });
    expect(res.status).toBe(200);
    const demo = stack().demos.get('sentiment@v2')?.[0]?.url as string;
    const seen = (await demoStats(demo)).last?.headers ?? {};
    const [, upstreamTrace, upstreamParent, flags] = (seen.traceparent ?? '').split('-');
    expect(upstreamTrace).toBe(trace);
    expect(flags).toBe('01');
    expect(seen.tracestate).toBe('vendor=x');
    const span = await until('the exported span', () => receiver.spans.find((s) => s.traceId === trace));
    // The model server's parent is the gateway's span, whose parent is the client's.
    expect(span.spanId).toBe(upstreamParent);
    expect(span.parentSpanId).toBe(client);
    expect(span.attributes).toMatchObject({ 'gateway.model': 'sentiment', 'gateway.model_version': 'v2', 'http.response.status_code': 200 });
  });

  it('writes an access line per request; log level changes at runtime; no credential reaches the log', async () => {
    const secret = `sk-e2e-${Math.random().toString(36).slice(2)}`;
    const logFile = stack().extProcs[0]?.child.logFile as string;

    expect(await (await fetch(statusUrl('/loglevel'))).json()).toEqual({ level: 'info' });
    const bad = await fetch(statusUrl('/loglevel'), { method: 'PUT', body: 'loud' });
    expect(bad.status).toBe(400);
    const put = await fetch(statusUrl('/loglevel'), { method: 'PUT', body: JSON.stringify({ level: 'debug' }) });
    expect(await put.json()).toEqual({ level: 'debug', previous: 'info' });

    const res = await postJson(`${stack().url}/v1/chat/completions?api_key=${secret}`, chat(), {
      authorization: `Bearer ${secret}`,
      'x-api-key': secret,
      'x-request-id': 'e2e-access-1',
    });
    expect(res.status).toBe(200);
    const lines = await until('the access line', async () => {
      const all = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
      return all.some((l) => l.includes('"reqId":"e2e-access-1"') && l.includes('"log":"access"')) ? all : undefined;
    });
    const mine = lines.filter((l) => l.includes('e2e-access-1')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(mine.find((e) => e.msg === 'request headers')).toBeDefined(); // debug level is on
    expect(mine.find((e) => e.log === 'access')).toMatchObject({ model: 'tinylm', version: 'v1', status: 200, path: '/v1/chat/completions' });
    expect(lines.join('\n')).not.toContain(secret);

    // SIGUSR2 flips back from debug to the configured level.
    stack().extProcs[0]?.child.proc.kill('SIGUSR2');
    await until('level back to info', async () => {
      const { level } = (await (await fetch(statusUrl('/loglevel'))).json()) as { level: string };
      return level === 'info' ? level : undefined;
    });
  });
});
