import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { HeaderMutator, PluginHooks } from '../plugins/sdk/types.js';
import type { GatewayConfig } from './config/schema.js';
import type { PluginInstance } from './pipeline/chain.js';
import { consumerOf } from './observe.js';

declare module '../plugins/sdk/types.js' {
  interface RequestVars {
    /** The gateway's span for this request, when tracing export is on. */
    span?: Span;
  }
}

const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<HeaderMutator> = {
  keys: (h) => [...h.entries()].map(([k]) => k),
  get: (h, key) => h.get(key),
};
const setter: TextMapSetter<HeaderMutator> = { set: (h, key, value) => h.set(key, value) };

/**
 * OTLP export of one span per request, wired in as the first plugin of the global chain when
 * `tracing.otlp` is configured. The span continues the client's W3C trace (`traceparent`) or
 * starts one, and the upstream request carries a `traceparent` naming this span, so model
 * servers' spans nest under the gateway's. With tracing off nothing is added: the client's
 * `traceparent`/`tracestate` reach the model unchanged.
 */
export function tracingInstance(tracing: GatewayConfig['tracing'], log: Logger): PluginInstance | undefined {
  const otlp = tracing.otlp;
  if (!otlp) return undefined;
  const exporter = new OTLPTraceExporter({ url: otlp.endpoint, headers: otlp.headers, timeoutMillis: otlp.timeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': otlp.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(tracing.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: otlp.exportIntervalMs, maxQueueSize: 8192 })],
  });
  const tracer = provider.getTracer('inference-gateway');
  log.info({ endpoint: otlp.endpoint, sampleRatio: tracing.sampleRatio }, 'tracing: exporting spans over OTLP/HTTP');

  const hooks: PluginHooks = {
    requestHeaders(ctx) {
      const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, getter);
      const span = tracer.startSpan(
        'gateway',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': ctx.request.method,
            'url.path': ctx.request.pathname,
            'gateway.request_id': ctx.request.id,
            ...(ctx.request.protocol && { 'gateway.protocol': ctx.request.protocol }),
          },
        },
        parent,
      );
      ctx.vars.span = span;
      propagator.inject(trace.setSpan(parent, span), ctx.headers, setter);
    },
    end(ctx) {
      const span = ctx.vars.span;
      if (!span) return;
      const { route, outcome } = ctx;
      const consumer = consumerOf(ctx.vars);
      span.updateName(route.model ? `gateway ${route.model}` : 'gateway');
      span.setAttributes({
        ...(route.model && { 'gateway.model': route.model }),
        ...(route.version && { 'gateway.model_version': route.version }),
        ...(route.reason && { 'gateway.route_reason': route.reason }),
        ...(route.variant && { 'gateway.variant': route.variant }),
        ...(consumer && { 'gateway.consumer': consumer }),
        ...(outcome.status !== undefined && { 'http.response.status_code': outcome.status }),
        ...(outcome.answeredBy && { 'gateway.answered_by': outcome.answeredBy }),
        ...(outcome.errorCode && { 'error.type': outcome.errorCode }),
        ...(outcome.cancelled && { 'gateway.cancelled': true }),
        ...(ctx.vars.usage && { 'gen_ai.usage.input_tokens': ctx.vars.usage.prompt, 'gen_ai.usage.output_tokens': ctx.vars.usage.completion }),
      });
      if (outcome.status !== undefined && outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    async close() {
      await provider.shutdown();
    },
  };
  return { name: '@tracing', type: 'otel-tracing', hooks, timeoutMs: 200, failOpen: true, protocols: undefined };
}
