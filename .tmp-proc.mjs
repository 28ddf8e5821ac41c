var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target2, all) => {
  for (var name in all)
    __defProp(target2, name, { get: all[name], enumerable: true });
};

// plugins/sdk/error-codes.ts
function isErrorCode(value) {
  return value !== void 0 && Object.hasOwn(ERROR_CODES, value);
}
function categoryOf(status, code2) {
  if (isErrorCode(code2)) return ERROR_CODES[code2].category;
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "limits";
  if (status === 404 || status === 405) return "routing";
  if (status >= 500) return "error";
  if (status >= 400) return "validation";
  return "other";
}
var code, ERROR_CODES;
var init_error_codes = __esm({
  "plugins/sdk/error-codes.ts"() {
    "use strict";
    code = (status, category, by, cause, expose = status < 500) => ({
      status,
      category,
      expose,
      by,
      cause
    });
    ERROR_CODES = {
      // ---- the core ----------------------------------------------------------------------------
      invalid_json: code(400, "validation", "core", "the body a plugin reads is not JSON (empty, not UTF-8, malformed, nested too deep)"),
      invalid_request: code(400, "validation", "core", "the JSON body does not match the schema a plugin reads it with, or is not an object"),
      model_not_found: code(404, "routing", "core", "the request names no configured model"),
      version_not_found: code(404, "routing", "core", "the request names a version or alias the model does not have"),
      plugin_error: code(500, "error", "core", "a plugin hook threw an unexpected error (logged with an error id)"),
      plugin_timeout: code(500, "error", "core", "a plugin hook ran past its timeoutMs"),
      route_conflict: code(500, "error", "core", "a plugin set a different model after the model was resolved"),
      route_incomplete: code(500, "error", "core", "a plugin set a version before any model"),
      route_invalid: code(500, "error", "core", "the traffic policy or a plugin picked a version the model does not have"),
      invalid_path: code(400, "validation", "core", "the request path has a malformed percent-escape"),
      bad_upstream_response: code(502, "error", "core", "the model server answered with a body (or headers) the gateway could not read", true),
      unknown_path: code(404, "routing", "core", "the path is no inference endpoint of any protocol"),
      // ---- built-in plugins --------------------------------------------------------------------
      method_not_allowed: code(405, "routing", "validation plugins", "the endpoint does not take this method"),
      unsupported_media_type: code(415, "validation", "validation plugins", "the body is not JSON (or uses the binary tensor extension)"),
      request_too_large: code(413, "validation", "validation plugins, Envoy", "the request body is over the gateway's limit"),
      forbidden_key: code(400, "validation", "validation plugins", "the body carries a key the gateway does not forward (`__proto__`\u2026)"),
      unknown_parameter: code(400, "validation", "validation plugins", "the body has a field the protocol does not define"),
      missing_required_parameter: code(400, "validation", "validation plugins", "a required field is missing"),
      invalid_value: code(400, "validation", "validation plugins", "a field has a value of the wrong type or range"),
      invalid_tensor: code(400, "validation", "kserve-v2-validation", "a tensor\u2019s shape, datatype and data do not agree"),
      signature_mismatch: code(400, "validation", "kserve-v2-validation, tfserving-validation", "the inputs do not match the model\u2019s signature"),
      unknown_signature: code(400, "validation", "tfserving-validation", "signature_name names no signature of the model"),
      binary_extension_not_enabled: code(415, "validation", "kserve-v2-validation", "the binary tensor extension is not enabled for this model"),
      missing_credentials: code(401, "auth", "model-access", "the model needs an authenticated caller and none was identified"),
      missing_api_key: code(401, "auth", "api-key-auth", "no API key was sent"),
      invalid_api_key: code(401, "auth", "api-key-auth", "the API key is unknown, or the header is malformed"),
      expired_api_key: code(401, "auth", "api-key-auth", "the API key is past its expiry"),
      missing_token: code(401, "auth", "jwt-auth", "no bearer token was sent"),
      invalid_token: code(401, "auth", "jwt-auth", "the token is malformed, wrongly signed, or a claim is not accepted"),
      token_expired: code(401, "auth", "jwt-auth", "the token is past its exp"),
      jwks_unavailable: code(503, "error", "jwt-auth", "the signing keys cannot be fetched, so tokens cannot be checked", true),
      model_access_denied: code(403, "auth", "model-access", "the caller may not use this model"),
      rate_limit_exceeded: code(429, "limits", "consumer-limits", "the consumer is over its request rate"),
      token_rate_limit_exceeded: code(429, "limits", "consumer-limits", "the consumer is over its token budget"),
      concurrency_limit_exceeded: code(429, "limits", "consumer-limits", "the consumer has too many requests in flight"),
      insufficient_quota: code(429, "limits", "consumer-limits", "the consumer used up its quota for the period"),
      limits_store_unavailable: code(503, "error", "consumer-limits", "the shared limits store does not answer (fail closed)", true),
      // ---- Envoy's local replies (envoy/local-replies.ts) ---------------------------------------
      gateway_unavailable: code(503, "error", "Envoy", "the ext-proc cannot be reached, broke the stream or missed messageTimeoutMs", true),
      overloaded: code(503, "limits", "Envoy", "the model is at its concurrency limit (circuit breaker, `limits`)", true),
      no_healthy_upstream: code(503, "error", "Envoy", "no healthy, un-ejected instance of the model", true),
      upstream_timeout: code(504, "error", "Envoy", "timeoutMs (or the last per-try timeout) ran out", true),
      upstream_unavailable: code(503, "error", "Envoy", "the model failed before answering and retries did not help", true),
      unsupported_content_encoding: code(415, "validation", "Envoy", "the request body uses a content-encoding the gateway does not decompress (gzip, br, zstd are)"),
      headers_too_large: code(431, "validation", "Envoy", "the request headers are over the limit"),
      not_found: code(404, "routing", "Envoy", "no model route (the ext-proc chose no model)"),
      rate_limited: code(429, "limits", "Envoy", "a 429 Envoy produced itself"),
      gateway_error: code(500, "error", "Envoy", "any other error Envoy answered itself (status kept, 5xx)"),
      bad_request: code(400, "validation", "Envoy", "any other malformed request Envoy refused (status kept, 4xx)")
    };
  }
});

// ext-proc/observe.ts
function consumerOf(vars) {
  const consumer = vars.consumer;
  return typeof consumer?.id === "string" ? consumer.id : "";
}
function statusClass(outcome) {
  const status = outcome.status;
  if (status !== void 0 && status >= 100 && status < 600) return `${Math.floor(status / 100)}xx`;
  return outcome.cancelled ? "cancelled" : "unknown";
}
function metricsObserver(m) {
  return {
    phase(phase, ms) {
      m.phaseSeconds.observe({ phase }, s(ms));
    },
    pluginError(plugin, hook, kind) {
      m.pluginErrors.inc({ plugin, hook, kind });
    },
    streamAborted(reason) {
      m.streamsAborted.inc({ reason });
    },
    finished(r) {
      const model = r.route.model ?? "";
      const version = r.route.version ?? "";
      const consumer = consumerOf(r.vars);
      m.requests.inc({ model, version, consumer, protocol: r.request?.protocol ?? "", status_class: statusClass(r.outcome) });
      m.requestWorkSeconds.observe(s(r.processingMs));
      if (!r.request) return;
      const mv = { model, version };
      m.requestSeconds.observe(mv, s(r.elapsedMs));
      if (r.responseHeadersMs !== void 0) m.responseHeadersSeconds.observe(mv, s(r.responseHeadersMs));
      if (r.firstChunkMs !== void 0 && r.response?.streaming) m.firstTokenSeconds.observe(mv, s(r.firstChunkMs));
      if (r.route.model !== void 0 && r.route.version !== void 0) {
        m.routeDecisions.inc({ model, version, reason: r.route.reason ?? "", variant: r.route.variant ?? "" });
      }
      const { status, answeredBy, errorCode } = r.outcome;
      if (answeredBy !== void 0 && status !== void 0 && status >= 400) {
        m.rejections.inc({ reason: rejectionReason(status, errorCode), code: errorCode ?? `http_${status}`, model, consumer });
      }
      const usage = r.vars.usage;
      if (usage) {
        m.tokens.inc({ model, version, consumer, type: "prompt" }, usage.prompt);
        m.tokens.inc({ model, version, consumer, type: "completion" }, usage.completion);
      }
    }
  };
}
function accessLogger(log2) {
  const access = log2.child({ log: "access" });
  return (r) => {
    if (!access.isLevelEnabled("info")) return;
    access.info(
      {
        reqId: r.request?.id,
        method: r.request?.method,
        path: r.request?.pathname,
        protocol: r.request?.protocol,
        consumer: consumerOf(r.vars) || void 0,
        model: r.route.model,
        version: r.route.version,
        route: r.route.reason,
        variant: r.route.variant,
        status: r.outcome.status,
        answeredBy: r.outcome.answeredBy,
        errorCode: r.outcome.errorCode,
        cancelled: r.outcome.cancelled || void 0,
        durationMs: round(r.elapsedMs),
        responseHeadersMs: round(r.responseHeadersMs),
        firstTokenMs: r.response?.streaming ? round(r.firstChunkMs) : void 0,
        extProcMs: round(r.processingMs),
        promptTokens: r.vars.usage?.prompt,
        completionTokens: r.vars.usage?.completion
      },
      "request"
    );
  };
}
function combineObservers(...observers) {
  const phase = observers.flatMap((o) => o.phase ? [o.phase.bind(o)] : []);
  const pluginError = observers.flatMap((o) => o.pluginError ? [o.pluginError.bind(o)] : []);
  const finished = observers.flatMap((o) => o.finished ? [o.finished.bind(o)] : []);
  const streamAborted = observers.flatMap((o) => o.streamAborted ? [o.streamAborted.bind(o)] : []);
  return {
    ...phase.length > 0 && { phase: (p, ms) => phase.forEach((f) => f(p, ms)) },
    ...pluginError.length > 0 && { pluginError: (p, h, k) => pluginError.forEach((f) => f(p, h, k)) },
    ...finished.length > 0 && { finished: (r) => finished.forEach((f) => f(r)) },
    ...streamAborted.length > 0 && { streamAborted: (reason) => streamAborted.forEach((f) => f(reason)) }
  };
}
var rejectionReason, s, round;
var init_observe = __esm({
  "ext-proc/observe.ts"() {
    "use strict";
    init_error_codes();
    rejectionReason = categoryOf;
    s = (ms) => ms / 1e3;
    round = (ms) => ms === void 0 ? void 0 : Math.round(ms * 1e3) / 1e3;
  }
});

// ext-proc/tracing.ts
var tracing_exports = {};
__export(tracing_exports, {
  tracingInstance: () => tracingInstance
});
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
function tracingInstance(tracing, log2) {
  const otlp = tracing.otlp;
  if (!otlp) return void 0;
  const exporter = new OTLPTraceExporter({ url: otlp.endpoint, headers: otlp.headers, timeoutMillis: otlp.timeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": otlp.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(tracing.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: otlp.exportIntervalMs, maxQueueSize: 8192 })]
  });
  const tracer = provider.getTracer("inference-gateway");
  log2.info({ endpoint: otlp.endpoint, sampleRatio: tracing.sampleRatio }, "tracing: exporting spans over OTLP/HTTP");
  const hooks = {
    requestHeaders(ctx) {
      const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, getter);
      const span = tracer.startSpan(
        "gateway",
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": ctx.request.method,
            "url.path": ctx.request.pathname,
            "gateway.request_id": ctx.request.id,
            ...ctx.request.protocol && { "gateway.protocol": ctx.request.protocol }
          }
        },
        parent
      );
      ctx.vars.span = span;
      propagator.inject(trace.setSpan(parent, span), ctx.headers, setter);
    },
    end(ctx) {
      const span = ctx.vars.span;
      if (!span) return;
      const { route, outcome } = ctx;
      const consumer = consumerOf(ctx.vars);
      span.updateName(route.model ? `gateway ${route.model}` : "gateway");
      span.setAttributes({
        ...route.model && { "gateway.model": route.model },
        ...route.version && { "gateway.model_version": route.version },
        ...route.reason && { "gateway.route_reason": route.reason },
        ...route.variant && { "gateway.variant": route.variant },
        ...consumer && { "gateway.consumer": consumer },
        ...outcome.status !== void 0 && { "http.response.status_code": outcome.status },
        ...outcome.answeredBy && { "gateway.answered_by": outcome.answeredBy },
        ...outcome.errorCode && { "error.type": outcome.errorCode },
        ...outcome.cancelled && { "gateway.cancelled": true },
        ...ctx.vars.usage && { "gen_ai.usage.input_tokens": ctx.vars.usage.prompt, "gen_ai.usage.output_tokens": ctx.vars.usage.completion }
      });
      if (outcome.status !== void 0 && outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    async close() {
      await provider.shutdown();
    }
  };
  return { name: "@tracing", type: "otel-tracing", hooks, timeoutMs: 200, failOpen: true, protocols: void 0 };
}
var propagator, getter, setter;
var init_tracing = __esm({
  "ext-proc/tracing.ts"() {
    "use strict";
    init_observe();
    propagator = new W3CTraceContextPropagator();
    getter = {
      keys: (h) => [...h.entries()].map(([k]) => k),
      get: (h, key) => h.get(key)
    };
    setter = { set: (h, key, value) => h.set(key, value) };
  }
});

// bench/processor.ts
import { Writable } from "node:stream";
import { parseArgs } from "node:util";

// ext-proc/envoy-decode.ts
import { BinaryReader as BinaryReader17 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/service/ext_proc/v3/external_processor.ts
import { BinaryReader as BinaryReader16, BinaryWriter as BinaryWriter16 } from "@bufbuild/protobuf/wire";
import {
  makeGenericClientConstructor
} from "@grpc/grpc-js";

// ext-proc/gen/google/protobuf/duration.ts
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
function createBaseDuration() {
  return { seconds: 0, nanos: 0 };
}
var Duration = {
  encode(message, writer = new BinaryWriter()) {
    if (message.seconds !== 0) {
      writer.uint32(8).int64(message.seconds);
    }
    if (message.nanos !== 0) {
      writer.uint32(16).int32(message.nanos);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader ? input : new BinaryReader(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseDuration();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.seconds = longToNumber(reader.int64());
            continue;
          }
          case 2: {
            if (tag !== 16) {
              break;
            }
            message.nanos = reader.int32();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      seconds: isSet(object.seconds) ? globalThis.Number(object.seconds) : 0,
      nanos: isSet(object.nanos) ? globalThis.Number(object.nanos) : 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.seconds !== 0) {
      obj.seconds = Math.round(message.seconds);
    }
    if (message.nanos !== 0) {
      obj.nanos = Math.round(message.nanos);
    }
    return obj;
  },
  create(base) {
    return Duration.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseDuration();
    message.seconds = object.seconds ?? 0;
    message.nanos = object.nanos ?? 0;
    return message;
  }
};
function longToNumber(int64) {
  const num = globalThis.Number(int64.toString());
  if (num > globalThis.Number.MAX_SAFE_INTEGER) {
    throw new globalThis.Error("Value is larger than Number.MAX_SAFE_INTEGER");
  }
  if (num < globalThis.Number.MIN_SAFE_INTEGER) {
    throw new globalThis.Error("Value is smaller than Number.MIN_SAFE_INTEGER");
  }
  return num;
}
function isSet(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/google/protobuf/struct.ts
import { BinaryReader as BinaryReader2, BinaryWriter as BinaryWriter2 } from "@bufbuild/protobuf/wire";
function nullValueFromJSON(object) {
  switch (object) {
    case 0:
    case "NULL_VALUE":
      return 0 /* NULL_VALUE */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function nullValueToJSON(object) {
  switch (object) {
    case 0 /* NULL_VALUE */:
      return "NULL_VALUE";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function createBaseStruct() {
  return { fields: {} };
}
var Struct = {
  encode(message, writer = new BinaryWriter2()) {
    globalThis.Object.entries(message.fields).forEach(([key, value]) => {
      if (value !== void 0) {
        Struct_FieldsEntry.encode({ key, value }, writer.uint32(10).fork()).join();
      }
    });
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader2 ? input : new BinaryReader2(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseStruct();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            const entry1 = Struct_FieldsEntry.decode(reader, reader.uint32());
            if (entry1.value !== void 0) {
              message.fields[entry1.key] = entry1.value;
            }
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      fields: isObject(object.fields) ? globalThis.Object.entries(object.fields).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : {}
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.fields) {
      const entries = globalThis.Object.entries(message.fields);
      if (entries.length > 0) {
        obj.fields = {};
        entries.forEach(([k, v]) => {
          obj.fields[k] = v;
        });
      }
    }
    return obj;
  },
  create(base) {
    return Struct.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseStruct();
    message.fields = globalThis.Object.entries(object.fields ?? {}).reduce(
      (acc, [key, value]) => {
        if (value !== void 0) {
          acc[key] = value;
        }
        return acc;
      },
      {}
    );
    return message;
  },
  wrap(object) {
    const struct = createBaseStruct();
    if (object !== void 0) {
      for (const key of globalThis.Object.keys(object)) {
        struct.fields[key] = object[key];
      }
    }
    return struct;
  },
  unwrap(message) {
    const object = {};
    if (message.fields) {
      for (const key of globalThis.Object.keys(message.fields)) {
        object[key] = message.fields[key];
      }
    }
    return object;
  }
};
function createBaseStruct_FieldsEntry() {
  return { key: "", value: void 0 };
}
var Struct_FieldsEntry = {
  encode(message, writer = new BinaryWriter2()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== void 0) {
      Value.encode(Value.wrap(message.value), writer.uint32(18).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader2 ? input : new BinaryReader2(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseStruct_FieldsEntry();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Value.unwrap(Value.decode(reader, reader.uint32()));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet2(object.key) ? globalThis.String(object.key) : "",
      value: isSet2(object?.value) ? object.value : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== void 0) {
      obj.value = message.value;
    }
    return obj;
  },
  create(base) {
    return Struct_FieldsEntry.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseStruct_FieldsEntry();
    message.key = object.key ?? "";
    message.value = object.value === void 0 ? void 0 : object.value;
    return message;
  }
};
function createBaseValue() {
  return { kind: void 0 };
}
var Value = {
  encode(message, writer = new BinaryWriter2()) {
    switch (message.kind?.$case) {
      case "nullValue":
        writer.uint32(8).int32(message.kind.value);
        break;
      case "numberValue":
        writer.uint32(17).double(message.kind.value);
        break;
      case "stringValue":
        writer.uint32(26).string(message.kind.value);
        break;
      case "boolValue":
        writer.uint32(32).bool(message.kind.value);
        break;
      case "structValue":
        Struct.encode(Struct.wrap(message.kind.value), writer.uint32(42).fork()).join();
        break;
      case "listValue":
        ListValue.encode(ListValue.wrap(message.kind.value), writer.uint32(50).fork()).join();
        break;
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader2 ? input : new BinaryReader2(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseValue();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.kind = { $case: "nullValue", value: reader.int32() };
            continue;
          }
          case 2: {
            if (tag !== 17) {
              break;
            }
            message.kind = { $case: "numberValue", value: reader.double() };
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.kind = { $case: "stringValue", value: reader.string() };
            continue;
          }
          case 4: {
            if (tag !== 32) {
              break;
            }
            message.kind = { $case: "boolValue", value: reader.bool() };
            continue;
          }
          case 5: {
            if (tag !== 42) {
              break;
            }
            message.kind = { $case: "structValue", value: Struct.unwrap(Struct.decode(reader, reader.uint32())) };
            continue;
          }
          case 6: {
            if (tag !== 50) {
              break;
            }
            message.kind = { $case: "listValue", value: ListValue.unwrap(ListValue.decode(reader, reader.uint32())) };
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      kind: isSet2(object.nullValue) ? { $case: "nullValue", value: nullValueFromJSON(object.nullValue) } : isSet2(object.null_value) ? { $case: "nullValue", value: nullValueFromJSON(object.null_value) } : isSet2(object.numberValue) ? { $case: "numberValue", value: globalThis.Number(object.numberValue) } : isSet2(object.number_value) ? { $case: "numberValue", value: globalThis.Number(object.number_value) } : isSet2(object.stringValue) ? { $case: "stringValue", value: globalThis.String(object.stringValue) } : isSet2(object.string_value) ? { $case: "stringValue", value: globalThis.String(object.string_value) } : isSet2(object.boolValue) ? { $case: "boolValue", value: globalThis.Boolean(object.boolValue) } : isSet2(object.bool_value) ? { $case: "boolValue", value: globalThis.Boolean(object.bool_value) } : isSet2(object.structValue) ? { $case: "structValue", value: object.structValue } : isSet2(object.struct_value) ? { $case: "structValue", value: object.struct_value } : isSet2(object.listValue) ? { $case: "listValue", value: [...object.listValue] } : isSet2(object.list_value) ? { $case: "listValue", value: [...object.list_value] } : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.kind?.$case === "nullValue") {
      obj.nullValue = nullValueToJSON(message.kind.value);
    } else if (message.kind?.$case === "numberValue") {
      obj.numberValue = floatToJson(message.kind.value);
    } else if (message.kind?.$case === "stringValue") {
      obj.stringValue = message.kind.value;
    } else if (message.kind?.$case === "boolValue") {
      obj.boolValue = message.kind.value;
    } else if (message.kind?.$case === "structValue") {
      obj.structValue = message.kind.value;
    } else if (message.kind?.$case === "listValue") {
      obj.listValue = message.kind.value;
    }
    return obj;
  },
  create(base) {
    return Value.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseValue();
    switch (object.kind?.$case) {
      case "nullValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "nullValue", value: object.kind.value };
        }
        break;
      }
      case "numberValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "numberValue", value: object.kind.value };
        }
        break;
      }
      case "stringValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "stringValue", value: object.kind.value };
        }
        break;
      }
      case "boolValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "boolValue", value: object.kind.value };
        }
        break;
      }
      case "structValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "structValue", value: object.kind.value };
        }
        break;
      }
      case "listValue": {
        if (object.kind?.value !== void 0 && object.kind?.value !== null) {
          message.kind = { $case: "listValue", value: object.kind.value };
        }
        break;
      }
    }
    return message;
  },
  wrap(value) {
    const result = createBaseValue();
    if (value === null) {
      result.kind = { $case: "nullValue", value: 0 /* NULL_VALUE */ };
    } else if (typeof value === "boolean") {
      result.kind = { $case: "boolValue", value };
    } else if (typeof value === "number") {
      result.kind = { $case: "numberValue", value };
    } else if (typeof value === "string") {
      result.kind = { $case: "stringValue", value };
    } else if (globalThis.Array.isArray(value)) {
      result.kind = { $case: "listValue", value };
    } else if (typeof value === "object") {
      result.kind = { $case: "structValue", value };
    } else if (typeof value !== "undefined") {
      throw new globalThis.Error("Unsupported any value type: " + typeof value);
    }
    return result;
  },
  unwrap(message) {
    return message.kind?.$case === "nullValue" ? null : message.kind?.value;
  }
};
function createBaseListValue() {
  return { values: [] };
}
var ListValue = {
  encode(message, writer = new BinaryWriter2()) {
    for (const v of message.values) {
      Value.encode(Value.wrap(v), writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader2 ? input : new BinaryReader2(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseListValue();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.values.push(Value.unwrap(Value.decode(reader, reader.uint32())));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { values: globalThis.Array.isArray(object?.values) ? [...object.values] : [] };
  },
  toJSON(message) {
    const obj = {};
    if (message.values?.length) {
      obj.values = message.values;
    }
    return obj;
  },
  create(base) {
    return ListValue.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseListValue();
    message.values = object.values?.map((e) => e) || [];
    return message;
  },
  wrap(array) {
    const result = createBaseListValue();
    result.values = array ?? [];
    return result;
  },
  unwrap(message) {
    if (message?.hasOwnProperty("values") && globalThis.Array.isArray(message.values)) {
      return message.values;
    } else {
      return message;
    }
  }
};
function floatToJson(value) {
  return typeof value === "number" && !globalThis.Number.isFinite(value) ? globalThis.String(value) : value;
}
function isObject(value) {
  return typeof value === "object" && value !== null;
}
function isSet2(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/envoy/config/core/v3/base.ts
import { BinaryReader as BinaryReader13, BinaryWriter as BinaryWriter13 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/google/protobuf/any.ts
import { BinaryReader as BinaryReader3, BinaryWriter as BinaryWriter3 } from "@bufbuild/protobuf/wire";
function createBaseAny() {
  return { typeUrl: "", value: Buffer.alloc(0) };
}
var Any = {
  encode(message, writer = new BinaryWriter3()) {
    if (message.typeUrl !== "") {
      writer.uint32(10).string(message.typeUrl);
    }
    if (message.value.length !== 0) {
      writer.uint32(18).bytes(message.value);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader3 ? input : new BinaryReader3(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseAny();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.typeUrl = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Buffer.from(reader.bytes());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      typeUrl: isSet3(object.typeUrl) ? globalThis.String(object.typeUrl) : isSet3(object.type_url) ? globalThis.String(object.type_url) : "",
      value: isSet3(object.value) ? Buffer.from(bytesFromBase64(object.value)) : Buffer.alloc(0)
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.typeUrl !== "") {
      obj.typeUrl = message.typeUrl;
    }
    if (message.value.length !== 0) {
      obj.value = base64FromBytes(message.value);
    }
    return obj;
  },
  create(base) {
    return Any.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseAny();
    message.typeUrl = object.typeUrl ?? "";
    message.value = object.value ?? Buffer.alloc(0);
    return message;
  }
};
function bytesFromBase64(b64) {
  return Uint8Array.from(globalThis.Buffer.from(b64, "base64"));
}
function base64FromBytes(arr) {
  return globalThis.Buffer.from(arr).toString("base64");
}
function isSet3(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/google/protobuf/wrappers.ts
import { BinaryReader as BinaryReader4, BinaryWriter as BinaryWriter4 } from "@bufbuild/protobuf/wire";
function createBaseBoolValue() {
  return { value: false };
}
var BoolValue = {
  encode(message, writer = new BinaryWriter4()) {
    if (message.value !== false) {
      writer.uint32(8).bool(message.value);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader4 ? input : new BinaryReader4(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseBoolValue();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.value = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { value: isSet4(object.value) ? globalThis.Boolean(object.value) : false };
  },
  toJSON(message) {
    const obj = {};
    if (message.value !== false) {
      obj.value = message.value;
    }
    return obj;
  },
  create(base) {
    return BoolValue.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseBoolValue();
    message.value = object.value ?? false;
    return message;
  }
};
function isSet4(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/xds/core/v3/context_params.ts
import { BinaryReader as BinaryReader5, BinaryWriter as BinaryWriter5 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/type/v3/percent.ts
import { BinaryReader as BinaryReader6, BinaryWriter as BinaryWriter6 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/type/v3/semantic_version.ts
import { BinaryReader as BinaryReader7, BinaryWriter as BinaryWriter7 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/address.ts
import { BinaryReader as BinaryReader10, BinaryWriter as BinaryWriter10 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/extension.ts
import { BinaryReader as BinaryReader8, BinaryWriter as BinaryWriter8 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/socket_option.ts
import { BinaryReader as BinaryReader9, BinaryWriter as BinaryWriter9 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/backoff.ts
import { BinaryReader as BinaryReader11, BinaryWriter as BinaryWriter11 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/http_uri.ts
import { BinaryReader as BinaryReader12, BinaryWriter as BinaryWriter12 } from "@bufbuild/protobuf/wire";

// ext-proc/gen/envoy/config/core/v3/base.ts
function headerValueOption_HeaderAppendActionFromJSON(object) {
  switch (object) {
    case 0:
    case "APPEND_IF_EXISTS_OR_ADD":
      return 0 /* APPEND_IF_EXISTS_OR_ADD */;
    case 1:
    case "ADD_IF_ABSENT":
      return 1 /* ADD_IF_ABSENT */;
    case 2:
    case "OVERWRITE_IF_EXISTS_OR_ADD":
      return 2 /* OVERWRITE_IF_EXISTS_OR_ADD */;
    case 3:
    case "OVERWRITE_IF_EXISTS":
      return 3 /* OVERWRITE_IF_EXISTS */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function headerValueOption_HeaderAppendActionToJSON(object) {
  switch (object) {
    case 0 /* APPEND_IF_EXISTS_OR_ADD */:
      return "APPEND_IF_EXISTS_OR_ADD";
    case 1 /* ADD_IF_ABSENT */:
      return "ADD_IF_ABSENT";
    case 2 /* OVERWRITE_IF_EXISTS_OR_ADD */:
      return "OVERWRITE_IF_EXISTS_OR_ADD";
    case 3 /* OVERWRITE_IF_EXISTS */:
      return "OVERWRITE_IF_EXISTS";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function createBaseMetadata() {
  return { filterMetadata: {}, typedFilterMetadata: {} };
}
var Metadata = {
  encode(message, writer = new BinaryWriter13()) {
    globalThis.Object.entries(message.filterMetadata).forEach(
      ([key, value]) => {
        if (value !== void 0) {
          Metadata_FilterMetadataEntry.encode({ key, value }, writer.uint32(10).fork()).join();
        }
      }
    );
    globalThis.Object.entries(message.typedFilterMetadata).forEach(([key, value]) => {
      Metadata_TypedFilterMetadataEntry.encode({ key, value }, writer.uint32(18).fork()).join();
    });
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseMetadata();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            const entry1 = Metadata_FilterMetadataEntry.decode(reader, reader.uint32());
            if (entry1.value !== void 0) {
              message.filterMetadata[entry1.key] = entry1.value;
            }
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            const entry2 = Metadata_TypedFilterMetadataEntry.decode(reader, reader.uint32());
            if (entry2.value !== void 0) {
              message.typedFilterMetadata[entry2.key] = entry2.value;
            }
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      filterMetadata: isObject2(object.filterMetadata) ? globalThis.Object.entries(object.filterMetadata).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : isObject2(object.filter_metadata) ? globalThis.Object.entries(object.filter_metadata).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : {},
      typedFilterMetadata: isObject2(object.typedFilterMetadata) ? globalThis.Object.entries(object.typedFilterMetadata).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value: Any.fromJSON(value),
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : isObject2(object.typed_filter_metadata) ? globalThis.Object.entries(object.typed_filter_metadata).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value: Any.fromJSON(value),
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : {}
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.filterMetadata) {
      const entries = globalThis.Object.entries(message.filterMetadata);
      if (entries.length > 0) {
        obj.filterMetadata = {};
        entries.forEach(([k, v]) => {
          obj.filterMetadata[k] = v;
        });
      }
    }
    if (message.typedFilterMetadata) {
      const entries = globalThis.Object.entries(message.typedFilterMetadata);
      if (entries.length > 0) {
        obj.typedFilterMetadata = {};
        entries.forEach(([k, v]) => {
          obj.typedFilterMetadata[k] = Any.toJSON(v);
        });
      }
    }
    return obj;
  },
  create(base) {
    return Metadata.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseMetadata();
    message.filterMetadata = globalThis.Object.entries(object.filterMetadata ?? {}).reduce(
      (acc, [key, value]) => {
        if (value !== void 0) {
          acc[key] = value;
        }
        return acc;
      },
      {}
    );
    message.typedFilterMetadata = globalThis.Object.entries(object.typedFilterMetadata ?? {}).reduce((acc, [key, value]) => {
      if (value !== void 0) {
        acc[key] = Any.fromPartial(value);
      }
      return acc;
    }, {});
    return message;
  }
};
function createBaseMetadata_FilterMetadataEntry() {
  return { key: "", value: void 0 };
}
var Metadata_FilterMetadataEntry = {
  encode(message, writer = new BinaryWriter13()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== void 0) {
      Struct.encode(Struct.wrap(message.value), writer.uint32(18).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseMetadata_FilterMetadataEntry();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Struct.unwrap(Struct.decode(reader, reader.uint32()));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet5(object.key) ? globalThis.String(object.key) : "",
      value: isObject2(object.value) ? object.value : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== void 0) {
      obj.value = message.value;
    }
    return obj;
  },
  create(base) {
    return Metadata_FilterMetadataEntry.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseMetadata_FilterMetadataEntry();
    message.key = object.key ?? "";
    message.value = object.value ?? void 0;
    return message;
  }
};
function createBaseMetadata_TypedFilterMetadataEntry() {
  return { key: "", value: void 0 };
}
var Metadata_TypedFilterMetadataEntry = {
  encode(message, writer = new BinaryWriter13()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== void 0) {
      Any.encode(message.value, writer.uint32(18).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseMetadata_TypedFilterMetadataEntry();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Any.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet5(object.key) ? globalThis.String(object.key) : "",
      value: isSet5(object.value) ? Any.fromJSON(object.value) : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== void 0) {
      obj.value = Any.toJSON(message.value);
    }
    return obj;
  },
  create(base) {
    return Metadata_TypedFilterMetadataEntry.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseMetadata_TypedFilterMetadataEntry();
    message.key = object.key ?? "";
    message.value = object.value !== void 0 && object.value !== null ? Any.fromPartial(object.value) : void 0;
    return message;
  }
};
function createBaseHeaderValue() {
  return { key: "", value: "", rawValue: Buffer.alloc(0) };
}
var HeaderValue = {
  encode(message, writer = new BinaryWriter13()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== "") {
      writer.uint32(18).string(message.value);
    }
    if (message.rawValue.length !== 0) {
      writer.uint32(26).bytes(message.rawValue);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHeaderValue();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = reader.string();
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.rawValue = Buffer.from(reader.bytes());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet5(object.key) ? globalThis.String(object.key) : "",
      value: isSet5(object.value) ? globalThis.String(object.value) : "",
      rawValue: isSet5(object.rawValue) ? Buffer.from(bytesFromBase642(object.rawValue)) : isSet5(object.raw_value) ? Buffer.from(bytesFromBase642(object.raw_value)) : Buffer.alloc(0)
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== "") {
      obj.value = message.value;
    }
    if (message.rawValue.length !== 0) {
      obj.rawValue = base64FromBytes2(message.rawValue);
    }
    return obj;
  },
  create(base) {
    return HeaderValue.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHeaderValue();
    message.key = object.key ?? "";
    message.value = object.value ?? "";
    message.rawValue = object.rawValue ?? Buffer.alloc(0);
    return message;
  }
};
function createBaseHeaderValueOption() {
  return { header: void 0, append: void 0, appendAction: 0, keepEmptyValue: false };
}
var HeaderValueOption = {
  encode(message, writer = new BinaryWriter13()) {
    if (message.header !== void 0) {
      HeaderValue.encode(message.header, writer.uint32(10).fork()).join();
    }
    if (message.append !== void 0) {
      BoolValue.encode({ value: message.append }, writer.uint32(18).fork()).join();
    }
    if (message.appendAction !== 0) {
      writer.uint32(24).int32(message.appendAction);
    }
    if (message.keepEmptyValue !== false) {
      writer.uint32(32).bool(message.keepEmptyValue);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHeaderValueOption();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.header = HeaderValue.decode(reader, reader.uint32());
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.append = BoolValue.decode(reader, reader.uint32()).value;
            continue;
          }
          case 3: {
            if (tag !== 24) {
              break;
            }
            message.appendAction = reader.int32();
            continue;
          }
          case 4: {
            if (tag !== 32) {
              break;
            }
            message.keepEmptyValue = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      header: isSet5(object.header) ? HeaderValue.fromJSON(object.header) : void 0,
      append: isSet5(object.append) ? Boolean(object.append) : void 0,
      appendAction: isSet5(object.appendAction) ? headerValueOption_HeaderAppendActionFromJSON(object.appendAction) : isSet5(object.append_action) ? headerValueOption_HeaderAppendActionFromJSON(object.append_action) : 0,
      keepEmptyValue: isSet5(object.keepEmptyValue) ? globalThis.Boolean(object.keepEmptyValue) : isSet5(object.keep_empty_value) ? globalThis.Boolean(object.keep_empty_value) : false
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.header !== void 0) {
      obj.header = HeaderValue.toJSON(message.header);
    }
    if (message.append !== void 0) {
      obj.append = message.append;
    }
    if (message.appendAction !== 0) {
      obj.appendAction = headerValueOption_HeaderAppendActionToJSON(message.appendAction);
    }
    if (message.keepEmptyValue !== false) {
      obj.keepEmptyValue = message.keepEmptyValue;
    }
    return obj;
  },
  create(base) {
    return HeaderValueOption.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHeaderValueOption();
    message.header = object.header !== void 0 && object.header !== null ? HeaderValue.fromPartial(object.header) : void 0;
    message.append = object.append ?? void 0;
    message.appendAction = object.appendAction ?? 0;
    message.keepEmptyValue = object.keepEmptyValue ?? false;
    return message;
  }
};
function createBaseHeaderMap() {
  return { headers: [] };
}
var HeaderMap = {
  encode(message, writer = new BinaryWriter13()) {
    for (const v of message.headers) {
      HeaderValue.encode(v, writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader13 ? input : new BinaryReader13(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHeaderMap();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.headers.push(HeaderValue.decode(reader, reader.uint32()));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      headers: globalThis.Array.isArray(object?.headers) ? object.headers.map((e) => HeaderValue.fromJSON(e)) : []
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.headers?.length) {
      obj.headers = message.headers.map((e) => HeaderValue.toJSON(e));
    }
    return obj;
  },
  create(base) {
    return HeaderMap.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHeaderMap();
    message.headers = object.headers?.map((e) => HeaderValue.fromPartial(e)) || [];
    return message;
  }
};
function bytesFromBase642(b64) {
  return Uint8Array.from(globalThis.Buffer.from(b64, "base64"));
}
function base64FromBytes2(arr) {
  return globalThis.Buffer.from(arr).toString("base64");
}
function isObject2(value) {
  return typeof value === "object" && value !== null;
}
function isSet5(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.ts
import { BinaryReader as BinaryReader14, BinaryWriter as BinaryWriter14 } from "@bufbuild/protobuf/wire";
function processingMode_HeaderSendModeFromJSON(object) {
  switch (object) {
    case 0:
    case "DEFAULT":
      return 0 /* DEFAULT */;
    case 1:
    case "SEND":
      return 1 /* SEND */;
    case 2:
    case "SKIP":
      return 2 /* SKIP */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function processingMode_HeaderSendModeToJSON(object) {
  switch (object) {
    case 0 /* DEFAULT */:
      return "DEFAULT";
    case 1 /* SEND */:
      return "SEND";
    case 2 /* SKIP */:
      return "SKIP";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function processingMode_BodySendModeFromJSON(object) {
  switch (object) {
    case 0:
    case "NONE":
      return 0 /* NONE */;
    case 1:
    case "STREAMED":
      return 1 /* STREAMED */;
    case 2:
    case "BUFFERED":
      return 2 /* BUFFERED */;
    case 3:
    case "BUFFERED_PARTIAL":
      return 3 /* BUFFERED_PARTIAL */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function processingMode_BodySendModeToJSON(object) {
  switch (object) {
    case 0 /* NONE */:
      return "NONE";
    case 1 /* STREAMED */:
      return "STREAMED";
    case 2 /* BUFFERED */:
      return "BUFFERED";
    case 3 /* BUFFERED_PARTIAL */:
      return "BUFFERED_PARTIAL";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function createBaseProcessingMode() {
  return {
    requestHeaderMode: 0,
    responseHeaderMode: 0,
    requestBodyMode: 0,
    responseBodyMode: 0,
    requestTrailerMode: 0,
    responseTrailerMode: 0
  };
}
var ProcessingMode = {
  encode(message, writer = new BinaryWriter14()) {
    if (message.requestHeaderMode !== 0) {
      writer.uint32(8).int32(message.requestHeaderMode);
    }
    if (message.responseHeaderMode !== 0) {
      writer.uint32(16).int32(message.responseHeaderMode);
    }
    if (message.requestBodyMode !== 0) {
      writer.uint32(24).int32(message.requestBodyMode);
    }
    if (message.responseBodyMode !== 0) {
      writer.uint32(32).int32(message.responseBodyMode);
    }
    if (message.requestTrailerMode !== 0) {
      writer.uint32(40).int32(message.requestTrailerMode);
    }
    if (message.responseTrailerMode !== 0) {
      writer.uint32(48).int32(message.responseTrailerMode);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader14 ? input : new BinaryReader14(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseProcessingMode();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.requestHeaderMode = reader.int32();
            continue;
          }
          case 2: {
            if (tag !== 16) {
              break;
            }
            message.responseHeaderMode = reader.int32();
            continue;
          }
          case 3: {
            if (tag !== 24) {
              break;
            }
            message.requestBodyMode = reader.int32();
            continue;
          }
          case 4: {
            if (tag !== 32) {
              break;
            }
            message.responseBodyMode = reader.int32();
            continue;
          }
          case 5: {
            if (tag !== 40) {
              break;
            }
            message.requestTrailerMode = reader.int32();
            continue;
          }
          case 6: {
            if (tag !== 48) {
              break;
            }
            message.responseTrailerMode = reader.int32();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      requestHeaderMode: isSet6(object.requestHeaderMode) ? processingMode_HeaderSendModeFromJSON(object.requestHeaderMode) : isSet6(object.request_header_mode) ? processingMode_HeaderSendModeFromJSON(object.request_header_mode) : 0,
      responseHeaderMode: isSet6(object.responseHeaderMode) ? processingMode_HeaderSendModeFromJSON(object.responseHeaderMode) : isSet6(object.response_header_mode) ? processingMode_HeaderSendModeFromJSON(object.response_header_mode) : 0,
      requestBodyMode: isSet6(object.requestBodyMode) ? processingMode_BodySendModeFromJSON(object.requestBodyMode) : isSet6(object.request_body_mode) ? processingMode_BodySendModeFromJSON(object.request_body_mode) : 0,
      responseBodyMode: isSet6(object.responseBodyMode) ? processingMode_BodySendModeFromJSON(object.responseBodyMode) : isSet6(object.response_body_mode) ? processingMode_BodySendModeFromJSON(object.response_body_mode) : 0,
      requestTrailerMode: isSet6(object.requestTrailerMode) ? processingMode_HeaderSendModeFromJSON(object.requestTrailerMode) : isSet6(object.request_trailer_mode) ? processingMode_HeaderSendModeFromJSON(object.request_trailer_mode) : 0,
      responseTrailerMode: isSet6(object.responseTrailerMode) ? processingMode_HeaderSendModeFromJSON(object.responseTrailerMode) : isSet6(object.response_trailer_mode) ? processingMode_HeaderSendModeFromJSON(object.response_trailer_mode) : 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.requestHeaderMode !== 0) {
      obj.requestHeaderMode = processingMode_HeaderSendModeToJSON(message.requestHeaderMode);
    }
    if (message.responseHeaderMode !== 0) {
      obj.responseHeaderMode = processingMode_HeaderSendModeToJSON(message.responseHeaderMode);
    }
    if (message.requestBodyMode !== 0) {
      obj.requestBodyMode = processingMode_BodySendModeToJSON(message.requestBodyMode);
    }
    if (message.responseBodyMode !== 0) {
      obj.responseBodyMode = processingMode_BodySendModeToJSON(message.responseBodyMode);
    }
    if (message.requestTrailerMode !== 0) {
      obj.requestTrailerMode = processingMode_HeaderSendModeToJSON(message.requestTrailerMode);
    }
    if (message.responseTrailerMode !== 0) {
      obj.responseTrailerMode = processingMode_HeaderSendModeToJSON(message.responseTrailerMode);
    }
    return obj;
  },
  create(base) {
    return ProcessingMode.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseProcessingMode();
    message.requestHeaderMode = object.requestHeaderMode ?? 0;
    message.responseHeaderMode = object.responseHeaderMode ?? 0;
    message.requestBodyMode = object.requestBodyMode ?? 0;
    message.responseBodyMode = object.responseBodyMode ?? 0;
    message.requestTrailerMode = object.requestTrailerMode ?? 0;
    message.responseTrailerMode = object.responseTrailerMode ?? 0;
    return message;
  }
};
function isSet6(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/envoy/type/v3/http_status.ts
import { BinaryReader as BinaryReader15, BinaryWriter as BinaryWriter15 } from "@bufbuild/protobuf/wire";
function statusCodeFromJSON(object) {
  switch (object) {
    case 0:
    case "Empty":
      return 0 /* Empty */;
    case 100:
    case "Continue":
      return 100 /* Continue */;
    case 200:
    case "OK":
      return 200 /* OK */;
    case 201:
    case "Created":
      return 201 /* Created */;
    case 202:
    case "Accepted":
      return 202 /* Accepted */;
    case 203:
    case "NonAuthoritativeInformation":
      return 203 /* NonAuthoritativeInformation */;
    case 204:
    case "NoContent":
      return 204 /* NoContent */;
    case 205:
    case "ResetContent":
      return 205 /* ResetContent */;
    case 206:
    case "PartialContent":
      return 206 /* PartialContent */;
    case 207:
    case "MultiStatus":
      return 207 /* MultiStatus */;
    case 208:
    case "AlreadyReported":
      return 208 /* AlreadyReported */;
    case 226:
    case "IMUsed":
      return 226 /* IMUsed */;
    case 300:
    case "MultipleChoices":
      return 300 /* MultipleChoices */;
    case 301:
    case "MovedPermanently":
      return 301 /* MovedPermanently */;
    case 302:
    case "Found":
      return 302 /* Found */;
    case 303:
    case "SeeOther":
      return 303 /* SeeOther */;
    case 304:
    case "NotModified":
      return 304 /* NotModified */;
    case 305:
    case "UseProxy":
      return 305 /* UseProxy */;
    case 307:
    case "TemporaryRedirect":
      return 307 /* TemporaryRedirect */;
    case 308:
    case "PermanentRedirect":
      return 308 /* PermanentRedirect */;
    case 400:
    case "BadRequest":
      return 400 /* BadRequest */;
    case 401:
    case "Unauthorized":
      return 401 /* Unauthorized */;
    case 402:
    case "PaymentRequired":
      return 402 /* PaymentRequired */;
    case 403:
    case "Forbidden":
      return 403 /* Forbidden */;
    case 404:
    case "NotFound":
      return 404 /* NotFound */;
    case 405:
    case "MethodNotAllowed":
      return 405 /* MethodNotAllowed */;
    case 406:
    case "NotAcceptable":
      return 406 /* NotAcceptable */;
    case 407:
    case "ProxyAuthenticationRequired":
      return 407 /* ProxyAuthenticationRequired */;
    case 408:
    case "RequestTimeout":
      return 408 /* RequestTimeout */;
    case 409:
    case "Conflict":
      return 409 /* Conflict */;
    case 410:
    case "Gone":
      return 410 /* Gone */;
    case 411:
    case "LengthRequired":
      return 411 /* LengthRequired */;
    case 412:
    case "PreconditionFailed":
      return 412 /* PreconditionFailed */;
    case 413:
    case "PayloadTooLarge":
      return 413 /* PayloadTooLarge */;
    case 414:
    case "URITooLong":
      return 414 /* URITooLong */;
    case 415:
    case "UnsupportedMediaType":
      return 415 /* UnsupportedMediaType */;
    case 416:
    case "RangeNotSatisfiable":
      return 416 /* RangeNotSatisfiable */;
    case 417:
    case "ExpectationFailed":
      return 417 /* ExpectationFailed */;
    case 421:
    case "MisdirectedRequest":
      return 421 /* MisdirectedRequest */;
    case 422:
    case "UnprocessableEntity":
      return 422 /* UnprocessableEntity */;
    case 423:
    case "Locked":
      return 423 /* Locked */;
    case 424:
    case "FailedDependency":
      return 424 /* FailedDependency */;
    case 426:
    case "UpgradeRequired":
      return 426 /* UpgradeRequired */;
    case 428:
    case "PreconditionRequired":
      return 428 /* PreconditionRequired */;
    case 429:
    case "TooManyRequests":
      return 429 /* TooManyRequests */;
    case 431:
    case "RequestHeaderFieldsTooLarge":
      return 431 /* RequestHeaderFieldsTooLarge */;
    case 500:
    case "InternalServerError":
      return 500 /* InternalServerError */;
    case 501:
    case "NotImplemented":
      return 501 /* NotImplemented */;
    case 502:
    case "BadGateway":
      return 502 /* BadGateway */;
    case 503:
    case "ServiceUnavailable":
      return 503 /* ServiceUnavailable */;
    case 504:
    case "GatewayTimeout":
      return 504 /* GatewayTimeout */;
    case 505:
    case "HTTPVersionNotSupported":
      return 505 /* HTTPVersionNotSupported */;
    case 506:
    case "VariantAlsoNegotiates":
      return 506 /* VariantAlsoNegotiates */;
    case 507:
    case "InsufficientStorage":
      return 507 /* InsufficientStorage */;
    case 508:
    case "LoopDetected":
      return 508 /* LoopDetected */;
    case 510:
    case "NotExtended":
      return 510 /* NotExtended */;
    case 511:
    case "NetworkAuthenticationRequired":
      return 511 /* NetworkAuthenticationRequired */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function statusCodeToJSON(object) {
  switch (object) {
    case 0 /* Empty */:
      return "Empty";
    case 100 /* Continue */:
      return "Continue";
    case 200 /* OK */:
      return "OK";
    case 201 /* Created */:
      return "Created";
    case 202 /* Accepted */:
      return "Accepted";
    case 203 /* NonAuthoritativeInformation */:
      return "NonAuthoritativeInformation";
    case 204 /* NoContent */:
      return "NoContent";
    case 205 /* ResetContent */:
      return "ResetContent";
    case 206 /* PartialContent */:
      return "PartialContent";
    case 207 /* MultiStatus */:
      return "MultiStatus";
    case 208 /* AlreadyReported */:
      return "AlreadyReported";
    case 226 /* IMUsed */:
      return "IMUsed";
    case 300 /* MultipleChoices */:
      return "MultipleChoices";
    case 301 /* MovedPermanently */:
      return "MovedPermanently";
    case 302 /* Found */:
      return "Found";
    case 303 /* SeeOther */:
      return "SeeOther";
    case 304 /* NotModified */:
      return "NotModified";
    case 305 /* UseProxy */:
      return "UseProxy";
    case 307 /* TemporaryRedirect */:
      return "TemporaryRedirect";
    case 308 /* PermanentRedirect */:
      return "PermanentRedirect";
    case 400 /* BadRequest */:
      return "BadRequest";
    case 401 /* Unauthorized */:
      return "Unauthorized";
    case 402 /* PaymentRequired */:
      return "PaymentRequired";
    case 403 /* Forbidden */:
      return "Forbidden";
    case 404 /* NotFound */:
      return "NotFound";
    case 405 /* MethodNotAllowed */:
      return "MethodNotAllowed";
    case 406 /* NotAcceptable */:
      return "NotAcceptable";
    case 407 /* ProxyAuthenticationRequired */:
      return "ProxyAuthenticationRequired";
    case 408 /* RequestTimeout */:
      return "RequestTimeout";
    case 409 /* Conflict */:
      return "Conflict";
    case 410 /* Gone */:
      return "Gone";
    case 411 /* LengthRequired */:
      return "LengthRequired";
    case 412 /* PreconditionFailed */:
      return "PreconditionFailed";
    case 413 /* PayloadTooLarge */:
      return "PayloadTooLarge";
    case 414 /* URITooLong */:
      return "URITooLong";
    case 415 /* UnsupportedMediaType */:
      return "UnsupportedMediaType";
    case 416 /* RangeNotSatisfiable */:
      return "RangeNotSatisfiable";
    case 417 /* ExpectationFailed */:
      return "ExpectationFailed";
    case 421 /* MisdirectedRequest */:
      return "MisdirectedRequest";
    case 422 /* UnprocessableEntity */:
      return "UnprocessableEntity";
    case 423 /* Locked */:
      return "Locked";
    case 424 /* FailedDependency */:
      return "FailedDependency";
    case 426 /* UpgradeRequired */:
      return "UpgradeRequired";
    case 428 /* PreconditionRequired */:
      return "PreconditionRequired";
    case 429 /* TooManyRequests */:
      return "TooManyRequests";
    case 431 /* RequestHeaderFieldsTooLarge */:
      return "RequestHeaderFieldsTooLarge";
    case 500 /* InternalServerError */:
      return "InternalServerError";
    case 501 /* NotImplemented */:
      return "NotImplemented";
    case 502 /* BadGateway */:
      return "BadGateway";
    case 503 /* ServiceUnavailable */:
      return "ServiceUnavailable";
    case 504 /* GatewayTimeout */:
      return "GatewayTimeout";
    case 505 /* HTTPVersionNotSupported */:
      return "HTTPVersionNotSupported";
    case 506 /* VariantAlsoNegotiates */:
      return "VariantAlsoNegotiates";
    case 507 /* InsufficientStorage */:
      return "InsufficientStorage";
    case 508 /* LoopDetected */:
      return "LoopDetected";
    case 510 /* NotExtended */:
      return "NotExtended";
    case 511 /* NetworkAuthenticationRequired */:
      return "NetworkAuthenticationRequired";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function createBaseHttpStatus() {
  return { code: 0 };
}
var HttpStatus = {
  encode(message, writer = new BinaryWriter15()) {
    if (message.code !== 0) {
      writer.uint32(8).int32(message.code);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader15 ? input : new BinaryReader15(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHttpStatus();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.code = reader.int32();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { code: isSet7(object.code) ? statusCodeFromJSON(object.code) : 0 };
  },
  toJSON(message) {
    const obj = {};
    if (message.code !== 0) {
      obj.code = statusCodeToJSON(message.code);
    }
    return obj;
  },
  create(base) {
    return HttpStatus.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHttpStatus();
    message.code = object.code ?? 0;
    return message;
  }
};
function isSet7(value) {
  return value !== null && value !== void 0;
}

// ext-proc/gen/envoy/service/ext_proc/v3/external_processor.ts
function commonResponse_ResponseStatusFromJSON(object) {
  switch (object) {
    case 0:
    case "CONTINUE":
      return 0 /* CONTINUE */;
    case 1:
    case "CONTINUE_AND_REPLACE":
      return 1 /* CONTINUE_AND_REPLACE */;
    case -1:
    case "UNRECOGNIZED":
    default:
      return -1 /* UNRECOGNIZED */;
  }
}
function commonResponse_ResponseStatusToJSON(object) {
  switch (object) {
    case 0 /* CONTINUE */:
      return "CONTINUE";
    case 1 /* CONTINUE_AND_REPLACE */:
      return "CONTINUE_AND_REPLACE";
    case -1 /* UNRECOGNIZED */:
    default:
      return "UNRECOGNIZED";
  }
}
function createBaseProcessingRequest() {
  return { request: void 0, metadataContext: void 0, attributes: {}, observabilityMode: false };
}
var ProcessingRequest = {
  encode(message, writer = new BinaryWriter16()) {
    switch (message.request?.$case) {
      case "requestHeaders":
        HttpHeaders.encode(message.request.value, writer.uint32(18).fork()).join();
        break;
      case "responseHeaders":
        HttpHeaders.encode(message.request.value, writer.uint32(26).fork()).join();
        break;
      case "requestBody":
        HttpBody.encode(message.request.value, writer.uint32(34).fork()).join();
        break;
      case "responseBody":
        HttpBody.encode(message.request.value, writer.uint32(42).fork()).join();
        break;
      case "requestTrailers":
        HttpTrailers.encode(message.request.value, writer.uint32(50).fork()).join();
        break;
      case "responseTrailers":
        HttpTrailers.encode(message.request.value, writer.uint32(58).fork()).join();
        break;
    }
    if (message.metadataContext !== void 0) {
      Metadata.encode(message.metadataContext, writer.uint32(66).fork()).join();
    }
    globalThis.Object.entries(message.attributes).forEach(
      ([key, value]) => {
        if (value !== void 0) {
          ProcessingRequest_AttributesEntry.encode({ key, value }, writer.uint32(74).fork()).join();
        }
      }
    );
    if (message.observabilityMode !== false) {
      writer.uint32(80).bool(message.observabilityMode);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseProcessingRequest();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.request = { $case: "requestHeaders", value: HttpHeaders.decode(reader, reader.uint32()) };
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.request = { $case: "responseHeaders", value: HttpHeaders.decode(reader, reader.uint32()) };
            continue;
          }
          case 4: {
            if (tag !== 34) {
              break;
            }
            message.request = { $case: "requestBody", value: HttpBody.decode(reader, reader.uint32()) };
            continue;
          }
          case 5: {
            if (tag !== 42) {
              break;
            }
            message.request = { $case: "responseBody", value: HttpBody.decode(reader, reader.uint32()) };
            continue;
          }
          case 6: {
            if (tag !== 50) {
              break;
            }
            message.request = { $case: "requestTrailers", value: HttpTrailers.decode(reader, reader.uint32()) };
            continue;
          }
          case 7: {
            if (tag !== 58) {
              break;
            }
            message.request = { $case: "responseTrailers", value: HttpTrailers.decode(reader, reader.uint32()) };
            continue;
          }
          case 8: {
            if (tag !== 66) {
              break;
            }
            message.metadataContext = Metadata.decode(reader, reader.uint32());
            continue;
          }
          case 9: {
            if (tag !== 74) {
              break;
            }
            const entry9 = ProcessingRequest_AttributesEntry.decode(reader, reader.uint32());
            if (entry9.value !== void 0) {
              message.attributes[entry9.key] = entry9.value;
            }
            continue;
          }
          case 10: {
            if (tag !== 80) {
              break;
            }
            message.observabilityMode = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      request: isSet8(object.requestHeaders) ? { $case: "requestHeaders", value: HttpHeaders.fromJSON(object.requestHeaders) } : isSet8(object.request_headers) ? { $case: "requestHeaders", value: HttpHeaders.fromJSON(object.request_headers) } : isSet8(object.responseHeaders) ? { $case: "responseHeaders", value: HttpHeaders.fromJSON(object.responseHeaders) } : isSet8(object.response_headers) ? { $case: "responseHeaders", value: HttpHeaders.fromJSON(object.response_headers) } : isSet8(object.requestBody) ? { $case: "requestBody", value: HttpBody.fromJSON(object.requestBody) } : isSet8(object.request_body) ? { $case: "requestBody", value: HttpBody.fromJSON(object.request_body) } : isSet8(object.responseBody) ? { $case: "responseBody", value: HttpBody.fromJSON(object.responseBody) } : isSet8(object.response_body) ? { $case: "responseBody", value: HttpBody.fromJSON(object.response_body) } : isSet8(object.requestTrailers) ? { $case: "requestTrailers", value: HttpTrailers.fromJSON(object.requestTrailers) } : isSet8(object.request_trailers) ? { $case: "requestTrailers", value: HttpTrailers.fromJSON(object.request_trailers) } : isSet8(object.responseTrailers) ? { $case: "responseTrailers", value: HttpTrailers.fromJSON(object.responseTrailers) } : isSet8(object.response_trailers) ? { $case: "responseTrailers", value: HttpTrailers.fromJSON(object.response_trailers) } : void 0,
      metadataContext: isSet8(object.metadataContext) ? Metadata.fromJSON(object.metadataContext) : isSet8(object.metadata_context) ? Metadata.fromJSON(object.metadata_context) : void 0,
      attributes: isObject3(object.attributes) ? globalThis.Object.entries(object.attributes).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : {},
      observabilityMode: isSet8(object.observabilityMode) ? globalThis.Boolean(object.observabilityMode) : isSet8(object.observability_mode) ? globalThis.Boolean(object.observability_mode) : false
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.request?.$case === "requestHeaders") {
      obj.requestHeaders = HttpHeaders.toJSON(message.request.value);
    } else if (message.request?.$case === "responseHeaders") {
      obj.responseHeaders = HttpHeaders.toJSON(message.request.value);
    } else if (message.request?.$case === "requestBody") {
      obj.requestBody = HttpBody.toJSON(message.request.value);
    } else if (message.request?.$case === "responseBody") {
      obj.responseBody = HttpBody.toJSON(message.request.value);
    } else if (message.request?.$case === "requestTrailers") {
      obj.requestTrailers = HttpTrailers.toJSON(message.request.value);
    } else if (message.request?.$case === "responseTrailers") {
      obj.responseTrailers = HttpTrailers.toJSON(message.request.value);
    }
    if (message.metadataContext !== void 0) {
      obj.metadataContext = Metadata.toJSON(message.metadataContext);
    }
    if (message.attributes) {
      const entries = globalThis.Object.entries(message.attributes);
      if (entries.length > 0) {
        obj.attributes = {};
        entries.forEach(([k, v]) => {
          obj.attributes[k] = v;
        });
      }
    }
    if (message.observabilityMode !== false) {
      obj.observabilityMode = message.observabilityMode;
    }
    return obj;
  },
  create(base) {
    return ProcessingRequest.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseProcessingRequest();
    switch (object.request?.$case) {
      case "requestHeaders": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "requestHeaders", value: HttpHeaders.fromPartial(object.request.value) };
        }
        break;
      }
      case "responseHeaders": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "responseHeaders", value: HttpHeaders.fromPartial(object.request.value) };
        }
        break;
      }
      case "requestBody": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "requestBody", value: HttpBody.fromPartial(object.request.value) };
        }
        break;
      }
      case "responseBody": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "responseBody", value: HttpBody.fromPartial(object.request.value) };
        }
        break;
      }
      case "requestTrailers": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "requestTrailers", value: HttpTrailers.fromPartial(object.request.value) };
        }
        break;
      }
      case "responseTrailers": {
        if (object.request?.value !== void 0 && object.request?.value !== null) {
          message.request = { $case: "responseTrailers", value: HttpTrailers.fromPartial(object.request.value) };
        }
        break;
      }
    }
    message.metadataContext = object.metadataContext !== void 0 && object.metadataContext !== null ? Metadata.fromPartial(object.metadataContext) : void 0;
    message.attributes = globalThis.Object.entries(object.attributes ?? {}).reduce(
      (acc, [key, value]) => {
        if (value !== void 0) {
          acc[key] = value;
        }
        return acc;
      },
      {}
    );
    message.observabilityMode = object.observabilityMode ?? false;
    return message;
  }
};
function createBaseProcessingRequest_AttributesEntry() {
  return { key: "", value: void 0 };
}
var ProcessingRequest_AttributesEntry = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== void 0) {
      Struct.encode(Struct.wrap(message.value), writer.uint32(18).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseProcessingRequest_AttributesEntry();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Struct.unwrap(Struct.decode(reader, reader.uint32()));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet8(object.key) ? globalThis.String(object.key) : "",
      value: isObject3(object.value) ? object.value : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== void 0) {
      obj.value = message.value;
    }
    return obj;
  },
  create(base) {
    return ProcessingRequest_AttributesEntry.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseProcessingRequest_AttributesEntry();
    message.key = object.key ?? "";
    message.value = object.value ?? void 0;
    return message;
  }
};
function createBaseProcessingResponse() {
  return {
    response: void 0,
    dynamicMetadata: void 0,
    modeOverride: void 0,
    overrideMessageTimeout: void 0
  };
}
var ProcessingResponse = {
  encode(message, writer = new BinaryWriter16()) {
    switch (message.response?.$case) {
      case "requestHeaders":
        HeadersResponse.encode(message.response.value, writer.uint32(10).fork()).join();
        break;
      case "responseHeaders":
        HeadersResponse.encode(message.response.value, writer.uint32(18).fork()).join();
        break;
      case "requestBody":
        BodyResponse.encode(message.response.value, writer.uint32(26).fork()).join();
        break;
      case "responseBody":
        BodyResponse.encode(message.response.value, writer.uint32(34).fork()).join();
        break;
      case "requestTrailers":
        TrailersResponse.encode(message.response.value, writer.uint32(42).fork()).join();
        break;
      case "responseTrailers":
        TrailersResponse.encode(message.response.value, writer.uint32(50).fork()).join();
        break;
      case "immediateResponse":
        ImmediateResponse.encode(message.response.value, writer.uint32(58).fork()).join();
        break;
    }
    if (message.dynamicMetadata !== void 0) {
      Struct.encode(Struct.wrap(message.dynamicMetadata), writer.uint32(66).fork()).join();
    }
    if (message.modeOverride !== void 0) {
      ProcessingMode.encode(message.modeOverride, writer.uint32(74).fork()).join();
    }
    if (message.overrideMessageTimeout !== void 0) {
      Duration.encode(message.overrideMessageTimeout, writer.uint32(82).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseProcessingResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.response = { $case: "requestHeaders", value: HeadersResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.response = { $case: "responseHeaders", value: HeadersResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.response = { $case: "requestBody", value: BodyResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 4: {
            if (tag !== 34) {
              break;
            }
            message.response = { $case: "responseBody", value: BodyResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 5: {
            if (tag !== 42) {
              break;
            }
            message.response = { $case: "requestTrailers", value: TrailersResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 6: {
            if (tag !== 50) {
              break;
            }
            message.response = { $case: "responseTrailers", value: TrailersResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 7: {
            if (tag !== 58) {
              break;
            }
            message.response = { $case: "immediateResponse", value: ImmediateResponse.decode(reader, reader.uint32()) };
            continue;
          }
          case 8: {
            if (tag !== 66) {
              break;
            }
            message.dynamicMetadata = Struct.unwrap(Struct.decode(reader, reader.uint32()));
            continue;
          }
          case 9: {
            if (tag !== 74) {
              break;
            }
            message.modeOverride = ProcessingMode.decode(reader, reader.uint32());
            continue;
          }
          case 10: {
            if (tag !== 82) {
              break;
            }
            message.overrideMessageTimeout = Duration.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      response: isSet8(object.requestHeaders) ? { $case: "requestHeaders", value: HeadersResponse.fromJSON(object.requestHeaders) } : isSet8(object.request_headers) ? { $case: "requestHeaders", value: HeadersResponse.fromJSON(object.request_headers) } : isSet8(object.responseHeaders) ? { $case: "responseHeaders", value: HeadersResponse.fromJSON(object.responseHeaders) } : isSet8(object.response_headers) ? { $case: "responseHeaders", value: HeadersResponse.fromJSON(object.response_headers) } : isSet8(object.requestBody) ? { $case: "requestBody", value: BodyResponse.fromJSON(object.requestBody) } : isSet8(object.request_body) ? { $case: "requestBody", value: BodyResponse.fromJSON(object.request_body) } : isSet8(object.responseBody) ? { $case: "responseBody", value: BodyResponse.fromJSON(object.responseBody) } : isSet8(object.response_body) ? { $case: "responseBody", value: BodyResponse.fromJSON(object.response_body) } : isSet8(object.requestTrailers) ? { $case: "requestTrailers", value: TrailersResponse.fromJSON(object.requestTrailers) } : isSet8(object.request_trailers) ? { $case: "requestTrailers", value: TrailersResponse.fromJSON(object.request_trailers) } : isSet8(object.responseTrailers) ? { $case: "responseTrailers", value: TrailersResponse.fromJSON(object.responseTrailers) } : isSet8(object.response_trailers) ? { $case: "responseTrailers", value: TrailersResponse.fromJSON(object.response_trailers) } : isSet8(object.immediateResponse) ? { $case: "immediateResponse", value: ImmediateResponse.fromJSON(object.immediateResponse) } : isSet8(object.immediate_response) ? { $case: "immediateResponse", value: ImmediateResponse.fromJSON(object.immediate_response) } : void 0,
      dynamicMetadata: isObject3(object.dynamicMetadata) ? object.dynamicMetadata : isObject3(object.dynamic_metadata) ? object.dynamic_metadata : void 0,
      modeOverride: isSet8(object.modeOverride) ? ProcessingMode.fromJSON(object.modeOverride) : isSet8(object.mode_override) ? ProcessingMode.fromJSON(object.mode_override) : void 0,
      overrideMessageTimeout: isSet8(object.overrideMessageTimeout) ? Duration.fromJSON(object.overrideMessageTimeout) : isSet8(object.override_message_timeout) ? Duration.fromJSON(object.override_message_timeout) : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.response?.$case === "requestHeaders") {
      obj.requestHeaders = HeadersResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "responseHeaders") {
      obj.responseHeaders = HeadersResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "requestBody") {
      obj.requestBody = BodyResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "responseBody") {
      obj.responseBody = BodyResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "requestTrailers") {
      obj.requestTrailers = TrailersResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "responseTrailers") {
      obj.responseTrailers = TrailersResponse.toJSON(message.response.value);
    } else if (message.response?.$case === "immediateResponse") {
      obj.immediateResponse = ImmediateResponse.toJSON(message.response.value);
    }
    if (message.dynamicMetadata !== void 0) {
      obj.dynamicMetadata = message.dynamicMetadata;
    }
    if (message.modeOverride !== void 0) {
      obj.modeOverride = ProcessingMode.toJSON(message.modeOverride);
    }
    if (message.overrideMessageTimeout !== void 0) {
      obj.overrideMessageTimeout = Duration.toJSON(message.overrideMessageTimeout);
    }
    return obj;
  },
  create(base) {
    return ProcessingResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseProcessingResponse();
    switch (object.response?.$case) {
      case "requestHeaders": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "requestHeaders", value: HeadersResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "responseHeaders": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "responseHeaders", value: HeadersResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "requestBody": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "requestBody", value: BodyResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "responseBody": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "responseBody", value: BodyResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "requestTrailers": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "requestTrailers", value: TrailersResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "responseTrailers": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = { $case: "responseTrailers", value: TrailersResponse.fromPartial(object.response.value) };
        }
        break;
      }
      case "immediateResponse": {
        if (object.response?.value !== void 0 && object.response?.value !== null) {
          message.response = {
            $case: "immediateResponse",
            value: ImmediateResponse.fromPartial(object.response.value)
          };
        }
        break;
      }
    }
    message.dynamicMetadata = object.dynamicMetadata ?? void 0;
    message.modeOverride = object.modeOverride !== void 0 && object.modeOverride !== null ? ProcessingMode.fromPartial(object.modeOverride) : void 0;
    message.overrideMessageTimeout = object.overrideMessageTimeout !== void 0 && object.overrideMessageTimeout !== null ? Duration.fromPartial(object.overrideMessageTimeout) : void 0;
    return message;
  }
};
function createBaseHttpHeaders() {
  return { headers: void 0, attributes: {}, endOfStream: false };
}
var HttpHeaders = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.headers !== void 0) {
      HeaderMap.encode(message.headers, writer.uint32(10).fork()).join();
    }
    globalThis.Object.entries(message.attributes).forEach(
      ([key, value]) => {
        if (value !== void 0) {
          HttpHeaders_AttributesEntry.encode({ key, value }, writer.uint32(18).fork()).join();
        }
      }
    );
    if (message.endOfStream !== false) {
      writer.uint32(24).bool(message.endOfStream);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHttpHeaders();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.headers = HeaderMap.decode(reader, reader.uint32());
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            const entry2 = HttpHeaders_AttributesEntry.decode(reader, reader.uint32());
            if (entry2.value !== void 0) {
              message.attributes[entry2.key] = entry2.value;
            }
            continue;
          }
          case 3: {
            if (tag !== 24) {
              break;
            }
            message.endOfStream = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      headers: isSet8(object.headers) ? HeaderMap.fromJSON(object.headers) : void 0,
      attributes: isObject3(object.attributes) ? globalThis.Object.entries(object.attributes).reduce(
        (acc, [key, value]) => {
          globalThis.Object.defineProperty(acc, key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true
          });
          return acc;
        },
        {}
      ) : {},
      endOfStream: isSet8(object.endOfStream) ? globalThis.Boolean(object.endOfStream) : isSet8(object.end_of_stream) ? globalThis.Boolean(object.end_of_stream) : false
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.headers !== void 0) {
      obj.headers = HeaderMap.toJSON(message.headers);
    }
    if (message.attributes) {
      const entries = globalThis.Object.entries(message.attributes);
      if (entries.length > 0) {
        obj.attributes = {};
        entries.forEach(([k, v]) => {
          obj.attributes[k] = v;
        });
      }
    }
    if (message.endOfStream !== false) {
      obj.endOfStream = message.endOfStream;
    }
    return obj;
  },
  create(base) {
    return HttpHeaders.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHttpHeaders();
    message.headers = object.headers !== void 0 && object.headers !== null ? HeaderMap.fromPartial(object.headers) : void 0;
    message.attributes = globalThis.Object.entries(object.attributes ?? {}).reduce(
      (acc, [key, value]) => {
        if (value !== void 0) {
          acc[key] = value;
        }
        return acc;
      },
      {}
    );
    message.endOfStream = object.endOfStream ?? false;
    return message;
  }
};
function createBaseHttpHeaders_AttributesEntry() {
  return { key: "", value: void 0 };
}
var HttpHeaders_AttributesEntry = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.key !== "") {
      writer.uint32(10).string(message.key);
    }
    if (message.value !== void 0) {
      Struct.encode(Struct.wrap(message.value), writer.uint32(18).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHttpHeaders_AttributesEntry();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.key = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.value = Struct.unwrap(Struct.decode(reader, reader.uint32()));
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      key: isSet8(object.key) ? globalThis.String(object.key) : "",
      value: isObject3(object.value) ? object.value : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.key !== "") {
      obj.key = message.key;
    }
    if (message.value !== void 0) {
      obj.value = message.value;
    }
    return obj;
  },
  create(base) {
    return HttpHeaders_AttributesEntry.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHttpHeaders_AttributesEntry();
    message.key = object.key ?? "";
    message.value = object.value ?? void 0;
    return message;
  }
};
function createBaseHttpBody() {
  return { body: Buffer.alloc(0), endOfStream: false };
}
var HttpBody = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.body.length !== 0) {
      writer.uint32(10).bytes(message.body);
    }
    if (message.endOfStream !== false) {
      writer.uint32(16).bool(message.endOfStream);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHttpBody();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.body = Buffer.from(reader.bytes());
            continue;
          }
          case 2: {
            if (tag !== 16) {
              break;
            }
            message.endOfStream = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      body: isSet8(object.body) ? Buffer.from(bytesFromBase643(object.body)) : Buffer.alloc(0),
      endOfStream: isSet8(object.endOfStream) ? globalThis.Boolean(object.endOfStream) : isSet8(object.end_of_stream) ? globalThis.Boolean(object.end_of_stream) : false
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.body.length !== 0) {
      obj.body = base64FromBytes3(message.body);
    }
    if (message.endOfStream !== false) {
      obj.endOfStream = message.endOfStream;
    }
    return obj;
  },
  create(base) {
    return HttpBody.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHttpBody();
    message.body = object.body ?? Buffer.alloc(0);
    message.endOfStream = object.endOfStream ?? false;
    return message;
  }
};
function createBaseHttpTrailers() {
  return { trailers: void 0 };
}
var HttpTrailers = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.trailers !== void 0) {
      HeaderMap.encode(message.trailers, writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHttpTrailers();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.trailers = HeaderMap.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { trailers: isSet8(object.trailers) ? HeaderMap.fromJSON(object.trailers) : void 0 };
  },
  toJSON(message) {
    const obj = {};
    if (message.trailers !== void 0) {
      obj.trailers = HeaderMap.toJSON(message.trailers);
    }
    return obj;
  },
  create(base) {
    return HttpTrailers.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHttpTrailers();
    message.trailers = object.trailers !== void 0 && object.trailers !== null ? HeaderMap.fromPartial(object.trailers) : void 0;
    return message;
  }
};
function createBaseHeadersResponse() {
  return { response: void 0 };
}
var HeadersResponse = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.response !== void 0) {
      CommonResponse.encode(message.response, writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHeadersResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.response = CommonResponse.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { response: isSet8(object.response) ? CommonResponse.fromJSON(object.response) : void 0 };
  },
  toJSON(message) {
    const obj = {};
    if (message.response !== void 0) {
      obj.response = CommonResponse.toJSON(message.response);
    }
    return obj;
  },
  create(base) {
    return HeadersResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHeadersResponse();
    message.response = object.response !== void 0 && object.response !== null ? CommonResponse.fromPartial(object.response) : void 0;
    return message;
  }
};
function createBaseTrailersResponse() {
  return { headerMutation: void 0 };
}
var TrailersResponse = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.headerMutation !== void 0) {
      HeaderMutation.encode(message.headerMutation, writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseTrailersResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.headerMutation = HeaderMutation.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      headerMutation: isSet8(object.headerMutation) ? HeaderMutation.fromJSON(object.headerMutation) : isSet8(object.header_mutation) ? HeaderMutation.fromJSON(object.header_mutation) : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.headerMutation !== void 0) {
      obj.headerMutation = HeaderMutation.toJSON(message.headerMutation);
    }
    return obj;
  },
  create(base) {
    return TrailersResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseTrailersResponse();
    message.headerMutation = object.headerMutation !== void 0 && object.headerMutation !== null ? HeaderMutation.fromPartial(object.headerMutation) : void 0;
    return message;
  }
};
function createBaseBodyResponse() {
  return { response: void 0 };
}
var BodyResponse = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.response !== void 0) {
      CommonResponse.encode(message.response, writer.uint32(10).fork()).join();
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseBodyResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.response = CommonResponse.decode(reader, reader.uint32());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { response: isSet8(object.response) ? CommonResponse.fromJSON(object.response) : void 0 };
  },
  toJSON(message) {
    const obj = {};
    if (message.response !== void 0) {
      obj.response = CommonResponse.toJSON(message.response);
    }
    return obj;
  },
  create(base) {
    return BodyResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseBodyResponse();
    message.response = object.response !== void 0 && object.response !== null ? CommonResponse.fromPartial(object.response) : void 0;
    return message;
  }
};
function createBaseCommonResponse() {
  return { status: 0, headerMutation: void 0, bodyMutation: void 0, trailers: void 0, clearRouteCache: false };
}
var CommonResponse = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.status !== 0) {
      writer.uint32(8).int32(message.status);
    }
    if (message.headerMutation !== void 0) {
      HeaderMutation.encode(message.headerMutation, writer.uint32(18).fork()).join();
    }
    if (message.bodyMutation !== void 0) {
      BodyMutation.encode(message.bodyMutation, writer.uint32(26).fork()).join();
    }
    if (message.trailers !== void 0) {
      HeaderMap.encode(message.trailers, writer.uint32(34).fork()).join();
    }
    if (message.clearRouteCache !== false) {
      writer.uint32(40).bool(message.clearRouteCache);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseCommonResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.status = reader.int32();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.headerMutation = HeaderMutation.decode(reader, reader.uint32());
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.bodyMutation = BodyMutation.decode(reader, reader.uint32());
            continue;
          }
          case 4: {
            if (tag !== 34) {
              break;
            }
            message.trailers = HeaderMap.decode(reader, reader.uint32());
            continue;
          }
          case 5: {
            if (tag !== 40) {
              break;
            }
            message.clearRouteCache = reader.bool();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      status: isSet8(object.status) ? commonResponse_ResponseStatusFromJSON(object.status) : 0,
      headerMutation: isSet8(object.headerMutation) ? HeaderMutation.fromJSON(object.headerMutation) : isSet8(object.header_mutation) ? HeaderMutation.fromJSON(object.header_mutation) : void 0,
      bodyMutation: isSet8(object.bodyMutation) ? BodyMutation.fromJSON(object.bodyMutation) : isSet8(object.body_mutation) ? BodyMutation.fromJSON(object.body_mutation) : void 0,
      trailers: isSet8(object.trailers) ? HeaderMap.fromJSON(object.trailers) : void 0,
      clearRouteCache: isSet8(object.clearRouteCache) ? globalThis.Boolean(object.clearRouteCache) : isSet8(object.clear_route_cache) ? globalThis.Boolean(object.clear_route_cache) : false
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.status !== 0) {
      obj.status = commonResponse_ResponseStatusToJSON(message.status);
    }
    if (message.headerMutation !== void 0) {
      obj.headerMutation = HeaderMutation.toJSON(message.headerMutation);
    }
    if (message.bodyMutation !== void 0) {
      obj.bodyMutation = BodyMutation.toJSON(message.bodyMutation);
    }
    if (message.trailers !== void 0) {
      obj.trailers = HeaderMap.toJSON(message.trailers);
    }
    if (message.clearRouteCache !== false) {
      obj.clearRouteCache = message.clearRouteCache;
    }
    return obj;
  },
  create(base) {
    return CommonResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseCommonResponse();
    message.status = object.status ?? 0;
    message.headerMutation = object.headerMutation !== void 0 && object.headerMutation !== null ? HeaderMutation.fromPartial(object.headerMutation) : void 0;
    message.bodyMutation = object.bodyMutation !== void 0 && object.bodyMutation !== null ? BodyMutation.fromPartial(object.bodyMutation) : void 0;
    message.trailers = object.trailers !== void 0 && object.trailers !== null ? HeaderMap.fromPartial(object.trailers) : void 0;
    message.clearRouteCache = object.clearRouteCache ?? false;
    return message;
  }
};
function createBaseImmediateResponse() {
  return { status: void 0, headers: void 0, body: Buffer.alloc(0), grpcStatus: void 0, details: "" };
}
var ImmediateResponse = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.status !== void 0) {
      HttpStatus.encode(message.status, writer.uint32(10).fork()).join();
    }
    if (message.headers !== void 0) {
      HeaderMutation.encode(message.headers, writer.uint32(18).fork()).join();
    }
    if (message.body.length !== 0) {
      writer.uint32(26).bytes(message.body);
    }
    if (message.grpcStatus !== void 0) {
      GrpcStatus.encode(message.grpcStatus, writer.uint32(34).fork()).join();
    }
    if (message.details !== "") {
      writer.uint32(42).string(message.details);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseImmediateResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.status = HttpStatus.decode(reader, reader.uint32());
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.headers = HeaderMutation.decode(reader, reader.uint32());
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }
            message.body = Buffer.from(reader.bytes());
            continue;
          }
          case 4: {
            if (tag !== 34) {
              break;
            }
            message.grpcStatus = GrpcStatus.decode(reader, reader.uint32());
            continue;
          }
          case 5: {
            if (tag !== 42) {
              break;
            }
            message.details = reader.string();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      status: isSet8(object.status) ? HttpStatus.fromJSON(object.status) : void 0,
      headers: isSet8(object.headers) ? HeaderMutation.fromJSON(object.headers) : void 0,
      body: isSet8(object.body) ? Buffer.from(bytesFromBase643(object.body)) : Buffer.alloc(0),
      grpcStatus: isSet8(object.grpcStatus) ? GrpcStatus.fromJSON(object.grpcStatus) : isSet8(object.grpc_status) ? GrpcStatus.fromJSON(object.grpc_status) : void 0,
      details: isSet8(object.details) ? globalThis.String(object.details) : ""
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.status !== void 0) {
      obj.status = HttpStatus.toJSON(message.status);
    }
    if (message.headers !== void 0) {
      obj.headers = HeaderMutation.toJSON(message.headers);
    }
    if (message.body.length !== 0) {
      obj.body = base64FromBytes3(message.body);
    }
    if (message.grpcStatus !== void 0) {
      obj.grpcStatus = GrpcStatus.toJSON(message.grpcStatus);
    }
    if (message.details !== "") {
      obj.details = message.details;
    }
    return obj;
  },
  create(base) {
    return ImmediateResponse.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseImmediateResponse();
    message.status = object.status !== void 0 && object.status !== null ? HttpStatus.fromPartial(object.status) : void 0;
    message.headers = object.headers !== void 0 && object.headers !== null ? HeaderMutation.fromPartial(object.headers) : void 0;
    message.body = object.body ?? Buffer.alloc(0);
    message.grpcStatus = object.grpcStatus !== void 0 && object.grpcStatus !== null ? GrpcStatus.fromPartial(object.grpcStatus) : void 0;
    message.details = object.details ?? "";
    return message;
  }
};
function createBaseGrpcStatus() {
  return { status: 0 };
}
var GrpcStatus = {
  encode(message, writer = new BinaryWriter16()) {
    if (message.status !== 0) {
      writer.uint32(8).uint32(message.status);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseGrpcStatus();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }
            message.status = reader.uint32();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return { status: isSet8(object.status) ? globalThis.Number(object.status) : 0 };
  },
  toJSON(message) {
    const obj = {};
    if (message.status !== 0) {
      obj.status = Math.round(message.status);
    }
    return obj;
  },
  create(base) {
    return GrpcStatus.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseGrpcStatus();
    message.status = object.status ?? 0;
    return message;
  }
};
function createBaseHeaderMutation() {
  return { setHeaders: [], removeHeaders: [] };
}
var HeaderMutation = {
  encode(message, writer = new BinaryWriter16()) {
    for (const v of message.setHeaders) {
      HeaderValueOption.encode(v, writer.uint32(10).fork()).join();
    }
    for (const v of message.removeHeaders) {
      writer.uint32(18).string(v);
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseHeaderMutation();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.setHeaders.push(HeaderValueOption.decode(reader, reader.uint32()));
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }
            message.removeHeaders.push(reader.string());
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      setHeaders: globalThis.Array.isArray(object?.setHeaders) ? object.setHeaders.map((e) => HeaderValueOption.fromJSON(e)) : globalThis.Array.isArray(object?.set_headers) ? object.set_headers.map((e) => HeaderValueOption.fromJSON(e)) : [],
      removeHeaders: globalThis.Array.isArray(object?.removeHeaders) ? object.removeHeaders.map((e) => globalThis.String(e)) : globalThis.Array.isArray(object?.remove_headers) ? object.remove_headers.map((e) => globalThis.String(e)) : []
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.setHeaders?.length) {
      obj.setHeaders = message.setHeaders.map((e) => HeaderValueOption.toJSON(e));
    }
    if (message.removeHeaders?.length) {
      obj.removeHeaders = message.removeHeaders;
    }
    return obj;
  },
  create(base) {
    return HeaderMutation.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseHeaderMutation();
    message.setHeaders = object.setHeaders?.map((e) => HeaderValueOption.fromPartial(e)) || [];
    message.removeHeaders = object.removeHeaders?.map((e) => e) || [];
    return message;
  }
};
function createBaseBodyMutation() {
  return { mutation: void 0 };
}
var BodyMutation = {
  encode(message, writer = new BinaryWriter16()) {
    switch (message.mutation?.$case) {
      case "body":
        writer.uint32(10).bytes(message.mutation.value);
        break;
      case "clearBody":
        writer.uint32(16).bool(message.mutation.value);
        break;
    }
    return writer;
  },
  decode(input, length) {
    const reader = input instanceof BinaryReader16 ? input : new BinaryReader16(input);
    const previousRecursionDepth = reader.__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    reader.__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === void 0 ? reader.len : reader.pos + length;
      const message = createBaseBodyMutation();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }
            message.mutation = { $case: "body", value: Buffer.from(reader.bytes()) };
            continue;
          }
          case 2: {
            if (tag !== 16) {
              break;
            }
            message.mutation = { $case: "clearBody", value: reader.bool() };
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      reader.__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },
  fromJSON(object) {
    return {
      mutation: isSet8(object.body) ? { $case: "body", value: Buffer.from(bytesFromBase643(object.body)) } : isSet8(object.clearBody) ? { $case: "clearBody", value: globalThis.Boolean(object.clearBody) } : isSet8(object.clear_body) ? { $case: "clearBody", value: globalThis.Boolean(object.clear_body) } : void 0
    };
  },
  toJSON(message) {
    const obj = {};
    if (message.mutation?.$case === "body") {
      obj.body = base64FromBytes3(message.mutation.value);
    } else if (message.mutation?.$case === "clearBody") {
      obj.clearBody = message.mutation.value;
    }
    return obj;
  },
  create(base) {
    return BodyMutation.fromPartial(base ?? {});
  },
  fromPartial(object) {
    const message = createBaseBodyMutation();
    switch (object.mutation?.$case) {
      case "body": {
        if (object.mutation?.value !== void 0 && object.mutation?.value !== null) {
          message.mutation = { $case: "body", value: object.mutation.value };
        }
        break;
      }
      case "clearBody": {
        if (object.mutation?.value !== void 0 && object.mutation?.value !== null) {
          message.mutation = { $case: "clearBody", value: object.mutation.value };
        }
        break;
      }
    }
    return message;
  }
};
var ExternalProcessorService = {
  /**
   * This begins the bidirectional stream that Envoy will use to
   * give the server control over what the filter does. The actual
   * protocol is described by the ProcessingRequest and ProcessingResponse
   * messages below.
   */
  process: {
    path: "/envoy.service.ext_proc.v3.ExternalProcessor/Process",
    requestStream: true,
    responseStream: true,
    requestSerialize: (value) => Buffer.from(ProcessingRequest.encode(value).finish()),
    requestDeserialize: (value) => ProcessingRequest.decode(value),
    responseSerialize: (value) => Buffer.from(ProcessingResponse.encode(value).finish()),
    responseDeserialize: (value) => ProcessingResponse.decode(value)
  }
};
var ExternalProcessorClient = makeGenericClientConstructor(
  ExternalProcessorService,
  "envoy.service.ext_proc.v3.ExternalProcessor"
);
function bytesFromBase643(b64) {
  return Uint8Array.from(globalThis.Buffer.from(b64, "base64"));
}
function base64FromBytes3(arr) {
  return globalThis.Buffer.from(arr).toString("base64");
}
function isObject3(value) {
  return typeof value === "object" && value !== null;
}
function isSet8(value) {
  return value !== null && value !== void 0;
}

// ext-proc/envoy-decode.ts
var EMPTY = Buffer.alloc(0);
function decodeProcessingRequest(bytes2) {
  const buf = Buffer.isBuffer(bytes2) ? bytes2 : Buffer.from(bytes2.buffer, bytes2.byteOffset, bytes2.length);
  const reader = new BinaryReader17(buf);
  const message = { request: void 0, metadataContext: void 0, attributes: {}, observabilityMode: false };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case 18:
        message.request = { $case: "requestHeaders", value: httpHeaders(reader, buf, reader.uint32()) };
        continue;
      case 26:
        message.request = { $case: "responseHeaders", value: httpHeaders(reader, buf, reader.uint32()) };
        continue;
      case 34:
        message.request = { $case: "requestBody", value: httpBody(reader, buf, reader.uint32()) };
        continue;
      case 42:
        message.request = { $case: "responseBody", value: httpBody(reader, buf, reader.uint32()) };
        continue;
      case 50:
        message.request = { $case: "requestTrailers", value: HttpTrailers.decode(reader, reader.uint32()) };
        continue;
      case 58:
        message.request = { $case: "responseTrailers", value: HttpTrailers.decode(reader, reader.uint32()) };
        continue;
    }
    if (tag === 66 || tag === 74 || tag === 80) return ProcessingRequest.decode(buf);
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return message;
}
function httpHeaders(reader, buf, length) {
  const end = reader.pos + length;
  const message = { headers: void 0, attributes: {}, endOfStream: false };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      message.headers = headerMap(reader, buf, reader.uint32());
    } else if (tag === 24) {
      message.endOfStream = reader.bool();
    } else if (tag === 18) {
      const entry = HttpHeaders_AttributesEntry.decode(reader, reader.uint32());
      if (entry.value !== void 0) message.attributes[entry.key] = entry.value;
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return message;
}
function headerMap(reader, buf, length) {
  const end = reader.pos + length;
  const headers2 = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) headers2.push(headerValue(reader, buf, reader.uint32()));
    else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return { headers: headers2 };
}
function headerValue(reader, buf, length) {
  const end = reader.pos + length;
  let key = "";
  let value = "";
  let rawValue = EMPTY;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10 || tag === 18 || tag === 26) {
      const n2 = reader.uint32();
      const start = reader.pos;
      if (start + n2 > end || start + n2 > reader.len) throw new RangeError("premature end of a HeaderValue");
      reader.pos = start + n2;
      if (tag === 10) key = buf.toString("utf8", start, start + n2);
      else if (tag === 18) value = buf.toString("utf8", start, start + n2);
      else rawValue = buf.subarray(start, start + n2);
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return { key, value, rawValue };
}
function httpBody(reader, buf, length) {
  const end = reader.pos + length;
  const message = { body: EMPTY, endOfStream: false };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      const n2 = reader.uint32();
      const start = reader.pos;
      if (start + n2 > end || start + n2 > reader.len) throw new RangeError("premature end of an HttpBody");
      reader.pos = start + n2;
      message.body = buf.subarray(start, start + n2);
    } else if (tag === 16) {
      message.endOfStream = reader.bool();
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return message;
}

// ext-proc/envoy-encode.ts
function encodeProcessingResponse(message) {
  if (!fast(message)) return ProcessingResponse.encode(message).finish();
  const r = message.response;
  const inner = r.value.response === void 0 ? 0 : field(commonSize(r.value.response));
  const mode2 = message.modeOverride;
  const size = field(inner) + (mode2 === void 0 ? 0 : field(modeSize(mode2)));
  const w = new Writer(size);
  w.tag(TAG[r.$case], inner);
  if (r.value.response !== void 0) {
    w.tag(10, commonSize(r.value.response));
    writeCommon(w, r.value.response);
  }
  if (mode2 !== void 0) {
    w.tag(74, modeSize(mode2));
    writeMode(w, mode2);
  }
  return w.buf;
}
var TAG = { requestHeaders: 10, responseHeaders: 18, requestBody: 26, responseBody: 34 };
function fast(m) {
  const r = m.response;
  if (r === void 0 || !(r.$case in TAG) || m.dynamicMetadata !== void 0 || m.overrideMessageTimeout !== void 0) return false;
  const common2 = r.value.response;
  if (common2 === void 0) return true;
  if (common2.trailers !== void 0 || common2.status < 0) return false;
  if (common2.headerMutation?.setHeaders.some((o) => o.append !== void 0 || o.appendAction < 0)) return false;
  const mutation = common2.bodyMutation?.mutation;
  if (mutation !== void 0 && mutation.$case !== "body" && mutation.$case !== "clearBody") return false;
  const mode2 = m.modeOverride;
  return mode2 === void 0 || Object.values(mode2).every((v) => typeof v !== "number" || v >= 0);
}
var varint = (v) => v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
var field = (payload) => 1 + varint(payload) + payload;
var bytes = (s2) => Buffer.byteLength(s2, "utf8");
var enumSize = (v) => v === 0 ? 0 : 1 + varint(v);
function headerValueSize(h) {
  return (h.key === "" ? 0 : field(bytes(h.key))) + (h.value === "" ? 0 : field(bytes(h.value))) + (h.rawValue.length === 0 ? 0 : field(h.rawValue.length));
}
function optionSize(o) {
  return (o.header === void 0 ? 0 : field(headerValueSize(o.header))) + enumSize(o.appendAction) + (o.keepEmptyValue ? 2 : 0);
}
function mutationSize(m) {
  let n2 = 0;
  for (const o of m.setHeaders) n2 += field(optionSize(o));
  for (const r of m.removeHeaders) n2 += field(bytes(r));
  return n2;
}
function bodyMutationSize(b) {
  const m = b.mutation;
  if (m === void 0) return 0;
  return m.$case === "body" ? field(m.value.length) : 2;
}
function commonSize(c) {
  return enumSize(c.status) + (c.headerMutation === void 0 ? 0 : field(mutationSize(c.headerMutation))) + (c.bodyMutation === void 0 ? 0 : field(bodyMutationSize(c.bodyMutation))) + (c.clearRouteCache ? 2 : 0);
}
function modeSize(m) {
  return enumSize(m.requestHeaderMode) + enumSize(m.responseHeaderMode) + enumSize(m.requestBodyMode) + enumSize(m.responseBodyMode) + enumSize(m.requestTrailerMode) + enumSize(m.responseTrailerMode);
}
function writeCommon(w, c) {
  w.enumField(8, c.status);
  if (c.headerMutation !== void 0) {
    const m = c.headerMutation;
    w.tag(18, mutationSize(m));
    for (const o of m.setHeaders) {
      w.tag(10, optionSize(o));
      if (o.header !== void 0) {
        const h = o.header;
        w.tag(10, headerValueSize(h));
        if (h.key !== "") w.string(10, h.key);
        if (h.value !== "") w.string(18, h.value);
        if (h.rawValue.length !== 0) w.bytes(26, h.rawValue);
      }
      w.enumField(24, o.appendAction);
      if (o.keepEmptyValue) w.bool(32);
    }
    for (const r of m.removeHeaders) w.string(18, r);
  }
  if (c.bodyMutation !== void 0) {
    const b = c.bodyMutation;
    w.tag(26, bodyMutationSize(b));
    const m = b.mutation;
    if (m?.$case === "body") w.bytes(10, m.value);
    else if (m?.$case === "clearBody") w.boolValue(16, m.value);
  }
  if (c.clearRouteCache) w.bool(40);
}
function writeMode(w, m) {
  w.enumField(8, m.requestHeaderMode);
  w.enumField(16, m.responseHeaderMode);
  w.enumField(24, m.requestBodyMode);
  w.enumField(32, m.responseBodyMode);
  w.enumField(40, m.requestTrailerMode);
  w.enumField(48, m.responseTrailerMode);
}
var Writer = class {
  buf;
  pos = 0;
  constructor(size) {
    this.buf = Buffer.allocUnsafe(size);
  }
  varint(v) {
    while (v >= 128) {
      this.buf[this.pos++] = v & 127 | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  /** A length-delimited field's tag and length; its payload follows. */
  tag(tag, length) {
    this.buf[this.pos++] = tag;
    this.varint(length);
  }
  string(tag, s2) {
    const n2 = bytes(s2);
    this.tag(tag, n2);
    this.pos += this.buf.write(s2, this.pos, n2, "utf8");
  }
  bytes(tag, b) {
    this.tag(tag, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  enumField(tag, v) {
    if (v === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(v);
  }
  bool(tag) {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = 1;
  }
  boolValue(tag, v) {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = v ? 1 : 0;
  }
};

// ext-proc/logger.ts
import { pino } from "pino";
var SECRET_HEADERS = ["authorization", "x-api-key", "proxy-authorization", "cookie", "set-cookie"];
function createLogger(level = "info", destination) {
  const flushable = destination;
  return pino(
    {
      level,
      // With a batching destination, a warning or an error is written out immediately (rare;
      // and it is the line someone is waiting for), together with what was batched before it.
      hooks: {
        logMethod(args, method, lineLevel) {
          method.apply(this, args);
          if (lineLevel >= 40 && flushable?.flushSync) {
            try {
              flushable.flushSync();
            } catch {
            }
          }
        }
      },
      base: { svc: "ext-proc" },
      redact: {
        paths: SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `request.headers["${h}"]`]),
        censor: "[redacted]"
      },
      timestamp: pino.stdTimeFunctions.isoTime
    },
    destination
  );
}
var SECRET_LIKE = /auth|key|token|secret|passw|cookie|signature|credential/i;
function loggableHeaders(entries) {
  const out = {};
  for (const [k, v] of entries) {
    if (SECRET_HEADERS.includes(k) || SECRET_LIKE.test(k)) out[k] = "[redacted]";
    else if (k === ":path" && v.includes("?")) out[k] = `${v.slice(0, v.indexOf("?"))}?[redacted]`;
    else out[k] = v;
  }
  return out;
}

// ext-proc/metrics.ts
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
var REQUEST_BUCKETS = [5e-4, 1e-3, 25e-4, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
var WORK_BUCKETS = [2e-5, 5e-5, 1e-4, 25e-5, 5e-4, 1e-3, 25e-4, 5e-3, 0.01, 0.05, 0.25];
function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_ext_proc_" });
  const registers = [registry];
  return {
    registry,
    streams: new Counter({
      name: "gateway_ext_proc_streams_total",
      help: "ext_proc streams opened, by the process serving them (pid): how streams spread over extProc.workers",
      labelNames: ["pid"],
      registers
    }),
    configReloads: new Counter({
      name: "gateway_config_reloads_total",
      aggregator: "omit",
      help: "Config reload attempts by result (success, failure)",
      labelNames: ["result"],
      registers
    }),
    configLastReloadSuccessful: new Gauge({
      name: "gateway_config_last_reload_successful",
      aggregator: "omit",
      help: "Whether the config file in force matches the file on disk: 0 after a refused reload, 1 once a reload succeeds or the file is restored",
      registers: [registry]
    }),
    configLastReloadSuccessTimestamp: new Gauge({
      name: "gateway_config_last_reload_success_timestamp_seconds",
      aggregator: "omit",
      help: "When the config in force was loaded (Unix time)",
      registers: [registry]
    }),
    configInfo: new Gauge({
      name: "gateway_config_info",
      aggregator: "omit",
      help: "The active config: 1 for its hash",
      labelNames: ["hash"],
      registers
    }),
    phaseSeconds: new Histogram({
      name: "gateway_ext_proc_phase_duration_seconds",
      help: "Time the ext-proc spends on one ext_proc message, by phase",
      labelNames: ["phase"],
      buckets: WORK_BUCKETS,
      registers
    }),
    requestWorkSeconds: new Histogram({
      name: "gateway_ext_proc_request_duration_seconds",
      help: "Time the ext-proc spends on one request, all phases together (its share of the added latency)",
      buckets: WORK_BUCKETS,
      registers
    }),
    requests: new Counter({
      name: "gateway_requests_total",
      help: "Requests seen by the gateway, by model, version, consumer, protocol and status class (2xx..5xx, or cancelled)",
      labelNames: ["model", "version", "consumer", "protocol", "status_class"],
      registers
    }),
    requestSeconds: new Histogram({
      name: "gateway_request_duration_seconds",
      help: "First request header to the end of the exchange seen by the ext-proc (end of the response stream when the body is processed)",
      labelNames: ["model", "version"],
      buckets: REQUEST_BUCKETS,
      registers
    }),
    responseHeadersSeconds: new Histogram({
      name: "gateway_response_headers_duration_seconds",
      help: "First request header to the upstream's response headers",
      labelNames: ["model", "version"],
      buckets: REQUEST_BUCKETS,
      registers
    }),
    firstTokenSeconds: new Histogram({
      name: "gateway_time_to_first_token_seconds",
      help: "First request header to the first chunk of a streamed (SSE) response",
      labelNames: ["model", "version"],
      buckets: REQUEST_BUCKETS,
      registers
    }),
    routeDecisions: new Counter({
      name: "gateway_route_decisions_total",
      help: "Which version served each routed request and why (reason: default, split, sticky, header, path, alias:<name>; variant: experiment arm)",
      labelNames: ["model", "version", "reason", "variant"],
      registers
    }),
    rejections: new Counter({
      name: "gateway_rejections_total",
      help: "Requests the gateway answered itself with an error, by reason (auth, validation, limits, routing, error), stable error code, model and consumer",
      labelNames: ["reason", "code", "model", "consumer"],
      registers
    }),
    pluginErrors: new Counter({
      name: "gateway_plugin_errors_total",
      help: "Plugin hook failures (kind: error, timeout), by plugin instance and hook",
      labelNames: ["plugin", "hook", "kind"],
      registers
    }),
    streamsAborted: new Counter({
      name: "gateway_ext_proc_streams_aborted_total",
      help: "ext_proc streams the ext-proc ended itself with a gRPC error, by reason (out_of_order: a message Envoy would not send then; idle_timeout: no message for extProc.limits.streamIdleTimeoutMs; limit: past a per-stream bound; overloaded: past extProc.limits.maxStreams; internal: a bug)",
      labelNames: ["reason"],
      registers
    }),
    tokens: new Counter({
      name: "gateway_tokens_total",
      help: "OpenAI token usage reported by model servers (type: prompt, completion), by model, version and consumer",
      labelNames: ["model", "version", "consumer", "type"],
      registers
    })
  };
}

// bench/processor.ts
init_observe();

// ext-proc/stream.ts
import { randomUUID } from "node:crypto";

// plugins/sdk/headers.ts
var HeaderSet = class {
  values;
  /** name → new value, or null for removal. */
  changes = /* @__PURE__ */ new Map();
  constructor(values2 = /* @__PURE__ */ new Map()) {
    this.values = values2;
  }
  get(name) {
    return this.values.get(name.toLowerCase());
  }
  has(name) {
    return this.values.has(name.toLowerCase());
  }
  entries() {
    return this.values.entries();
  }
  set(name, value) {
    const key = name.toLowerCase();
    if (/[\r\n\0]/.test(value)) throw new Error(`header ${key}: value contains a control character`);
    this.values.set(key, value);
    this.changes.set(key, value);
  }
  remove(name) {
    const key = name.toLowerCase();
    this.values.delete(key);
    this.changes.set(key, null);
  }
};

// plugins/sdk/paths.ts
var V2 = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(infer|ready))?$/;
var V2_SERVER = /^\/v2(?:\/health\/(live|ready))?$/;
var TF_PATH = /^\/v1\/models\/([^/:]+)(?:\/(versions|labels)\/([^/:]+))?(?::([a-z]+)|\/(metadata))?$/;
var TF_VERBS = /* @__PURE__ */ new Set(["predict", "classify", "regress"]);
var OPENAI_INFERENCE = /* @__PURE__ */ new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]);
function decode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return void 0;
  }
}
function parseTarget(protocol, pathname) {
  if (protocol === "kserve-v2") {
    const server = V2_SERVER.exec(pathname);
    if (server) return { action: server[1] ? `health/${server[1]}` : "server-metadata" };
    const m = V2.exec(pathname);
    if (!m) return void 0;
    const model = decode(m[1]);
    const version = m[2] === void 0 ? void 0 : decode(m[2]);
    if (model === void 0 || m[2] !== void 0 && version === void 0) return void 0;
    const action = m[3] ?? "metadata";
    return {
      model,
      version,
      action,
      withVersion: (v) => `/v2/models/${m[1]}/versions/${encodeURIComponent(v)}${m[3] ? `/${m[3]}` : ""}`
    };
  }
  if (protocol === "tfserving") {
    const m = TF_PATH.exec(pathname);
    if (!m || m[4] !== void 0 && !TF_VERBS.has(m[4])) return void 0;
    const model = decode(m[1]);
    const version = m[3] === void 0 ? void 0 : decode(m[3]);
    if (model === void 0 || m[3] !== void 0 && version === void 0) return void 0;
    const suffix = m[4] ? `:${m[4]}` : m[5] ? "/metadata" : "";
    return {
      model,
      version,
      action: m[4] ?? m[5] ?? "status",
      withVersion: (v) => `/v1/models/${m[1]}/versions/${encodeURIComponent(v)}${suffix}`
    };
  }
  if (OPENAI_INFERENCE.has(pathname)) return { action: pathname.slice("/v1/".length) };
  if (pathname === "/v1/models") return { action: "list-models" };
  const retrieve = /^\/v1\/models\/([^/]+)$/.exec(pathname);
  if (retrieve) {
    const model = decode(retrieve[1]);
    return model === void 0 ? void 0 : { action: "retrieve-model", model };
  }
  return void 0;
}

// plugins/sdk/protocol.ts
var OPENAI_PREFIX = "/v1/";
var V2_PREFIX = "/v2/";
var TF_PREFIX = "/v1/models/";
function detectProtocol(pathname, protocolOfModel) {
  if (pathname.startsWith(TF_PREFIX) && TF_PATH.test(pathname)) {
    const name = pathname.slice(TF_PREFIX.length).split(/[/:]/, 1)[0] ?? "";
    const explicitTf = pathname.length > TF_PREFIX.length + name.length;
    if (explicitTf || protocolOfModel?.(decodeOrRaw(name)) === "tfserving") return "tfserving";
    return "openai";
  }
  if (pathname.startsWith(OPENAI_PREFIX)) return "openai";
  if (pathname.startsWith(V2_PREFIX) || pathname === "/v2") return "kserve-v2";
  return void 0;
}
function decodeOrRaw(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
function openAiErrorType(status) {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}
function errorBody(protocol, status, message, details = {}) {
  if (protocol === "openai") {
    return {
      error: {
        message,
        type: details.type ?? openAiErrorType(status),
        param: details.param ?? null,
        code: details.code ?? null
      }
    };
  }
  const body2 = { error: message };
  if (details.code) body2.code = details.code;
  if (details.param) body2.param = details.param;
  return body2;
}

// plugins/sdk/wire.ts
var CLUSTER_HEADER = "x-gateway-cluster";
var SHADOW_HEADER = "x-gateway-shadow";
var UPSTREAM_VERSION_HEADER = "x-gateway-upstream-version";
var CONSUMER_HEADER = "x-gateway-consumer";
var INTERNAL_REQUEST_HEADERS = [CLUSTER_HEADER, SHADOW_HEADER, CONSUMER_HEADER];
var GATEWAY_REPLY_DETAILS_PREFIX = "gateway_reply_";
var NO_MODEL_MESSAGE = "no model selected for this request";
var NO_MODEL_SELECTED = { status: 404, message: NO_MODEL_MESSAGE, body: JSON.stringify({ error: NO_MODEL_MESSAGE }) };

// ext-proc/filter-modes.ts
var FILTER_BODY_MODES = {
  request: 2 /* BUFFERED */,
  response: 0 /* NONE */
};
var FILTER_RESPONSE_HEADER_MODE = 2 /* SKIP */;

// ext-proc/envoy-messages.ts
var CONTINUE = 0;
function headersToMap(headers2) {
  const map = /* @__PURE__ */ new Map();
  for (const h of headers2.headers?.headers ?? []) {
    const value = h.rawValue && h.rawValue.length > 0 ? h.rawValue.toString("latin1") : h.value;
    const existing = map.get(h.key);
    map.set(h.key, existing === void 0 ? value : `${existing}, ${value}`);
  }
  return map;
}
function headerOption(key, value) {
  return {
    header: { key, value: "", rawValue: Buffer.from(value, "latin1") },
    appendAction: 2 /* OVERWRITE_IF_EXISTS_OR_ADD */,
    // Lets a plugin deliberately send an empty header value.
    keepEmptyValue: true
  };
}
function headerMutation(changes) {
  if (changes.size === 0) return void 0;
  const setHeaders2 = [];
  const removeHeaders = [];
  for (const [key, value] of changes) {
    if (value === null) removeHeaders.push(key);
    else setHeaders2.push(headerOption(key, value));
  }
  return { setHeaders: setHeaders2, removeHeaders };
}
function common(changes, opts = {}) {
  const mutation = headerMutation(changes);
  if (!mutation && !opts.body && !opts.clearRouteCache) return void 0;
  return {
    status: CONTINUE,
    headerMutation: mutation,
    bodyMutation: opts.body ? { mutation: { $case: "body", value: opts.body } } : void 0,
    clearRouteCache: opts.clearRouteCache ?? false
  };
}
function immediate(respond, details) {
  const setHeaders2 = Object.entries(respond.headers).map(([key, value]) => headerOption(key, value));
  return {
    response: {
      $case: "immediateResponse",
      value: {
        status: { code: respond.status },
        headers: { setHeaders: setHeaders2, removeHeaders: [] },
        body: respond.body,
        grpcStatus: void 0,
        // Shows in Envoy's %RESPONSE_CODE_DETAILS%; Envoy rejects spaces there.
        details: details.replace(/[^A-Za-z0-9_.-]/g, "_")
      }
    }
  };
}
function modeOverride(requestBody, responseBody) {
  return {
    requestHeaderMode: 1 /* SEND */,
    responseHeaderMode: 1 /* SEND */,
    requestBodyMode: requestBody,
    responseBodyMode: responseBody,
    requestTrailerMode: 2 /* SKIP */,
    responseTrailerMode: 2 /* SKIP */
  };
}

// ext-proc/phase-order.ts
var FILTER_MODES = {
  requestBody: FILTER_BODY_MODES.request,
  requestTrailers: 2 /* SKIP */,
  responseHeaders: FILTER_RESPONSE_HEADER_MODE,
  responseBody: FILTER_BODY_MODES.response,
  responseTrailers: 2 /* SKIP */
};
var PhaseOrderError = class extends Error {
  constructor(phase, reason) {
    super(`${phase ?? "message without a phase"}: ${reason}`);
    this.phase = phase;
    this.name = "PhaseOrderError";
  }
  phase;
};
var streamedModes = /* @__PURE__ */ new Set([1 /* STREAMED */]);
var PhaseOrder = class {
  constructor(modes = FILTER_MODES, allowModeOverride = true) {
    this.allowModeOverride = allowModeOverride;
    this.modes = { ...modes };
  }
  allowModeOverride;
  modes;
  request = { headers: false, bodyMessages: 0, ended: false };
  response = { headers: false, bodyMessages: 0, ended: false };
  /** An immediate response was sent: Envoy closes the stream, nothing more may come. */
  finished = false;
  accept(msg2) {
    const phase = msg2.request?.$case;
    if (phase === void 0) throw new PhaseOrderError(void 0, "no phase set");
    const refuse = this.refusal(phase);
    if (refuse !== void 0) throw new PhaseOrderError(phase, refuse);
    const value = msg2.request?.value;
    const endOfStream = value !== void 0 && "endOfStream" in value && value.endOfStream;
    switch (phase) {
      case "requestHeaders":
      case "responseHeaders":
        this.direction(phase).headers = true;
        this.direction(phase).ended = endOfStream;
        return;
      case "requestBody":
      case "responseBody":
        this.direction(phase).bodyMessages += 1;
        if (endOfStream) this.direction(phase).ended = true;
        return;
      case "requestTrailers":
      case "responseTrailers":
        this.direction(phase).ended = true;
        return;
    }
  }
  answered(phase, out) {
    if (out.response?.$case === "immediateResponse") {
      this.finished = true;
      return;
    }
    if (out.modeOverride && this.allowModeOverride && (phase === "requestHeaders" || phase === "responseHeaders")) {
      this.override(out.modeOverride);
    }
  }
  /** Why Envoy would not send `phase` now, or undefined when it may. */
  refusal(phase) {
    if (this.finished) return "the exchange was already answered with an immediate response";
    const req = this.request;
    const res = this.response;
    switch (phase) {
      case "requestHeaders":
        return req.headers ? "request headers were already sent" : void 0;
      case "requestBody":
        if (!req.headers) return "no request headers yet";
        if (req.ended) return "the request already ended";
        if (this.modes.requestBody === 0 /* NONE */) return "the request body mode is NONE";
        if (!streamedModes.has(this.modes.requestBody)) {
          if (req.bodyMessages > 0) return "a buffered request body comes in one message";
          if (res.headers) return "a buffered request body after response headers";
        }
        return void 0;
      case "requestTrailers":
        if (!req.headers) return "no request headers yet";
        if (req.ended) return "the request already ended";
        return this.modes.requestTrailers === 1 /* SEND */ ? void 0 : "the request trailer mode is SKIP";
      case "responseHeaders":
        if (!req.headers) return "no request headers yet";
        if (res.headers) return "response headers were already sent";
        return this.modes.responseHeaders === 2 /* SKIP */ ? "the response header mode is SKIP" : void 0;
      case "responseBody":
        if (!res.headers) return "no response headers yet";
        if (res.ended) return "the response already ended";
        if (this.modes.responseBody === 0 /* NONE */) return "the response body mode is NONE";
        if (!streamedModes.has(this.modes.responseBody) && res.bodyMessages > 0) return "a buffered response body comes in one message";
        return void 0;
      case "responseTrailers":
        if (!res.headers) return "no response headers yet";
        if (res.ended) return "the response already ended";
        return this.modes.responseTrailers === 1 /* SEND */ ? void 0 : "the response trailer mode is SKIP";
    }
  }
  direction(phase) {
    return phase.startsWith("request") ? this.request : this.response;
  }
  /** The request-header mode cannot be overridden (its message has already come). */
  override(mode2) {
    this.modes.requestBody = mode2.requestBodyMode;
    this.modes.requestTrailers = mode2.requestTrailerMode;
    this.modes.responseHeaders = mode2.responseHeaderMode;
    this.modes.responseBody = mode2.responseBodyMode;
    this.modes.responseTrailers = mode2.responseTrailerMode;
  }
};

// plugins/sdk/errors.ts
init_error_codes();
var BRAND = /* @__PURE__ */ Symbol.for("inference-gateway.PluginError");
var PluginError = class extends Error {
  /**
   * True for a PluginError from any copy of the SDK. The gateway checks this rather than
   * `instanceof`: a plugin package may have bundled or linked its own copy.
   */
  static is(value) {
    return typeof value === "object" && value !== null && value[BRAND] === true;
  }
  [BRAND] = true;
  status;
  code;
  expose;
  param;
  headers;
  constructor(status, code2, message, opts = {}) {
    super(message, { cause: opts.cause });
    this.name = "PluginError";
    this.status = status;
    this.code = code2;
    this.expose = opts.expose ?? status < 500;
    this.param = opts.param;
    this.headers = opts.headers;
  }
};
var GatewayErrorCodes = {
  invalidJson: "invalid_json",
  invalidRequest: "invalid_request",
  modelNotFound: "model_not_found",
  versionNotFound: "version_not_found",
  pluginError: "plugin_error",
  pluginTimeout: "plugin_timeout"
};
function gatewayError(code2, message, opts = {}) {
  const info = ERROR_CODES[code2];
  return new PluginError(info.status, code2, message, { ...opts, expose: info.expose });
}

// ext-proc/config/load.ts
import { parseDocument } from "yaml";

// ext-proc/config/schema.ts
import { z as z3 } from "zod";

// ext-proc/transport/names.ts
var TRANSPORTS = ["h2", "http2", "grpc-js"];

// ext-proc/config/console.ts
import { z } from "zod";

// plugins/sdk/keys.ts
import { createHash, hash, timingSafeEqual } from "node:crypto";
var KEY_HASH = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
var KeyTable = class {
  entries;
  constructor(consumers) {
    this.entries = consumers.flatMap(
      ({ id, keys }) => keys.map((k) => {
        const { hash: hash2, expiresAt } = typeof k === "string" ? { hash: k, expiresAt: void 0 } : k;
        const [algorithm, hex] = hash2.split(":");
        return { algorithm, digest: Buffer.from(hex, "hex"), consumer: id, expiresAt };
      })
    );
  }
  get size() {
    return this.entries.length;
  }
  /** The consumer id the key belongs to, or undefined. */
  lookup(key) {
    return this.match(key)?.consumer;
  }
  /** The key's consumer and expiry, or undefined when no stored key matches. */
  match(key) {
    const digests = {};
    let found;
    for (const e of this.entries) {
      const presented = digests[e.algorithm] ??= hash(e.algorithm, key, "buffer");
      if (timingSafeEqual(presented, e.digest) && found === void 0) found = e;
    }
    return found;
  }
  /** Keys past their expiry at `now`, by consumer: for a warning at load. */
  expired(now) {
    return this.entries.filter((e) => e.expiresAt !== void 0 && e.expiresAt <= now).map((e) => e.consumer);
  }
};

// ext-proc/config/console.ts
var ConsoleSchema = z.object({
  /** Serve the console on the ext-proc's HTTP port (`/`). */
  enabled: z.boolean().default(true),
  /**
   * Admin keys, stored hashed like consumer keys (`npm run hash-key -- <key>`). Required to
   * open the console when the HTTP port is bound beyond loopback; once set, always required.
   */
  adminKeys: z.array(z.string().regex(KEY_HASH, "a key hash: sha256:<64 hex> or sha512:<128 hex> (npm run hash-key)")).default([]),
  /** Let the console edit the config file (weights, aliases, rollback). Off by default. */
  actions: z.boolean().default(false),
  /** How often the console remembers the metrics; its charts have one point per sample. */
  sampleIntervalMs: z.number().int().min(250).max(6e4).default(5e3)
}).strict().prefault({});

// ext-proc/config/stream-limits.ts
var DEFAULT_STREAM_LIMITS = {
  maxHeaders: 128,
  maxHeaderBytes: 80 * 1024,
  maxSseEventBytes: 1024 * 1024
};

// ext-proc/config/resilience.ts
import { z as z2 } from "zod";
var HeaderName = z2.string().regex(/^[a-z0-9][a-z0-9-]*$/, "a lower-case HTTP header name");
var Ms = z2.number().int().min(0);
var LoadBalancingSchema = z2.object({
  /**
   * `least-request` (default: a slow instance gets less), `round-robin`, or `ring-hash` /
   * `maglev` (consistent hashing on `hashHeader`: the same header value sticks to one
   * instance while that instance is healthy).
   */
  policy: z2.enum(["least-request", "round-robin", "ring-hash", "maglev"]).default("least-request"),
  /** Request header whose value picks the instance; required by ring-hash and maglev. */
  hashHeader: HeaderName.optional()
}).strict().superRefine((lb, ctx) => {
  const hashing = lb.policy === "ring-hash" || lb.policy === "maglev";
  if (hashing && lb.hashHeader === void 0) {
    ctx.addIssue({ code: "custom", path: ["hashHeader"], message: `policy "${lb.policy}" needs hashHeader (the header to hash on)` });
  }
  if (!hashing && lb.hashHeader !== void 0) {
    ctx.addIssue({ code: "custom", path: ["hashHeader"], message: `hashHeader only applies to ring-hash and maglev, not "${lb.policy}"` });
  }
});
var RetriesSchema = z2.object({
  /**
   * Retries after the first attempt, each on another instance. Only failures that cannot have
   * reached a model are retried: connect failure, reset / timeout before a response byte,
   * refused stream, and the status codes below (before any byte reached the client).
   */
  attempts: z2.number().int().min(0).max(5).default(2),
  /** Status codes retried on another instance; 503 is what a draining model server answers. */
  retriableStatusCodes: z2.array(z2.number().int().min(500).max(599)).default([503]),
  /** Each attempt's whole-response budget (route `per_try_timeout`); 0: none. Keep 0 for streaming models. */
  perTryTimeoutMs: Ms.default(0),
  /** Longest silence within one attempt (route `per_try_idle_timeout`); 0: none. The streaming-safe per-try bound. */
  perTryIdleTimeoutMs: Ms.default(0),
  /** Retries may be at most this share of the version's active requests (cluster `retry_budget`). */
  budgetPercent: z2.number().min(0).max(100).default(20),
  /** …but this many concurrent retries are always allowed, so a quiet version can still retry. */
  minRetryConcurrency: z2.number().int().min(0).default(3),
  /** Jittered exponential back-off between attempts. */
  backoffBaseMs: z2.number().int().positive().default(25),
  backoffMaxMs: z2.number().int().positive().default(250)
}).strict();
var OutlierDetectionSchema = z2.object({
  /** Eject an instance after this many 5xx answers in a row (0 disables). */
  consecutive5xx: z2.number().int().min(0).default(5),
  /** Eject after this many gateway failures in a row: 502/503/504, connect failures, timeouts (0 disables). */
  consecutiveGatewayFailure: z2.number().int().min(0).default(3),
  /** How often ejections are reviewed (an ejected instance returns at the first review after its time is up). */
  intervalMs: z2.number().int().positive().default(5e3),
  /** First ejection lasts this long; each repeat ejection of the same instance lasts one more multiple. */
  baseEjectionMs: z2.number().int().positive().default(15e3),
  /** Never eject more than this share of a version's instances (at least one is always ejectable). */
  maxEjectionPercent: z2.number().int().min(0).max(100).default(50)
}).strict();
var LimitsSchema = z2.object({
  /** Concurrent requests to this version, all instances together; beyond it a fast 503. */
  maxRequests: z2.number().int().positive().default(1024),
  /** Requests waiting for a connection; beyond it a fast 503. */
  maxPendingRequests: z2.number().int().positive().default(1024),
  /** Connections to this version's instances (HTTP/1.1: one request each). */
  maxConnections: z2.number().int().positive().default(1024)
}).strict();
var ExtProcHealthCheckSchema = z2.object({
  intervalMs: z2.number().int().positive().default(1e3),
  timeoutMs: z2.number().int().positive().default(500),
  unhealthyThreshold: z2.number().int().positive().default(1),
  healthyThreshold: z2.number().int().positive().default(1)
}).strict();

// ext-proc/config/schema.ts
var MODEL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
var VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
var INSTANCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
var ModelName = z3.string().regex(MODEL_NAME, 'model names are lower-case letters, digits, "_" and "-"');
var VersionName = z3.string().regex(VERSION_NAME, 'version names are letters, digits, "_" and "-"');
var LogLevel = z3.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
var Port = z3.number().int().min(0).max(65535);
var Host = z3.string().min(1);
var Endpoint = z3.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, "an endpoint is host:port");
var PluginInstanceSchema = z3.object({
  /** The plugin type (built-in, or from `pluginSources`). */
  type: z3.string().min(1),
  /** This instance's name; defaults to the type. Unique within its chain. */
  name: z3.string().regex(INSTANCE_NAME).optional(),
  options: z3.unknown().optional(),
  /** Budget for each hook call of this instance. */
  timeoutMs: z3.number().int().positive().max(6e4).default(200),
  /** On a throw or timeout, skip this plugin instead of failing the request with a 500. */
  failOpen: z3.boolean().default(false)
}).strict();
var ExtProcTlsSchema = z3.object({
  /** The ext-proc's server certificate (chain) and key. */
  cert: z3.string().min(1),
  key: z3.string().min(1),
  /** The CA that signs the client certificates the ext-proc accepts (Envoy's). */
  clientCa: z3.string().min(1),
  /** What Envoy presents and trusts on its connections to the ext-proc. */
  envoy: z3.object({
    cert: z3.string().min(1),
    key: z3.string().min(1),
    /** The CA that signs the ext-proc's certificate. */
    serverCa: z3.string().min(1),
    /** SNI and the name the ext-proc's certificate must carry; by default the host Envoy connects to. */
    serverName: z3.string().min(1).optional()
  }).strict()
}).strict();
var HealthCheckSchema = z3.object({
  /** Defaults per protocol: V2 `/v2/health/ready`, OpenAI `/health`, TF Serving the model status URL. */
  path: z3.string().startsWith("/").optional(),
  intervalMs: z3.number().int().positive().default(5e3),
  timeoutMs: z3.number().int().positive().default(1e3),
  unhealthyThreshold: z3.number().int().positive().default(2),
  healthyThreshold: z3.number().int().positive().default(1)
}).strict();
var VersionSchema = z3.object({
  endpoints: z3.array(Endpoint).min(1),
  /** Whole-request timeout; 0 disables it (long streams). */
  timeoutMs: z3.number().int().min(0).default(3e4),
  healthCheck: HealthCheckSchema.prefault({}),
  /** Longest silence on a request or response stream (route `idle_timeout`); 0 disables. The streaming-safe overall bound. */
  idleTimeoutMs: z3.number().int().min(0).optional(),
  loadBalancing: LoadBalancingSchema.prefault({}),
  retries: RetriesSchema.prefault({}),
  outlierDetection: OutlierDetectionSchema.prefault({}),
  /** Circuit breakers: beyond these, a fast JSON 503 instead of a queue. */
  limits: LimitsSchema.prefault({})
}).strict();
var LabelName = z3.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names are letters, digits, ".", "_" and "-"');
var StickyKeySchema = z3.union([
  z3.object({ header: z3.string().regex(/^[A-Za-z0-9-]+$/, "a header name").toLowerCase() }).strict(),
  z3.object({ consumer: z3.literal(true) }).strict()
]);
var TrafficSchema = z3.object({
  /** Relative weights of versions for requests that name no version. */
  weights: z3.record(VersionName, z3.number().min(0)).optional(),
  /** Requests with the same key land on the same version while its bucket keeps its version. */
  stickyKey: StickyKeySchema.optional(),
  /** Mirror a share of the split's requests to this version; its answers are discarded. */
  shadow: z3.object({ version: VersionName, percent: z3.number().min(0).max(100).default(100) }).strict().optional(),
  /** Serves a request when its chosen version has no healthy endpoint, or fails with a connection error or 5xx. */
  fallback: VersionName.optional(),
  /** Experiment name, echoed as `x-gateway-experiment` on requests the split assigned. */
  experiment: LabelName.optional(),
  /** Variant names per version (`{ v1: control, v2: treatment }`), echoed as `x-gateway-variant`; default the version. */
  variants: z3.record(VersionName, LabelName).optional()
}).strict();
var ModelSchema = z3.object({
  protocol: z3.enum(["openai", "kserve-v2", "tfserving"]),
  versions: z3.record(VersionName, VersionSchema),
  aliases: z3.record(VersionName, VersionName).default({}),
  /** Version used when no weights are set; defaults to the first listed. */
  defaultVersion: VersionName.optional(),
  traffic: TrafficSchema.optional(),
  /** This model's chain, run after the global chain once the model is known. */
  plugins: z3.array(PluginInstanceSchema).default([]),
  /**
   * With the ext-proc unreachable, pass this model's requests through unprocessed (no
   * plugins: no auth, no validation), routed by path (OpenAI: the path and the body's exact model
   * name, read by Envoy) to the default version; default: the global envoy.failureModeAllow.
   */
  failOpen: z3.boolean().optional()
}).strict().superRefine((model, ctx) => {
  const versions = Object.keys(model.versions);
  if (versions.length === 0) ctx.addIssue({ code: "custom", path: ["versions"], message: "at least one version is required" });
  for (const [alias, target2] of Object.entries(model.aliases)) {
    if (!(target2 in model.versions)) {
      ctx.addIssue({ code: "custom", path: ["aliases", alias], message: `alias points to unknown version "${target2}"` });
    }
    if (alias in model.versions) {
      ctx.addIssue({ code: "custom", path: ["aliases", alias], message: `alias "${alias}" shadows a version of the same name` });
    }
  }
  if (model.defaultVersion && !(model.defaultVersion in model.versions)) {
    ctx.addIssue({ code: "custom", path: ["defaultVersion"], message: `unknown version "${model.defaultVersion}"` });
  }
  const weights = model.traffic?.weights;
  if (weights) {
    for (const v of Object.keys(weights)) {
      if (!(v in model.versions)) ctx.addIssue({ code: "custom", path: ["traffic", "weights", v], message: `unknown version "${v}"` });
    }
    if (Object.values(weights).reduce((a, b) => a + b, 0) <= 0) {
      ctx.addIssue({ code: "custom", path: ["traffic", "weights"], message: "weights must add up to more than 0" });
    }
  }
  const traffic = model.traffic;
  const known = (v, path3) => {
    if (v !== void 0 && !(v in model.versions)) ctx.addIssue({ code: "custom", path: ["traffic", ...path3], message: `unknown version "${v}"` });
  };
  known(traffic?.shadow?.version, ["shadow", "version"]);
  known(traffic?.fallback, ["fallback"]);
  for (const v of Object.keys(traffic?.variants ?? {})) known(v, ["variants", v]);
});
var GatewayConfigSchema = z3.object({
  envoy: z3.object({
    listener: z3.object({ host: Host.default("127.0.0.1"), port: Port.default(8080) }).strict().prefault({}),
    admin: z3.object({ host: Host.default("127.0.0.1"), port: Port.default(9901) }).strict().prefault({}),
    /** Largest request body accepted; Envoy answers 413 above it. Also sizes Envoy's buffers and gRPC's limit. */
    maxRequestBytes: z3.number().int().positive().max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** How long Envoy waits for each ext_proc answer. */
    messageTimeoutMs: z3.number().int().positive().default(1e3),
    /** Fail-open: with the ext-proc unreachable, pass requests through unprocessed. */
    failureModeAllow: z3.boolean().default(false),
    /** Address Envoy uses to reach the ext-proc (a service name under docker compose). */
    extProcAddress: z3.string().optional(),
    /** Envoy's gRPC health checks of the ext-proc replicas. */
    extProcHealthCheck: ExtProcHealthCheckSchema.prefault({}),
    /** Responses compressed by Envoy (gzip, br) for clients that accept it; request bodies are always decompressed. */
    compression: z3.object({
      responses: z3.boolean().default(true),
      /** Smaller responses are sent as they are (compressing them costs more than it saves). */
      minResponseBytes: z3.number().int().min(0).default(1024)
    }).strict().prefault({})
  }).strict().prefault({}),
  extProc: z3.object({
    /** The gRPC port binds loopback by default: whoever reaches it steers routing (docs/security.md). */
    host: Host.default("127.0.0.1"),
    port: Port.default(50051),
    /** Serve gRPC on this Unix socket instead of host:port (the sidecar shape; Envoy connects through a `pipe` address). */
    socket: z3.string().min(1).optional(),
    /** mTLS on the gRPC port (docs/security.md): the ext-proc's certificate and the CA of Envoy's, and Envoy's side. */
    tls: ExtProcTlsSchema.optional(),
    /** `h2`: the gateway's own gRPC server on its own HTTP/2 framing over node:net (the leanest); `http2`: the same on node:http2; `grpc-js`: @grpc/grpc-js, the reference. Env GATEWAY_EXT_PROC_TRANSPORT overrides. */
    transport: z3.enum(TRANSPORTS).default("h2"),
    /**
     * Processes serving the gRPC port (node:cluster); `auto`: one per core this process may use.
     * Default 1: in-memory plugin state (consumer-limits without Redis) is per process.
     */
    workers: z3.union([z3.number().int().positive().max(256), z3.literal("auto")]).optional(),
    /** HTTP port for /healthz, /readyz and /metrics. */
    http: z3.object({ host: Host.default("127.0.0.1"), port: Port.default(9464) }).strict().prefault({}),
    /** In-flight streams get this long to finish on SIGTERM. */
    shutdownGraceMs: z3.number().int().positive().default(1e4),
    /**
     * On SIGTERM, report NOT_SERVING and keep serving this long before refusing new streams,
     * so Envoy's health checks move traffic away first. Keep above Envoy's detection time
     * (envoy.extProcHealthCheck interval × unhealthyThreshold + timeout).
     */
    shutdownDelayMs: z3.number().int().min(0).default(2e3),
    /** Bounds on each ext_proc stream and on all of them together (docs/security.md, "Bounds"). */
    limits: z3.object({
      /** Header entries per headers message; above it requests get a 431, responses a 502, in the client's protocol. */
      maxHeaders: z3.number().int().min(8).max(1e4).default(DEFAULT_STREAM_LIMITS.maxHeaders),
      /** Bytes of header names and values per headers message (same answers). */
      maxHeaderBytes: z3.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_STREAM_LIMITS.maxHeaderBytes),
      /** Characters of a streamed SSE response held while its event is incomplete; beyond, the stream is cut. */
      maxSseEventBytes: z3.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_STREAM_LIMITS.maxSseEventBytes),
      /** A stream with no message from Envoy for this long is cut (0: never). Keep above the longest silence of a model's stream. */
      streamIdleTimeoutMs: z3.number().int().min(0).default(3e5),
      /** Streams in flight in this process; beyond, new streams are refused with UNAVAILABLE (Envoy retries another replica). */
      maxStreams: z3.number().int().min(1).default(1e4)
    }).strict().prefault({})
  }).strict().prefault({}),
  logging: z3.object({
    level: LogLevel.default("info"),
    /** One structured line per request (level info). */
    accessLog: z3.boolean().default(true)
  }).strict().prefault({}),
  /** Off unless `otlp` is set; see docs/observability.md. */
  tracing: z3.object({
    otlp: z3.object({
      /** OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
      endpoint: z3.url({ protocol: /^https?$/ }),
      /** Sent with each export (e.g. a collector's API key); never logged. */
      headers: z3.record(z3.string(), z3.string()).default({}),
      serviceName: z3.string().min(1).default("inference-gateway"),
      exportIntervalMs: z3.number().int().positive().default(1e3),
      timeoutMs: z3.number().int().positive().default(5e3)
    }).strict().optional(),
    /** Share of new traces recorded; a client's sampled flag is followed as it is. */
    sampleRatio: z3.number().min(0).max(1).default(1)
  }).strict().prefault({}),
  /** The operator's console on the ext-proc's HTTP port (docs/observability.md#console). */
  console: ConsoleSchema,
  /** Directories or npm packages that provide extra plugin types. */
  pluginSources: z3.array(z3.string().min(1)).default([]),
  /** The global chain, run for every request, in order. */
  plugins: z3.array(PluginInstanceSchema).default([]),
  models: z3.record(ModelName, ModelSchema)
}).strict();
function clusterName(model, version) {
  return `${model}@${version}`;
}
function fallbackClusterName(model, version, fallback) {
  return `${clusterName(model, version)}~${fallback}`;
}

// ext-proc/config/load.ts
var ConfigError = class extends Error {
  name = "ConfigError";
};
function formatPath(path3) {
  let out = "";
  for (const part of path3) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}
function formatIssues(issues, prefix = "") {
  return issues.map((issue) => {
    const path3 = formatPath(issue.path);
    const where = prefix ? path3 === "(root)" ? prefix : `${prefix}.${path3}` : path3;
    return `${where}: ${issue.message}`;
  }).join("\n");
}
function parseConfigText(text, source = "config") {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
  }
  const result = GatewayConfigSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!result.success) throw new ConfigError(`${source}: invalid gateway config:
${formatIssues(result.error.issues)}`);
  return result.data;
}

// ext-proc/pipeline/body.ts
var utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
var MAX_JSON_DEPTH = 128;
function nestsDeeperThan(bytes2, limit) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes2.length; i++) {
    const c = bytes2[i];
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 || c === 123) {
      if (++depth > limit) return true;
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  return false;
}
var BodyBuffer = class {
  /** `direction` decides who is at fault for a bad body: the client (400) or the model server (502). */
  constructor(body2, direction) {
    this.direction = direction;
    this.bytes = body2;
  }
  direction;
  bytes;
  parsed;
  dirtyJson = false;
  replaced = false;
  get body() {
    if (this.dirtyJson) {
      this.bytes = Buffer.from(JSON.stringify(this.parsed?.value));
      this.dirtyJson = false;
    }
    return this.bytes;
  }
  json(schema) {
    if (!this.parsed) this.parsed = { value: this.parse() };
    if (!schema) return this.parsed.value;
    const result = schema.safeParse(this.parsed.value);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const param = issue ? formatPath(issue.path) : void 0;
    const message = issue ? `${param === "(root)" ? "body" : param}: ${issue.message}` : "invalid body";
    throw this.fault("invalid_request", message, param === "(root)" ? void 0 : param);
  }
  replaceBody(body2) {
    this.bytes = typeof body2 === "string" ? Buffer.from(body2) : body2;
    this.parsed = void 0;
    this.dirtyJson = false;
    this.replaced = true;
  }
  replaceJson(value) {
    this.parsed = { value };
    this.dirtyJson = true;
    this.replaced = true;
  }
  parse() {
    let text;
    try {
      text = utf8.decode(this.bytes);
    } catch {
      throw this.fault("invalid_json", "body is not valid UTF-8");
    }
    if (text.trim() === "") throw this.fault("invalid_json", "body is empty; a JSON object is required");
    if (nestsDeeperThan(this.bytes, MAX_JSON_DEPTH)) {
      throw this.fault("invalid_json", `body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw this.fault("invalid_json", `body is not valid JSON: ${err.message}`);
    }
  }
  fault(code2, message, param) {
    if (this.direction === "request") return gatewayError(code2, message, param === void 0 ? {} : { param });
    return gatewayError("bad_upstream_response", `model server response: ${message}`);
  }
};

// ext-proc/pipeline/chain.ts
function appliesTo(instance, protocol) {
  return !instance.protocols || protocol !== void 0 && instance.protocols.has(protocol);
}
function anyHas(chain, hook) {
  return chain.some((p) => p.hooks[hook] !== void 0);
}

// ext-proc/pipeline/body-modes.ts
var NONE = /* @__PURE__ */ new Set();
function needsRequestBody(chain, request, route, vars, host) {
  let needed = false;
  let skipped;
  for (const p of chain) {
    if (!p.hooks.requestBody) continue;
    const need = p.hooks.needs?.requestBody ?? true;
    if (askNeed(host, p, "requestBody", () => typeof need === "function" ? need(request, route, vars) : need)) needed = true;
    else (skipped ??= /* @__PURE__ */ new Set()).add(p);
  }
  return { needed, skipped: skipped ?? NONE };
}
function chooseResponseBodyMode(chain, response, request, vars, host) {
  let skipped;
  const wanted = chain.filter((p) => {
    if (!p.hooks.responseBody && !p.hooks.responseChunk && !p.hooks.responseEvent) return false;
    const need = p.hooks.needs?.responseBody ?? true;
    if (askNeed(host, p, "responseBody", () => typeof need === "function" ? need(response, request, vars) : need)) return true;
    (skipped ??= /* @__PURE__ */ new Set()).add(p);
    return false;
  });
  return { mode: bodyModeFor(wanted, response.streaming), skipped: skipped ?? NONE };
}
function bodyModeFor(wanted, streaming) {
  const chunks = anyHas(wanted, "responseChunk");
  if (streaming) return chunks || anyHas(wanted, "responseEvent") ? 1 /* STREAMED */ : 0 /* NONE */;
  if (anyHas(wanted, "responseBody")) return 2 /* BUFFERED */;
  return chunks ? 1 /* STREAMED */ : 0 /* NONE */;
}
function askNeed(host, plugin, phase, ask) {
  try {
    return ask();
  } catch (err) {
    host.log.error({ plugin: plugin.name, hook: `needs.${phase}`, err }, "plugin needs() failed; assuming the phase is needed");
    return true;
  }
}

// ext-proc/pipeline/hooks.ts
import { randomBytes } from "node:crypto";

// ext-proc/pipeline/respond.ts
var errorCodes = /* @__PURE__ */ new WeakMap();
function isRespond(value) {
  return typeof value === "object" && value !== null && value.kind === "respond";
}
function respondFrom(init) {
  const headers2 = { ...init.headers };
  let body2;
  if (init.json !== void 0) {
    body2 = Buffer.from(JSON.stringify(init.json));
    headers2["content-type"] ??= "application/json";
  } else {
    body2 = typeof init.body === "string" ? Buffer.from(init.body) : init.body ?? Buffer.alloc(0);
  }
  return Object.freeze({ kind: "respond", status: init.status, headers: headers2, body: body2 });
}
function failResponse(request, status, message, details = {}) {
  const body2 = errorBody(request?.protocol, status, message, details);
  const respond = respondFrom({
    status,
    json: body2,
    headers: { ...details.headers, "x-request-id": request?.id ?? "" }
  });
  if (details.code !== void 0) errorCodes.set(respond, details.code);
  return respond;
}
function stopResponse(stop, outcome) {
  outcome.status = stop.respond.status;
  outcome.answeredBy = stop.by;
  const code2 = stop.code ?? errorCodes.get(stop.respond);
  if (code2) outcome.errorCode = code2;
  else if (stop.respond.status >= 400) outcome.errorCode = `http_${stop.respond.status}`;
  return immediate(stop.respond, `${GATEWAY_REPLY_DETAILS_PREFIX}${stop.by}`);
}

// ext-proc/pipeline/hooks.ts
async function invokeHook(host, plugin, hook, ctx, streamed = false) {
  const fn = plugin.hooks[hook];
  if (!fn) return void 0;
  host.runningPlugin = plugin;
  host.runningHook = hook;
  let timer;
  try {
    let result = fn.call(plugin.hooks, ctx);
    if (result instanceof Promise) {
      result = await Promise.race([
        result,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(gatewayError("plugin_timeout", `${plugin.name}.${hook} timed out after ${plugin.timeoutMs} ms`)),
            plugin.timeoutMs
          );
        })
      ]);
    }
    if (!isRespond(result)) return void 0;
    if (streamed) {
      host.log.warn({ plugin: plugin.name, hook }, "a streamed-body hook returned a response; ignored (the status is already sent)");
      return void 0;
    }
    return { respond: result, by: plugin.name };
  } catch (err) {
    return pluginFailed(host, plugin, hook, err, streamed);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
function pluginFailed(host, plugin, hook, err, streamed) {
  if (PluginError.is(err) && err.expose && !streamed) {
    return {
      respond: failResponse(host.request, err.status, err.message, { code: err.code, param: err.param, headers: err.headers }),
      by: plugin.name,
      code: err.code
    };
  }
  const code2 = PluginError.is(err) ? err.code : GatewayErrorCodes.pluginError;
  const errorId = randomBytes(6).toString("hex");
  const failOpen = plugin.failOpen || streamed;
  host.observer.pluginError?.(plugin.name, hook, code2 === GatewayErrorCodes.pluginTimeout ? "timeout" : "error");
  host.log.error(
    { plugin: plugin.name, type: plugin.type, hook, errorId, code: code2, failOpen, err },
    streamed ? "plugin failed on a streamed body; chunk passed on unchanged" : failOpen ? "plugin failed; skipped (fail-open)" : "plugin failed; request answered 500"
  );
  if (failOpen) return void 0;
  return {
    respond: failResponse(host.request, 500, `Internal error in the gateway (error id ${errorId})`, {
      code: code2,
      headers: { "x-gateway-error-id": errorId }
    }),
    by: plugin.name,
    code: code2
  };
}
async function runEndHooks(host, chain, endCtx) {
  for (const plugin of chain) {
    const hook = plugin.hooks.end;
    if (!hook) continue;
    host.runningPlugin = plugin;
    host.runningHook = "end";
    try {
      const result = hook.call(plugin.hooks, endCtx);
      if (result instanceof Promise) await withTimeout(result, plugin.timeoutMs);
    } catch (err) {
      host.observer.pluginError?.(plugin.name, "end", err instanceof HookTimeout ? "timeout" : "error");
      host.log.error({ plugin: plugin.name, hook: "end", err }, "end hook failed");
    }
  }
}
var HookTimeout = class extends Error {
};
async function withTimeout(p, ms) {
  let timer;
  try {
    return await Promise.race([
      p,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new HookTimeout(`timed out after ${ms} ms`)), ms);
      })
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

// ext-proc/pipeline/chain-runner.ts
var ChainRunner = class {
  constructor(runtime2, request, observer2, logOf, requestHeadersContext) {
    this.runtime = runtime2;
    this.request = request;
    this.observer = observer2;
    this.logOf = logOf;
    this.requestHeadersContext = requestHeadersContext;
    this.chain = runtime2.requestChain(request.protocol);
  }
  runtime;
  request;
  observer;
  logOf;
  requestHeadersContext;
  runningPlugin;
  runningHook;
  chain;
  joinedModel;
  lateJoiners = [];
  phaseReached = "requestHeaders";
  skipRequestBody = /* @__PURE__ */ new Set();
  skipResponseBody = /* @__PURE__ */ new Set();
  closed = false;
  get log() {
    return this.logOf();
  }
  /** The model whose chain joined; it cannot change any more. */
  get model() {
    return this.joinedModel;
  }
  get protocol() {
    return this.request.protocol;
  }
  /**
   * Calls `hook` on each plugin of the chain, in order, until one stops the request.
   * `streamed` hooks run after the status went out: they cannot stop anything, and a failure
   * is logged and skipped so the rest of the chain still sees the chunk.
   */
  async run(hook, makeCtx, opts = {}) {
    let shared2;
    this.phaseReached = hook;
    const skip = hook === "requestBody" ? this.skipRequestBody : hook.startsWith("response") && hook !== "responseHeaders" ? this.skipResponseBody : void 0;
    for (let i = 0; i < this.chain.length; i++) {
      if (this.closed) break;
      const plugin = this.chain[i];
      if (this.lateJoiners.includes(plugin)) {
        this.lateJoiners = this.lateJoiners.filter((p) => p !== plugin);
        if (plugin.hooks.requestHeaders && hook !== "requestHeaders") {
          const stop2 = await invokeHook(this, plugin, "requestHeaders", this.requestHeadersContext());
          if (stop2) return stop2;
        }
      }
      if (!plugin.hooks[hook] || skip?.has(plugin)) continue;
      const ctx = opts.streamed ? makeCtx() : shared2 ??= makeCtx();
      const stop = await invokeHook(this, plugin, hook, ctx, opts.streamed ?? false);
      if (stop && !opts.streamed) return stop;
      if (opts.until?.()) break;
    }
    return void 0;
  }
  /** The stream ended: hooks of the phase still running are not started any more (end hooks still run). */
  close() {
    this.closed = true;
  }
  /** Once the model is known its own chain runs after the global one. */
  joinModel(model) {
    if (this.joinedModel !== void 0) return;
    this.joinedModel = model;
    const extra = (this.runtime.modelChains.get(model) ?? []).filter((p) => appliesTo(p, this.request.protocol));
    if (extra.length === 0) return;
    this.chain = [...this.chain, ...extra];
    if (this.phaseReached !== "requestHeaders") this.lateJoiners = extra;
  }
  /** Whether a plugin needs this request's body; the ones whose `needs` said no are skipped. */
  wantsRequestBody(route, vars) {
    const { needed, skipped } = needsRequestBody(this.chain, this.request, route, vars, this);
    this.skipRequestBody = skipped;
    return needed;
  }
  /** The body mode the response hooks still wanted need; the others are skipped. */
  responseBodyMode(response, vars) {
    const { mode: mode2, skipped } = chooseResponseBodyMode(this.chain, response, this.request, vars, this);
    this.skipResponseBody = skipped;
    return mode2;
  }
  /** Whether SSE events need parsing: a `responseEvent` hook will run. */
  wantsEvents() {
    return this.chain.some((p) => p.hooks.responseEvent && !this.skipResponseBody.has(p));
  }
  /** Every `end` hook once, in order; never throws. */
  end(endCtx) {
    return runEndHooks(this, this.chain, endCtx);
  }
};

// ext-proc/pipeline/context.ts
function baseContext(src, phase) {
  const { state } = src;
  return {
    phase,
    get log() {
      return pluginLog(src);
    },
    request: state.request,
    get signal() {
      return src.signal;
    },
    route: state.route,
    setRoute: (hints) => src.setRoute(hints),
    vars: state.vars,
    models: src.runtime.catalog,
    respond: respondFrom,
    fail: (status, message, details) => src.fail(status, message, details)
  };
}
function headersContext(src, phase, headers2) {
  return Object.assign(baseContext(src, phase), { headers: headers2 });
}
function withBody(ctx, body2) {
  Object.defineProperty(ctx, "body", { get: () => body2.body, enumerable: true });
  return Object.assign(ctx, {
    json: (schema) => body2.json(schema),
    replaceBody: (b) => body2.replaceBody(b),
    replaceJson: (v) => body2.replaceJson(v)
  });
}
function pluginLog(src) {
  const plugin = src.runner.runningPlugin;
  if (!plugin) return src.runner.log;
  return src.rootLog.child({ reqId: src.state.request.id, plugin: plugin.name, hook: src.runner.runningHook });
}

// ext-proc/routing/hints.ts
function resolveVersion(model, name) {
  const version = model.aliases[name] ?? name;
  return model.versions.includes(version) ? version : void 0;
}
function versionNotFound(model, name) {
  return gatewayError("version_not_found", `Model '${model}' has no version or alias '${name}'`);
}
function applyRouteHints(route, hints, catalog, joinedModel, protocol) {
  if (hints.model !== void 0 && hints.model !== route.model) {
    if (joinedModel !== void 0) {
      throw gatewayError("route_conflict", `model already resolved to "${joinedModel}"`);
    }
    const model = catalog.get(hints.model);
    if (!model) {
      throw gatewayError("model_not_found", `The model '${hints.model}' does not exist`, {
        param: protocol === "openai" ? "model" : void 0
      });
    }
    route.model = hints.model;
  }
  if (hints.version !== void 0) {
    const modelName = route.model;
    const model = modelName === void 0 ? void 0 : catalog.get(modelName);
    if (!model) throw gatewayError("route_incomplete", "a version was set before the model");
    const version = resolveVersion(model, hints.version);
    if (version === void 0) {
      throw versionNotFound(model.name, hints.version);
    }
    route.version = version;
    if (model.aliases[hints.version] !== void 0) route.reason = hints.reason ?? `alias:${hints.version}`;
  }
  if (hints.reason !== void 0 && route.reason === void 0) route.reason = hints.reason;
  if (hints.variant !== void 0) route.variant = hints.variant;
  if (hints.experiment !== void 0) route.experiment = hints.experiment;
  if (hints.shadow === null) delete route.shadow;
  else if (hints.shadow !== void 0) route.shadow = knownVersion(route, catalog, hints.shadow, "shadow");
  if (hints.fallback === null) delete route.fallback;
  else if (hints.fallback !== void 0) route.fallback = knownVersion(route, catalog, hints.fallback, "fallback");
}
function knownVersion(route, catalog, version, what) {
  const model = route.model === void 0 ? void 0 : catalog.get(route.model);
  if (!model?.versions.includes(version)) {
    throw gatewayError("route_invalid", `${what} version "${version}" is not a version of the model`);
  }
  return version;
}

// ext-proc/routing/traffic.ts
import { createHash as createHash2 } from "node:crypto";
function bucketOf(salt, key) {
  const digest = createHash2("sha256").update(salt).update("\0").update(key).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
function versionAt(order, weights, point) {
  let total = 0;
  for (const v of order) total += positive(weights[v]);
  if (total <= 0) return void 0;
  const target2 = point * total;
  let edge = 0;
  let last;
  for (const version of order) {
    const weight = positive(weights[version]);
    if (weight === 0) continue;
    edge += weight;
    last = version;
    if (target2 < edge) return version;
  }
  return last;
}
var positive = (w) => w !== void 0 && w > 0 ? w : 0;
function stickyValue(model, headers2, vars) {
  const sticky = model.traffic.stickyKey;
  if (!sticky) return void 0;
  const value = "header" in sticky ? headers2.get(sticky.header) : vars.consumer?.id;
  return value === void 0 || value === "" ? void 0 : value;
}
function assignVersion(model, sticky, random = Math.random) {
  const traffic = model.traffic;
  const weights = traffic.weights;
  const point = sticky !== void 0 ? bucketOf(traffic.experiment ?? model.name, sticky) : random();
  const picked = weights ? versionAt(model.versions, weights, point) : void 0;
  const out = picked === void 0 ? { version: model.defaultVersion, reason: "default" } : { version: picked, reason: sticky !== void 0 ? "sticky" : "split", variant: traffic.variants?.[picked] ?? picked, experiment: traffic.experiment };
  const { shadow, fallback } = traffic;
  if (shadow && shadow.version !== out.version && random() * 100 < shadow.percent) out.shadow = shadow.version;
  if (fallback !== void 0 && fallback !== out.version) out.fallback = fallback;
  return out;
}
function placeByPolicy(model, headers2, vars) {
  return assignVersion(model, stickyValue(model, headers2, vars));
}

// ext-proc/routing/upstream.ts
function finishRouting(route, request, vars, runtime2, headers2) {
  const model = route.model;
  if (model === void 0) return false;
  if (route.version === void 0) {
    const info = runtime2.catalog.get(model);
    if (info !== void 0) applyRouteHints(route, placeByPolicy(info, request.headers, vars), runtime2.catalog, model, request.protocol);
  }
  const { version, fallback, shadow } = route;
  const cluster = version === void 0 ? void 0 : runtime2.cluster(model, version, fallback);
  if (!cluster || version === void 0) return false;
  headers2.set(CLUSTER_HEADER, cluster);
  const mirror = shadow === void 0 || shadow === version ? void 0 : runtime2.cluster(model, shadow);
  if (mirror) headers2.set(SHADOW_HEADER, mirror);
  return true;
}
function noteServedVersion(route, responseHeaders, served) {
  if (served === void 0) return;
  responseHeaders.remove(UPSTREAM_VERSION_HEADER);
  const { model, version } = route;
  if (model === void 0 || version === void 0 || served === version) return;
  if (served !== route.fallback) return;
  route.fallbackFrom = version;
  route.version = served;
}

// ext-proc/pipeline/request-guard.ts
var StreamLimitError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "StreamLimitError";
  }
};
function headersOverLimit(msg2, limits) {
  const list = msg2.headers?.headers ?? [];
  if (list.length > limits.maxHeaders) return `${list.length} headers (at most ${limits.maxHeaders})`;
  let bytes2 = 0;
  for (const h of list) bytes2 += h.key.length + (h.rawValue && h.rawValue.length > 0 ? h.rawValue.length : h.value.length);
  if (bytes2 > limits.maxHeaderBytes) return `${bytes2} bytes of headers (at most ${limits.maxHeaderBytes})`;
  return void 0;
}
function malformedEscapes(pathname) {
  if (!pathname.includes("%")) return false;
  try {
    decodeURIComponent(pathname);
    return false;
  } catch {
    return true;
  }
}
function refuseRequestHeaders(msg2, pathname, limits) {
  const over = headersOverLimit(msg2, limits);
  if (over !== void 0) return { status: 431, code: "headers_too_large", message: `The request headers are too large: ${over}` };
  if (malformedEscapes(pathname)) return { status: 400, code: "invalid_path", message: "The request path has a malformed percent-escape" };
  return void 0;
}
var REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
function usableRequestId(value) {
  return value !== void 0 && REQUEST_ID.test(value) ? value : void 0;
}

// ext-proc/pipeline/sse.ts
var EVENT_END = /\r\n\r\n|\n\n|\r\r/g;
var SseParser = class {
  /** `maxPending`: characters held for an incomplete event; a stream that goes past it is cut. */
  constructor(maxPending = Number.POSITIVE_INFINITY) {
    this.maxPending = maxPending;
  }
  maxPending;
  pending = "";
  /** How much of `pending` has been searched for an event end already. */
  scanned = 0;
  decoder = new TextDecoder("utf-8");
  feed(chunk) {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const events = [];
    let start = 0;
    EVENT_END.lastIndex = Math.max(0, this.scanned - 3);
    let m;
    while ((m = EVENT_END.exec(this.pending)) !== null) {
      const end = m.index + m[0].length;
      const raw = this.pending.slice(start, end);
      events.push({ raw, event: parseEvent(this.pending.slice(start, m.index)) });
      start = end;
    }
    this.pending = this.pending.slice(start);
    this.scanned = this.pending.length;
    if (this.pending.length > this.maxPending) {
      this.pending = "";
      this.scanned = 0;
      throw new StreamLimitError(`an SSE event grew past ${this.maxPending} characters without ending`);
    }
    return events;
  }
  /** Whatever is left at end of stream (an unterminated last event). */
  flush() {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    this.scanned = 0;
    return rest;
  }
};
function parseEvent(block) {
  const event = { data: "" };
  const data = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field2 = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field2 === "data") data.push(value);
    else if (field2 === "event") event.event = value;
    else if (field2 === "id") event.id = value;
  }
  event.data = data.join("\n");
  return event;
}
function serializeEvent(event) {
  let out = "";
  if (event.event !== void 0) out += `event: ${event.event}
`;
  if (event.id !== void 0) out += `id: ${event.id}
`;
  for (const line of event.data.split("\n")) out += `data: ${line}
`;
  return `${out}
`;
}

// ext-proc/pipeline/state.ts
var RequestState = class {
  constructor(request, requestHeaders, outcome) {
    this.request = request;
    this.requestHeaders = requestHeaders;
    this.outcome = outcome;
  }
  request;
  requestHeaders;
  outcome;
  route = {};
  vars = {};
  /** Set at response headers; `Responded` is this record once they arrived. */
  response;
  responseHeaders;
  /** Records the upstream's response headers; from here on the response is known. */
  responded(response, headers2) {
    this.response = response;
    this.responseHeaders = headers2;
    this.outcome.status = response.status;
    return this;
  }
};

// ext-proc/pipeline/streamed.ts
async function transformStreamedChunk(host, response, sse, msg2) {
  const replacedChunk = await runChunkHooks(host, response, msg2.body, msg2.endOfStream);
  const chunk = replacedChunk ?? msg2.body;
  if (!sse) return replacedChunk;
  let out = "";
  for (const { event, raw } of sse.feed(chunk)) {
    const next = await runEventHooks(host, response, event);
    if (next === void 0) out += raw;
    else if (next !== null) out += serializeEvent(next);
  }
  if (msg2.endOfStream) out += sse.flush();
  const input = chunk.toString("utf8");
  if (replacedChunk === void 0 && out === input) return void 0;
  return Buffer.from(out);
}
async function runChunkHooks(host, response, original, endOfStream) {
  let chunk = original;
  let replaced = false;
  await host.runner.run(
    "responseChunk",
    () => Object.assign(baseContext(host, "responseChunk"), {
      response,
      chunk,
      endOfStream,
      replaceChunk(next) {
        chunk = typeof next === "string" ? Buffer.from(next) : next;
        replaced = true;
      }
    }),
    { streamed: true }
  );
  return replaced ? chunk : void 0;
}
async function runEventHooks(host, response, original) {
  let current = original;
  let changed = false;
  const done = original.data === "[DONE]";
  await host.runner.run(
    "responseEvent",
    () => {
      const event = current;
      return Object.assign(baseContext(host, "responseEvent"), {
        response,
        event,
        done,
        json() {
          if (event.data === "[DONE]") return void 0;
          try {
            return JSON.parse(event.data);
          } catch {
            return void 0;
          }
        },
        replaceEvent(next) {
          current = next === null ? null : { ...next };
          changed = true;
        }
      });
    },
    // A dropped event is gone: later plugins have nothing to look at.
    { streamed: true, until: () => current === null }
  );
  return changed ? current : void 0;
}

// ext-proc/stream.ts
var StreamProcessor = class {
  constructor(runtime2, rootLog, observer2 = {}, limits = DEFAULT_STREAM_LIMITS) {
    this.runtime = runtime2;
    this.rootLog = rootLog;
    this.observer = observer2;
    this.limits = limits;
  }
  runtime;
  rootLog;
  observer;
  limits;
  state;
  responded;
  runner;
  source;
  outcome = { cancelled: false };
  responseBodyMode = 0 /* NONE */;
  sse;
  /** Created on first use: most requests never look at `ctx.signal`, and abort() costs a DOMException. */
  abortController;
  startedAt = performance.now();
  processingMs = 0;
  responseHeadersAt;
  firstChunkAt;
  ended = false;
  completed = false;
  logger;
  order = new PhaseOrder();
  /** The message being handled, if any: `end` waits for it. */
  running;
  /** The exchange reached its last message (or the gateway answered it itself). */
  get complete() {
    return this.completed;
  }
  /** The stream's logger, tagged with the request id once the request headers arrived. */
  get log() {
    if (this.logger) return this.logger;
    if (!this.state) return this.rootLog;
    this.logger = this.rootLog.child({ reqId: this.state.request.id });
    return this.logger;
  }
  /**
   * Handles one message. The server calls it for one message at a time; `end` waits for the
   * one running, so no hook of this request runs after its `end` hooks.
   */
  handle(msg2) {
    const work = this.dispatch(msg2);
    this.running = work;
    return work;
  }
  async dispatch(msg2) {
    this.order.accept(msg2);
    const t02 = performance.now();
    const r = msg2.request;
    let out;
    let phase;
    switch (r?.$case) {
      case "requestHeaders":
        phase = "requestHeaders";
        out = await this.onRequestHeaders(r.value);
        break;
      case "requestBody":
        phase = "requestBody";
        out = await this.onRequestBody(this.expectRequest(), r.value);
        break;
      case "responseHeaders":
        phase = "responseHeaders";
        out = await this.onResponseHeaders(this.expectRequest(), r.value);
        break;
      case "responseBody":
        phase = "responseBody";
        out = await this.onResponseBody(this.expectResponse(), r.value);
        break;
      case "requestTrailers":
        out = { response: { $case: "requestTrailers", value: {} } };
        break;
      case "responseTrailers":
        out = { response: { $case: "responseTrailers", value: {} } };
        break;
      default:
        throw new Error("ProcessingRequest without a known phase");
    }
    this.order.answered(r.$case, out);
    const dt = performance.now() - t02;
    this.processingMs += dt;
    if (phase) this.observer.phase?.(phase, dt);
    return out;
  }
  expectRequest() {
    const { state, runner, source } = this;
    if (!state || !runner || !source) throw new Error("ext_proc message before the request headers");
    return { state, runner, src: source };
  }
  expectResponse() {
    const { responded, runner, source } = this;
    if (!responded || !runner || !source) throw new Error("response body before the response headers");
    return { state: responded, runner, src: source };
  }
  // ---- phases -------------------------------------------------------------------------------
  async onRequestHeaders(msg2) {
    const values2 = headersToMap(msg2);
    const headers2 = new HeaderSet(values2);
    for (const name of INTERNAL_REQUEST_HEADERS) if (values2.has(name)) headers2.remove(name);
    const path3 = values2.get(":path") ?? "/";
    const q = path3.indexOf("?");
    const pathname = q === -1 ? path3 : path3.slice(0, q);
    const catalog = this.runtime.catalog;
    const protocol = detectProtocol(pathname, (name) => catalog.get(name)?.protocol);
    const request = {
      id: usableRequestId(values2.get("x-request-id")) ?? randomUUID(),
      method: values2.get(":method") ?? "GET",
      path: path3,
      pathname,
      authority: values2.get(":authority") ?? "",
      hasBody: !msg2.endOfStream,
      headers: headers2,
      protocol,
      // Parsed once here: routing and every plugin read it instead of re-parsing the path.
      target: protocol === void 0 ? void 0 : parseTarget(protocol, pathname)
    };
    const state = new RequestState(request, headers2, this.outcome);
    this.state = state;
    const refusal = refuseRequestHeaders(msg2, pathname, this.limits);
    if (refusal) return this.refuse(state, refusal, "request headers refused");
    const src = this.contextSource(state);
    const runner = src.runner;
    if (this.rootLog.isLevelEnabled("debug")) {
      this.log.debug({ protocol: request.protocol, headers: loggableHeaders(values2) }, "request headers");
    }
    const stop = await runner.run("requestHeaders", () => headersContext(src, "requestHeaders", headers2));
    if (stop) return this.stop(stop);
    const wantsBody = !msg2.endOfStream && runner.wantsRequestBody(state.route, state.vars);
    const clearRouteCache = !wantsBody && finishRouting(state.route, state.request, state.vars, this.runtime, headers2);
    return {
      response: { $case: "requestHeaders", value: { response: common(takeChanges(headers2), { clearRouteCache }) } },
      // The filter's default is BUFFERED request bodies; skip that round trip when nobody reads the body.
      modeOverride: modeOverride(wantsBody ? FILTER_BODY_MODES.request : 0 /* NONE */, 0 /* NONE */)
    };
  }
  async onRequestBody({ state, runner, src }, msg2) {
    const headers2 = state.requestHeaders;
    const body2 = new BodyBuffer(msg2.body, "request");
    const stop = await runner.run("requestBody", () => withBody(headersContext(src, "requestBody", headers2), body2));
    if (stop) return this.stop(stop);
    const clearRouteCache = finishRouting(state.route, state.request, state.vars, this.runtime, headers2);
    let newBody;
    if (body2.replaced) {
      newBody = body2.body;
      headers2.set("content-length", String(newBody.length));
    }
    return { response: { $case: "requestBody", value: { response: common(takeChanges(headers2), { body: newBody, clearRouteCache }) } } };
  }
  async onResponseHeaders({ state, runner, src }, msg2) {
    this.responseHeadersAt = performance.now();
    const over = headersOverLimit(msg2, this.limits);
    if (over !== void 0) {
      return this.refuse(state, { status: 502, code: "bad_upstream_response", message: `The model server's response headers are too large: ${over}` }, "response headers refused");
    }
    const values2 = headersToMap(msg2);
    const headers2 = new HeaderSet(values2);
    noteServedVersion(state.route, headers2, values2.get(UPSTREAM_VERSION_HEADER));
    const response = {
      status: Number(values2.get(":status") ?? 0),
      headers: headers2,
      streaming: (values2.get("content-type") ?? "").includes("text/event-stream")
    };
    this.responded = state.responded(response, headers2);
    if (this.rootLog.isLevelEnabled("debug")) this.log.debug({ headers: loggableHeaders(values2) }, "response headers");
    const stop = await runner.run("responseHeaders", () => Object.assign(headersContext(src, "responseHeaders", headers2), { response }));
    if (stop) return this.stop(stop);
    if (!msg2.endOfStream) this.responseBodyMode = runner.responseBodyMode(response, state.vars);
    if (this.responseBodyMode === 0 /* NONE */) this.completed = true;
    if (this.responseBodyMode === 1 /* STREAMED */ && response.streaming && runner.wantsEvents()) this.sse = new SseParser(this.limits.maxSseEventBytes);
    return {
      response: { $case: "responseHeaders", value: { response: common(takeChanges(headers2)) } },
      modeOverride: this.responseBodyMode === 0 /* NONE */ ? void 0 : modeOverride(0 /* NONE */, this.responseBodyMode)
    };
  }
  async onResponseBody(at, msg2) {
    if (msg2.endOfStream) this.completed = true;
    if (this.responseBodyMode === 2 /* BUFFERED */) return this.onBufferedResponseBody(at, msg2);
    this.firstChunkAt ??= performance.now();
    const chunk = await transformStreamedChunk(at.src, at.state.response, this.sse, msg2);
    return { response: { $case: "responseBody", value: { response: common(/* @__PURE__ */ new Map(), { body: chunk }) } } };
  }
  async onBufferedResponseBody({ state, runner, src }, msg2) {
    const { response, responseHeaders: headers2 } = state;
    const body2 = new BodyBuffer(msg2.body, "response");
    const stop = await runner.run("responseBody", () => withBody(Object.assign(headersContext(src, "responseBody", headers2), { response }), body2));
    if (stop) return this.stop(stop);
    const chunk = await runChunkHooks(src, response, body2.body, true);
    let newBody;
    if (body2.replaced || chunk) {
      newBody = chunk ?? body2.body;
      headers2.set("content-length", String(newBody.length));
    }
    return { response: { $case: "responseBody", value: { response: common(takeChanges(headers2), { body: newBody }) } } };
  }
  /** The core's own refusal of hostile input: the client's protocol, a log line, counted as a rejection by `gateway`. */
  refuse(state, refusal, what) {
    this.log.warn({ status: refusal.status, code: refusal.code, reason: refusal.message }, what);
    return this.stop({ respond: failResponse(state.request, refusal.status, refusal.message, { code: refusal.code }), by: "gateway" });
  }
  stop(stop) {
    this.completed = true;
    return stopResponse(stop, this.outcome);
  }
  // ---- what contexts read -------------------------------------------------------------------
  /** The request's chain and the view its hook contexts read through, made once per request. */
  contextSource(state) {
    const runner = new ChainRunner(
      this.runtime,
      state.request,
      this.observer,
      () => this.log,
      () => headersContext(src, "requestHeaders", state.requestHeaders)
    );
    this.runner = runner;
    const self = this;
    const src = {
      state,
      runner,
      runtime: this.runtime,
      rootLog: this.rootLog,
      get signal() {
        return self.signal;
      },
      // `ctx.setRoute`: validate and record the hints, then let the model's chain join.
      setRoute: (hints) => {
        applyRouteHints(state.route, hints, this.runtime.catalog, runner.model, state.request.protocol);
        if (state.route.model !== void 0) runner.joinModel(state.route.model);
      },
      fail: (status, message, details) => failResponse(state.request, status, message, details)
    };
    this.source = src;
    return src;
  }
  get signal() {
    this.abortController ??= new AbortController();
    if (this.ended) this.abortController.abort(STREAM_ENDED);
    return this.abortController.signal;
  }
  // ---- end ----------------------------------------------------------------------------------
  /** Runs every `end` hook exactly once, whatever happened. Never throws. */
  async end(cancelled) {
    if (this.ended) return;
    this.ended = true;
    this.runner?.close();
    this.outcome.cancelled = cancelled;
    this.abortController?.abort(STREAM_ENDED);
    await this.running?.catch(() => void 0);
    const elapsedMs = performance.now() - this.startedAt;
    const { state, runner, source } = this;
    if (state && runner && source) {
      const endCtx = Object.assign(baseContext(source, "end"), {
        response: state.response,
        outcome: this.outcome,
        elapsedMs
      });
      await runner.end(endCtx);
    }
    this.observer.finished?.({
      request: state?.request,
      route: state?.route ?? {},
      vars: state?.vars ?? {},
      response: state?.response,
      outcome: this.outcome,
      elapsedMs,
      responseHeadersMs: this.responseHeadersAt === void 0 ? void 0 : this.responseHeadersAt - this.startedAt,
      firstChunkMs: this.firstChunkAt === void 0 ? void 0 : this.firstChunkAt - this.startedAt,
      processingMs: this.processingMs
    });
  }
};
var STREAM_ENDED = Object.freeze(new Error("the request ended"));
function takeChanges(headers2) {
  const changes = new Map(headers2.changes);
  headers2.changes.clear();
  return changes;
}

// bench/messages.ts
import { stringify } from "yaml";

// ext-proc/registry.ts
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// ext-proc/sdk-resolver.ts
import { register } from "node:module";
var FROM_SOURCE = import.meta.url.endsWith(".ts");
var SDK_MODULES = {
  "@inference-gateway/sdk": new URL(FROM_SOURCE ? "../plugins/sdk/index.ts" : "./sdk/index.js", import.meta.url).href,
  "@inference-gateway/sdk/shared": new URL(FROM_SOURCE ? "../plugins/sdk/shared.ts" : "./sdk/shared.js", import.meta.url).href,
  // The name before the SDK was its own package, for plugins written against it.
  "inference-gateway/sdk": new URL(FROM_SOURCE ? "../plugins/sdk/index.ts" : "./sdk/index.js", import.meta.url).href,
  // Tests only, always from the sources (dist/ and ext-proc/ are both one level below the root).
  "@inference-gateway/sdk/testing": new URL("../plugins/sdk/testing.ts", import.meta.url).href,
  "inference-gateway/sdk/testing": new URL("../plugins/sdk/testing.ts", import.meta.url).href
};
var typeScriptLoader;
function loadsAsTypeScript(file) {
  if (FROM_SOURCE || !/\.[cm]?tsx?$/.test(file)) return Promise.resolve();
  typeScriptLoader ??= import("tsx/esm/api").then(({ register: register2 }) => void register2());
  return typeScriptLoader;
}
var HOOKS = `
let modules = {};
export function initialize(data) { modules = data; }
export async function resolve(specifier, context, next) {
  // Hand the mapped URL on (no short-circuit) so the TypeScript loader still resolves it.
  return next(modules[specifier] ?? specifier, context);
}`;
var provided = false;
function provideSdkToPlugins() {
  if (provided) return;
  provided = true;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { parentURL: import.meta.url, data: SDK_MODULES });
}

// ext-proc/registry.ts
var GATEWAY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
function isPluginDef(value) {
  if (typeof value !== "object" || value === null) return false;
  const v = value;
  return typeof v.type === "string" && typeof v.setup === "function" && typeof v.options === "object" && v.options !== null;
}
function defsOf(mod) {
  const found = [];
  for (const candidate of [mod.default, mod.plugin]) if (isPluginDef(candidate)) found.push(candidate);
  if (Array.isArray(mod.plugins)) found.push(...mod.plugins.filter(isPluginDef));
  return found;
}
var exists = (path3) => stat(path3).then(() => true, () => false);
var isDir = (path3) => stat(path3).then((s2) => s2.isDirectory(), () => false);
async function packageEntry(dir) {
  const pkgPath = join(dir, "package.json");
  if (await exists(pkgPath)) {
    const pkg = JSON.parse(await readFile(pkgPath, "utf8"));
    const dot = typeof pkg.exports === "object" && pkg.exports !== null && "." in pkg.exports ? pkg.exports["."] : pkg.exports;
    const target2 = typeof dot === "string" ? dot : typeof dot === "object" && dot !== null ? dot.import ?? dot.default : pkg.main;
    if (typeof target2 === "string") return resolve(dir, target2);
  }
  for (const index of ["index.ts", "index.js", "index.mjs"]) {
    if (await exists(join(dir, index))) return join(dir, index);
  }
  return void 0;
}
async function findPackage(name, configDir) {
  for (const start of [configDir, GATEWAY_ROOT]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", name);
      if (await exists(join(candidate, "package.json"))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`npm package "${name}" is not installed (looked in node_modules from ${configDir} and from the gateway)`);
}
var importDefs = async (file) => {
  await loadsAsTypeScript(file);
  return defsOf(await import(pathToFileURL(file).href));
};
var SKIPPED_FILE = /(?:\.test|\.spec|\.config|\.d)\.[cm]?[jt]s$/;
async function importSource(source, configDir) {
  const looksLikePath = source.startsWith(".") || isAbsolute(source);
  const path3 = looksLikePath ? resolve(configDir, source) : await findPackage(source, configDir);
  if (!await isDir(path3)) return importDefs(path3);
  const entry = await packageEntry(path3);
  if (entry) return importDefs(entry);
  if (!looksLikePath) throw new Error(`package "${source}" has no entry point (exports, main or index.*)`);
  const defs = [];
  for (const dirent of (await readdir(path3, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (dirent.name.startsWith(".") || dirent.name === "node_modules") continue;
    const full = join(path3, dirent.name);
    if (dirent.isDirectory()) {
      const sub = await packageEntry(full);
      if (sub) defs.push(...await importDefs(sub));
    } else if (/\.(ts|js|mjs)$/.test(dirent.name) && !SKIPPED_FILE.test(dirent.name)) {
      defs.push(...await importDefs(full));
    }
  }
  return defs;
}
async function createRegistry(builtins, sources = [], configDir = process.cwd()) {
  const byType = /* @__PURE__ */ new Map();
  const add = (def, origin) => {
    if (byType.has(def.type)) throw new ConfigError(`${origin}: plugin type "${def.type}" is already registered`);
    byType.set(def.type, def);
  };
  for (const def of builtins) add(def, "built-in");
  if (sources.length > 0) provideSdkToPlugins();
  for (const [i, source] of sources.entries()) {
    let defs;
    try {
      defs = await importSource(source, configDir);
    } catch (err) {
      throw new ConfigError(`pluginSources[${i}]: cannot load "${source}": ${err.message}`);
    }
    if (defs.length === 0) throw new ConfigError(`pluginSources[${i}]: "${source}" exports no plugin (export default definePlugin(...))`);
    for (const def of defs) add(def, `pluginSources[${i}] ("${source}")`);
  }
  return { get: (type) => byType.get(type), types: () => [...byType.keys()].sort() };
}

// plugins/sdk/routing-options.ts
import { z as z4 } from "zod";
var RoutingOptions = z4.object({
  /** Request header that names a version or alias explicitly. */
  versionHeader: z4.string().toLowerCase().default("x-model-version"),
  /** Separator between model and version in OpenAI's `model` field: `tinylm@canary`. */
  openaiVersionSeparator: z4.string().min(1).max(3).default("@")
}).strict();
var ROUTER_TYPE = "model-router";

// ext-proc/routing/stage.ts
import { z as z5 } from "zod";
var OpenAiModelField = z5.object({ model: z5.string().min(1, "model must not be empty") }).loose();
function routingStep(settings) {
  const { versionHeader, openaiVersionSeparator: separator } = settings;
  const route = (ctx, model, named, target2) => {
    const header = named === void 0 ? ctx.request.headers.get(versionHeader) : void 0;
    const explicit = named ?? (header ? { version: header, source: "header" } : void 0);
    if (explicit) {
      const { version, source } = explicit;
      if (resolveVersion(model, version) === void 0) {
        ctx.setRoute({ model: model.name });
        return source === "model" ? ctx.fail(404, `The model '${model.name}${separator}${version}' does not exist`, { code: "model_not_found", param: "model" }) : ctx.fail(404, versionNotFound(model.name, version).message, { code: "version_not_found" });
      }
      ctx.setRoute({ model: model.name, version, reason: model.aliases[version] !== void 0 ? `alias:${version}` : source });
    } else {
      const placed = placeByPolicy(model, ctx.request.headers, ctx.vars);
      placed.model = model.name;
      ctx.setRoute(placed);
    }
    if (named?.source === "path" && target2?.withVersion && ctx.route.version !== named.version) {
      ctx.headers.set(":path", target2.withVersion(ctx.route.version) + queryOf(ctx.request.path));
    }
    return void 0;
  };
  const keepHinted = (ctx, modelName) => {
    const model = ctx.models.get(modelName);
    if (model !== void 0 && ctx.route.version === void 0) ctx.setRoute(placeByPolicy(model, ctx.request.headers, ctx.vars));
    return void 0;
  };
  return {
    needs: {
      // Only OpenAI inference names its model in the body.
      requestBody: (request, current) => request.protocol === "openai" && current.model === void 0
    },
    requestHeaders(ctx) {
      if (ctx.route.model !== void 0) return keepHinted(ctx, ctx.route.model);
      const { protocol, target: target2 } = ctx.request;
      if (protocol === void 0 || target2 === void 0) return ctx.fail(404, `No route for ${ctx.request.pathname}`, { code: "unknown_path" });
      if (target2.action === "health/live" || target2.action === "health/ready") {
        return ctx.respond({ status: 200, json: target2.action === "health/live" ? { live: true } : { ready: true } });
      }
      if (target2.action === "server-metadata") {
        return ctx.respond({ status: 200, json: { name: "inference-gateway", version: "0.1.0", extensions: [] } });
      }
      if (target2.action === "list-models") {
        const data = ctx.models.names().filter((n2) => ctx.models.get(n2)?.protocol === "openai").map((id) => ({ id, object: "model", created: 0, owned_by: "inference-gateway" }));
        return ctx.respond({ status: 200, json: { object: "list", data } });
      }
      if (target2.model === void 0) return void 0;
      const model = ctx.models.get(target2.model);
      if (!model || model.protocol !== protocol) {
        return ctx.fail(404, `The model '${target2.model}' does not exist`, { code: "model_not_found" });
      }
      if (target2.action === "retrieve-model") {
        return ctx.respond({ status: 200, json: { id: model.name, object: "model", created: 0, owned_by: "inference-gateway" } });
      }
      return route(ctx, model, target2.version === void 0 ? void 0 : { version: target2.version, source: "path" }, target2);
    },
    requestBody(ctx) {
      if (ctx.route.model !== void 0) return keepHinted(ctx, ctx.route.model);
      if (ctx.request.protocol !== "openai") return void 0;
      const requested = ctx.json(OpenAiModelField).model;
      const sep = requested.lastIndexOf(separator);
      const name = sep > 0 ? requested.slice(0, sep) : requested;
      const version = sep > 0 ? requested.slice(sep + separator.length) : void 0;
      const model = ctx.models.get(name);
      if (!model || model.protocol !== "openai") {
        return ctx.fail(404, `The model '${requested}' does not exist`, { code: "model_not_found", param: "model" });
      }
      const stop = route(ctx, model, version === void 0 ? void 0 : { version, source: "model" }, ctx.request.target);
      if (stop) return stop;
      if (version !== void 0) ctx.replaceJson({ ...ctx.json(), model: name });
      return void 0;
    },
    responseHeaders(ctx) {
      const route2 = ctx.route;
      if (route2.model === void 0) return;
      ctx.headers.set("x-gateway-model", route2.model);
      if (route2.version !== void 0) ctx.headers.set("x-gateway-model-version", route2.version);
      if (route2.variant !== void 0) ctx.headers.set("x-gateway-variant", route2.variant);
      if (route2.experiment !== void 0) ctx.headers.set("x-gateway-experiment", route2.experiment);
      if (route2.reason !== void 0) ctx.headers.set("x-gateway-route-reason", route2.reason);
      if (route2.fallbackFrom !== void 0) ctx.headers.set("x-gateway-fallback-from", route2.fallbackFrom);
    }
  };
}
function queryOf(path3) {
  const q = path3.indexOf("?");
  return q === -1 ? "" : path3.slice(q);
}

// ext-proc/routing/place.ts
var CORE_NAME = "gateway";
function withRoutingStep(globalChain, configured) {
  const at = globalChain.findIndex((p) => p.type === ROUTER_TYPE);
  const marker = at === -1 ? void 0 : globalChain[at];
  const entry = marker && configured.find((c) => (c.name ?? c.type) === marker.name);
  const settings = RoutingOptions.parse(entry?.options ?? {});
  const step = {
    name: marker?.name ?? CORE_NAME,
    type: ROUTER_TYPE,
    hooks: routingStep(settings),
    timeoutMs: marker?.timeoutMs ?? 1e3,
    failOpen: false,
    protocols: void 0
  };
  const chain = [...globalChain];
  if (at === -1) chain.push(step);
  else chain[at] = step;
  return chain;
}

// ext-proc/plugin-metrics.ts
import { Counter as Counter2, Registry as Registry2 } from "prom-client";
var pluginRegistry = new Registry2();
var pluginMetrics = {
  counter(definition) {
    if (!/^gateway_[a-z0-9_]+_total$/.test(definition.name)) throw new Error(`plugin counter "${definition.name}": names are gateway_<what>_total`);
    const existing = pluginRegistry.getSingleMetric(definition.name);
    if (existing instanceof Counter2) {
      const labels = existing.labelNames;
      if (labels.join() !== definition.labelNames.join()) throw new Error(`plugin counter "${definition.name}" exists with labels ${labels.join(", ")}`);
      return existing;
    }
    return new Counter2({ name: definition.name, help: definition.help, labelNames: [...definition.labelNames], registers: [pluginRegistry] });
  }
};

// ext-proc/runtime.ts
import { dirname as dirname2 } from "node:path";
function buildCatalog(config2) {
  const models = /* @__PURE__ */ new Map();
  for (const [name, m] of Object.entries(config2.models)) {
    models.set(
      name,
      Object.freeze({
        name,
        protocol: m.protocol,
        versions: Object.freeze(Object.keys(m.versions)),
        aliases: Object.freeze({ ...m.aliases }),
        defaultVersion: m.defaultVersion ?? Object.keys(m.versions)[0],
        traffic: Object.freeze({ ...m.traffic }),
        endpoints: Object.freeze(Object.fromEntries(Object.entries(m.versions).map(([v, c]) => [v, Object.freeze([...c.endpoints])])))
      })
    );
  }
  const names = Object.freeze([...models.keys()]);
  return { get: (name) => models.get(name), names: () => names };
}
function configuredChains(config2) {
  const list = (instances) => Object.freeze(instances.map((i) => Object.freeze({ type: i.type, name: i.name ?? i.type, options: i.options })));
  return Object.freeze({
    global: list(config2.plugins),
    models: Object.freeze(Object.fromEntries(Object.entries(config2.models).map(([name, m]) => [name, list(m.plugins)])))
  });
}
async function buildChain(instances, where, registry, host, modelChain, log2, built) {
  const chain = [];
  const seen = /* @__PURE__ */ new Set();
  for (const [i, inst] of instances.entries()) {
    const name = inst.name ?? inst.type;
    const label = `${where}[${i}] (${name})`;
    if (seen.has(name)) throw new ConfigError(`${label}: duplicate plugin instance name "${name}"; give each a distinct name`);
    seen.add(name);
    const def = registry.get(inst.type);
    if (!def) {
      throw new ConfigError(`${label}.type: unknown plugin type "${inst.type}" (known: ${registry.types().join(", ")})`);
    }
    const parsed = def.options.safeParse(inst.options ?? {});
    if (!parsed.success) throw new ConfigError(`invalid plugin options:
${formatIssues(parsed.error.issues, `${label}.options`)}`);
    let hooks;
    try {
      hooks = await def.setup(parsed.data, { ...host, name, log: log2.child({ plugin: name }), modelChain });
    } catch (err) {
      throw new ConfigError(`${label}: setup failed: ${err.message}`);
    }
    const instance = {
      name,
      type: inst.type,
      hooks,
      timeoutMs: inst.timeoutMs,
      failOpen: inst.failOpen,
      protocols: def.protocols ? new Set(def.protocols) : void 0
    };
    built.push(instance);
    chain.push(instance);
  }
  return chain;
}
async function buildRuntime(loaded, registry, log2) {
  const { config: config2 } = loaded;
  const catalog = buildCatalog(config2);
  const host = { models: catalog, configDir: dirname2(loaded.path), chains: configuredChains(config2), metrics: pluginMetrics };
  const built = [];
  const closeAll = async () => {
    await Promise.allSettled(built.map(async (p) => p.hooks.close?.()));
  };
  try {
    const globalChain = await buildChain(config2.plugins, "plugins", registry, host, void 0, log2, built);
    const tracing = config2.tracing.otlp ? (await Promise.resolve().then(() => (init_tracing(), tracing_exports))).tracingInstance(config2.tracing, log2) : void 0;
    if (tracing) {
      globalChain.unshift(tracing);
      built.push(tracing);
    }
    const modelChains = /* @__PURE__ */ new Map();
    for (const [model, m] of Object.entries(config2.models)) {
      modelChains.set(model, await buildChain(m.plugins, `models.${model}.plugins`, registry, host, model, log2, built));
    }
    const routed = withRoutingStep(globalChain, config2.plugins);
    const byProtocol = /* @__PURE__ */ new Map();
    for (const protocol of [void 0, "openai", "kserve-v2", "tfserving"]) {
      byProtocol.set(protocol, Object.freeze(routed.filter((p) => appliesTo(p, protocol))));
    }
    return {
      config: config2,
      hash: loaded.hash,
      catalog,
      globalChain,
      requestChain: (protocol) => byProtocol.get(protocol),
      modelChains,
      cluster: (model, version, fallback) => {
        const versions = config2.models[model]?.versions;
        if (!versions?.[version]) return void 0;
        if (fallback === void 0 || fallback === version) return clusterName(model, version);
        return versions[fallback] ? fallbackClusterName(model, version, fallback) : void 0;
      },
      close: closeAll
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

// plugins/sdk/index.ts
import { z as z6 } from "zod";

// plugins/sdk/define.ts
var TYPE_NAME = /^[a-z][a-z0-9-]*(?:\/[a-z][a-z0-9-]*)?$/;
function definePlugin(def) {
  if (!TYPE_NAME.test(def.type)) {
    throw new Error(`plugin type "${def.type}" must be lower-case kebab-case (optionally scope/name)`);
  }
  return Object.freeze({ ...def });
}

// plugins/sdk/index.ts
init_error_codes();

// plugins/model-router/index.ts
var model_router_default = definePlugin({
  type: ROUTER_TYPE,
  description: "Marks where in the global chain the core routes, and sets its options (routing is core)",
  options: RoutingOptions,
  setup: () => ({})
});

// plugins/openai-usage/index.ts
var Options = z6.object({
  /**
   * Streams only carry `usage` when the client sets `stream_options.include_usage`. With this
   * on, the gateway asks for it on every streamed request and removes the extra chunk before
   * the client sees it, so every stream is counted. Costs a request body rewrite.
   */
  forceStreamUsage: z6.boolean().default(false)
}).strict();
var Usage = z6.object({ prompt_tokens: z6.number().int().min(0), completion_tokens: z6.number().int().min(0).optional() }).loose();
function readUsage(value) {
  if (typeof value !== "object" || value === null) return void 0;
  const parsed = Usage.safeParse(value.usage);
  if (!parsed.success) return void 0;
  return { prompt: parsed.data.prompt_tokens, completion: parsed.data.completion_tokens ?? 0 };
}
var USAGE_OBJECT = /"usage"\s*:\s*\{/;
var openai_usage_default = definePlugin({
  type: "openai-usage",
  description: "Records OpenAI token usage (prompt, completion) from responses into ctx.vars.usage",
  protocols: ["openai"],
  options: Options,
  setup(options) {
    return {
      ...options.forceStreamUsage && {
        requestBody(ctx) {
          let body2;
          try {
            body2 = ctx.json();
          } catch {
            return;
          }
          if (typeof body2 !== "object" || body2 === null || body2.stream !== true || body2.stream_options?.include_usage === true) return;
          ctx.replaceJson({ ...body2, stream_options: { ...body2.stream_options, include_usage: true } });
          ctx.vars.usageInjected = true;
        }
      },
      responseBody(ctx) {
        if (ctx.response.status !== 200) return;
        try {
          ctx.vars.usage = readUsage(ctx.json()) ?? ctx.vars.usage;
        } catch {
        }
      },
      responseEvent(ctx) {
        const data = ctx.event.data;
        if (ctx.done || !USAGE_OBJECT.test(data)) return;
        const chunk = ctx.json();
        const usage = readUsage(chunk);
        if (!usage) return;
        ctx.vars.usage = usage;
        if (ctx.vars.usageInjected && Array.isArray(chunk?.choices) && chunk.choices.length === 0) ctx.replaceEvent(null);
      }
    };
  }
});

// plugins/shared/json-body.ts
function isJsonObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function jsonObjectOrUndefined(ctx) {
  let body2;
  try {
    body2 = ctx.json();
  } catch {
    return void 0;
  }
  return isJsonObject(body2) ? body2 : void 0;
}

// plugins/pii-redact/detect.ts
var EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
var PHONE = new RegExp(
  [
    String.raw`(?<![\w+@.-])(?:\+\d{1,3}[ .-]?)?`,
    String.raw`(?:\(\d{1,5}\)[ .-]?\d{2,10}(?:[ .-]\d{2,5}){0,4}|\d{2,5}(?:[ .-]\d{2,5}){1,5})`,
    String.raw`(?![\w@]|[.-]\d)`,
    String.raw`|(?<![\w+@])\+\d{7,15}(?!\w)`
  ].join(""),
  "g"
);
var ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
var IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
function isPhone(candidate) {
  const digits = candidate.replace(/\D/g, "").length;
  if (digits < 7 || digits > 15) return false;
  return !ISO_DATE.test(candidate) && !IPV4.test(candidate);
}
function redact(text, opts) {
  let emails = 0;
  let phones = 0;
  let out = text;
  if (opts.emails) {
    out = out.replace(EMAIL, () => {
      emails++;
      return opts.emailReplacement;
    });
  }
  if (opts.phones) {
    out = out.replace(PHONE, (match) => {
      if (!isPhone(match)) return match;
      phones++;
      return opts.phoneReplacement;
    });
  }
  return { text: out, emails, phones };
}

// plugins/pii-redact/index.ts
var Options2 = z6.object({
  emails: z6.boolean().default(true),
  phones: z6.boolean().default(true),
  emailReplacement: z6.string().default("[EMAIL]"),
  phoneReplacement: z6.string().default("[PHONE]"),
  /** Tell the client how much was redacted (`x-gateway-pii-redacted: emails=1,phones=2`). */
  reportHeader: z6.boolean().default(true)
}).strict().refine((o) => o.emails || o.phones, { message: "enable at least one of emails, phones" });
var pii_redact_default = definePlugin({
  type: "pii-redact",
  description: "Redacts e-mail addresses and phone numbers in OpenAI prompts",
  protocols: ["openai"],
  options: Options2,
  setup(options) {
    const opts = options;
    return {
      needs: { requestBody: (request) => request.method === "POST" },
      requestBody(ctx) {
        const body2 = jsonObjectOrUndefined(ctx);
        if (!body2) return;
        const counts = { emails: 0, phones: 0 };
        const clean = (value) => {
          if (typeof value === "string") {
            const r = redact(value, opts);
            counts.emails += r.emails;
            counts.phones += r.phones;
            return r.text;
          }
          if (Array.isArray(value)) return value.map(clean);
          return value;
        };
        const req = body2;
        const next = { ...body2 };
        if (Array.isArray(req.messages)) {
          next.messages = req.messages.map((m) => {
            if (typeof m !== "object" || m === null) return m;
            if (typeof m.content === "string") return { ...m, content: clean(m.content) };
            if (Array.isArray(m.content)) {
              const parts = m.content.map(
                (p) => typeof p === "object" && p !== null && p.type === "text" ? { ...p, text: clean(p.text) } : p
              );
              return { ...m, content: parts };
            }
            return m;
          });
        }
        if (req.prompt !== void 0) next.prompt = clean(req.prompt);
        if (req.input !== void 0) next.input = clean(req.input);
        if (counts.emails + counts.phones === 0) return;
        ctx.replaceJson(next);
        ctx.vars.piiRedacted = counts;
        ctx.log.info({ redacted: counts }, "pii redacted from prompt");
      },
      responseHeaders(ctx) {
        const counts = ctx.vars.piiRedacted;
        if (options.reportHeader && counts) ctx.headers.set("x-gateway-pii-redacted", `emails=${counts.emails},phones=${counts.phones}`);
      }
    };
  }
});

// plugins/request-defaults/index.ts
var RESERVED = ["model", "messages", "prompt", "input", "stream"];
var Params = z6.record(z6.string(), z6.unknown()).default({}).superRefine((params, ctx) => {
  for (const key of Object.keys(params)) {
    if (RESERVED.includes(key)) ctx.addIssue({ code: "custom", path: [key], message: `"${key}" cannot be defaulted or forced (reserved: ${RESERVED.join(", ")})` });
  }
});
var Options3 = z6.object({
  /** Set when the client did not send them, e.g. `{ temperature: 0.2, max_tokens: 256 }`. */
  defaults: Params,
  /** Set whatever the client sent, e.g. a cap `{ max_tokens: 512 }` or `{ user: team-a }`. */
  overrides: Params,
  /** A system message for chat completions. */
  systemPrompt: z6.string().min(1).optional(),
  /**
   * `if-absent`: added only when the client sent no system message. `prepend`: always added
   * first, before the client's own system message (a policy the client cannot drop).
   */
  systemPromptMode: z6.enum(["if-absent", "prepend"]).default("if-absent")
}).strict();
var request_defaults_default = definePlugin({
  type: "request-defaults",
  description: "Default or forced parameters and a system prompt for OpenAI requests, per model",
  protocols: ["openai"],
  options: Options3,
  setup(options) {
    return {
      needs: { requestBody: (request) => request.method === "POST" },
      requestBody(ctx) {
        const body2 = jsonObjectOrUndefined(ctx);
        if (!body2) return;
        const next = { ...body2 };
        const params = [];
        for (const [key, value] of Object.entries(options.defaults)) {
          if (next[key] === void 0 || next[key] === null) {
            next[key] = value;
            params.push(key);
          }
        }
        for (const [key, value] of Object.entries(options.overrides)) {
          next[key] = value;
          params.push(key);
        }
        let systemPrompt = false;
        const messages2 = next.messages;
        if (options.systemPrompt !== void 0 && Array.isArray(messages2) && ctx.request.target?.action === "chat/completions") {
          const hasSystem = messages2.some((m) => m?.role === "system" || m?.role === "developer");
          if (options.systemPromptMode === "prepend" || !hasSystem) {
            next.messages = [{ role: "system", content: options.systemPrompt }, ...messages2];
            systemPrompt = true;
          }
        }
        if (params.length === 0 && !systemPrompt) return;
        ctx.replaceJson(next);
        ctx.vars.defaultsApplied = { params, systemPrompt };
      }
    };
  }
});

// plugins/sentiment-text/index.ts
var Options4 = z6.object({
  /** The model's BYTES input tensor. */
  inputName: z6.string().min(1).default("text"),
  /** Output tensors read back into `{label, score}`. */
  labelOutput: z6.string().min(1).default("label"),
  scoreOutput: z6.string().min(1).default("score"),
  /** Most texts accepted in one `{"texts": [...]}` request. */
  maxTexts: z6.number().int().positive().max(1e4).default(64)
}).strict();
var Tensor = z6.object({ name: z6.string(), data: z6.array(z6.unknown()) }).loose();
var V2Response = z6.object({ outputs: z6.array(Tensor) }).loose();
var sentiment_text_default = definePlugin({
  type: "sentiment-text",
  description: 'Friendly {"text"} JSON in, {"label","score"} out, for a V2 text-classification model',
  protocols: ["kserve-v2"],
  options: Options4,
  setup(options) {
    const One = z6.object({ text: z6.string().min(1, "must not be empty"), id: z6.string().optional() }).strict();
    const Many = z6.object({
      texts: z6.array(z6.string().min(1, "must not be empty")).min(1, "give at least one text").max(options.maxTexts, `at most ${options.maxTexts} texts per request`),
      id: z6.string().optional()
    }).strict();
    return {
      needs: {
        requestBody: (request) => request.method === "POST" && request.target?.action === "infer",
        // Only translated requests need their response rewritten: standard V2 traffic stays unbuffered.
        responseBody: (_response, _request, vars) => vars.sentimentText !== void 0
      },
      requestBody(ctx) {
        const body2 = ctx.json();
        const shaped = typeof body2 === "object" && body2 !== null && !Array.isArray(body2);
        if (!shaped || "inputs" in body2 || !("text" in body2 || "texts" in body2)) return;
        const batch = "texts" in body2;
        const { id, texts } = batch ? ctx.json(Many) : ((b) => ({ id: b.id, texts: [b.text] }))(ctx.json(One));
        ctx.replaceJson({
          ...id !== void 0 && { id },
          inputs: [{ name: options.inputName, shape: [texts.length], datatype: "BYTES", data: texts }],
          outputs: [{ name: options.labelOutput }, { name: options.scoreOutput }]
        });
        ctx.vars.sentimentText = { batch };
      },
      responseBody(ctx) {
        const friendly = ctx.vars.sentimentText;
        if (!friendly || ctx.response.status !== 200) return;
        const parsed = V2Response.safeParse(ctx.json());
        const labels = parsed.success ? parsed.data.outputs.find((o) => o.name === options.labelOutput)?.data : void 0;
        const scores = parsed.success ? parsed.data.outputs.find((o) => o.name === options.scoreOutput)?.data : void 0;
        if (!labels || !scores || labels.length !== scores.length) {
          ctx.log.warn({ outputs: parsed.success ? parsed.data.outputs.map((o) => o.name) : void 0 }, "model response lacks label/score tensors");
          return ctx.fail(502, `model response has no '${options.labelOutput}' and '${options.scoreOutput}' outputs of equal length`, { code: "bad_upstream_response" });
        }
        const results = labels.map((label, i) => ({ label, score: scores[i] }));
        ctx.replaceJson(friendly.batch ? { results } : results[0]);
      }
    };
  }
});

// plugins/sse-content-filter/filter.ts
var escape = (s2) => s2.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
function bannedWords(opts) {
  const alternatives = [...opts.words].sort((a, b) => b.length - a.length).map(escape).join("|");
  const pattern = opts.wholeWords ? `(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])` : `(?:${alternatives})`;
  return new RegExp(pattern, opts.caseSensitive ? "gu" : "giu");
}
function wordFilter(opts) {
  const re = bannedWords(opts);
  return (text) => {
    let hits = 0;
    const out = text.replace(re, () => {
      hits++;
      return opts.replacement;
    });
    return { text: out, hits };
  };
}
function streamFilter(opts) {
  const fold = (s2) => opts.caseSensitive ? s2 : s2.toLowerCase();
  const words = opts.words.map(fold);
  const re = bannedWords(opts);
  const startOfWordAtEnd = (text) => {
    const folded = fold(text);
    let longest = 0;
    for (const w of words) {
      for (let k = Math.min(w.length, folded.length); k > longest; k--) {
        if (folded.endsWith(w.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  };
  return (state, piece, final) => {
    const text = state.held + piece;
    const ctx = state.before;
    const matches = [...(ctx + text).matchAll(re)].map((m) => ({ start: (m.index ?? 0) - ctx.length, end: (m.index ?? 0) - ctx.length + m[0].length }));
    let cut = final ? text.length : text.length - startOfWordAtEnd(text);
    const split = matches.find((m) => m.start < cut && m.end > cut);
    if (split) cut = split.start;
    let out = "";
    let at = 0;
    let hits = 0;
    for (const m of matches) {
      if (m.end > cut || m.start < 0) continue;
      out += text.slice(at, m.start) + opts.replacement;
      at = m.end;
      hits++;
    }
    out += text.slice(at, cut);
    state.held = text.slice(cut);
    if (cut > 0) state.before = text.slice(cut - 1, cut);
    return { text: out, hits };
  };
}

// plugins/sse-content-filter/index.ts
var Options5 = z6.object({
  words: z6.array(z6.string().min(1)).min(1, "list at least one word"),
  replacement: z6.string().default("***"),
  caseSensitive: z6.boolean().default(false),
  wholeWords: z6.boolean().default(true),
  /**
   * Also filter non-streamed responses. That buffers every non-streamed response body of
   * the model (one more round trip each); turn it off when clients only stream.
   */
  buffered: z6.boolean().default(true)
}).strict();
var MAX_HELD_CHOICES = 128;
var sse_content_filter_default = definePlugin({
  type: "sse-content-filter",
  description: "Replaces banned words in OpenAI responses, streamed (per SSE event) or buffered",
  protocols: ["openai"],
  options: Options5,
  setup(options) {
    const filter = wordFilter(options);
    const filterPiece = streamFilter(options);
    const filterStreamedChoices = (value, held) => {
      const choices = value?.choices;
      if (!Array.isArray(choices)) return { hits: 0, changed: false };
      let hits = 0;
      let changed = false;
      choices.forEach((choice, position) => {
        const index = typeof choice.index === "number" ? choice.index : position;
        let state = held.get(index);
        if (state === void 0) {
          state = { held: "", before: "" };
          if (held.size < MAX_HELD_CHOICES) held.set(index, state);
        }
        const isChat = choice.delta !== void 0 && typeof choice.text !== "string";
        const piece = isChat ? choice.delta?.content : choice.text;
        const final = typeof choice.finish_reason === "string" || held.get(index) !== state;
        if (typeof piece !== "string" && !(final && state.held !== "")) return;
        const r = filterPiece(state, typeof piece === "string" ? piece : "", final);
        if (r.text === piece) return;
        if (isChat) choice.delta = { ...choice.delta, content: r.text };
        else choice.text = r.text;
        hits += r.hits;
        changed = true;
      });
      return { hits, changed };
    };
    const filterChoices = (value) => {
      const choices = value?.choices;
      if (!Array.isArray(choices)) return 0;
      let hits = 0;
      for (const choice of choices) {
        for (const holder of [choice.delta, choice.message]) {
          if (holder && typeof holder.content === "string") {
            const r = filter(holder.content);
            holder.content = r.text;
            hits += r.hits;
          }
        }
        if (typeof choice.text === "string") {
          const r = filter(choice.text);
          choice.text = r.text;
          hits += r.hits;
        }
      }
      return hits;
    };
    return {
      needs: { responseBody: (response) => response.status === 200 },
      responseEvent(ctx) {
        const chunk = ctx.json();
        if (chunk === void 0) return;
        ctx.vars.contentFilterHeld ??= /* @__PURE__ */ new Map();
        const { hits, changed } = filterStreamedChoices(chunk, ctx.vars.contentFilterHeld);
        if (!changed) return;
        ctx.replaceEvent({ ...ctx.event, data: JSON.stringify(chunk) });
        if (hits > 0) ctx.vars.contentFiltered = (ctx.vars.contentFiltered ?? 0) + hits;
      },
      ...options.buffered && {
        responseBody(ctx) {
          let body2;
          try {
            body2 = ctx.json();
          } catch {
            return;
          }
          const hits = filterChoices(body2);
          if (hits === 0) return;
          ctx.replaceJson(body2);
          ctx.vars.contentFiltered = hits;
        }
      },
      end(ctx) {
        if (ctx.vars.contentFiltered) ctx.log.info({ replaced: ctx.vars.contentFiltered }, "banned words replaced");
        const lost = [...ctx.vars.contentFilterHeld?.values() ?? []].reduce((n2, s2) => n2 + s2.held.length, 0);
        if (lost > 0) ctx.log.warn({ heldCharacters: lost }, "stream ended without finish_reason: held-back text was not sent");
      }
    };
  }
});

// plugins/shared/consumer.ts
var CREDENTIAL_HEADERS = ["authorization", "x-api-key"];
var REALM = "inference-gateway";
var CONSUMER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
function authenticate(ctx, id, forwardCredentials) {
  ctx.vars.consumer = { id };
  ctx.headers.set(CONSUMER_HEADER, id);
  if (!forwardCredentials) {
    for (const h of CREDENTIAL_HEADERS) if (ctx.headers.has(h)) ctx.headers.remove(h);
  }
}
function unauthorized(ctx, code2, message, error) {
  const challenge = error ? `Bearer realm="${REALM}", error="${error}", error_description="${message.replace(/["\\]/g, "")}"` : `Bearer realm="${REALM}"`;
  return ctx.fail(401, message, { code: code2, headers: { "www-authenticate": challenge } });
}
function parseAuthorization(value) {
  if (value === void 0) return void 0;
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+) *$/.exec(value);
  if (!m) return void 0;
  return { scheme: m[1].toLowerCase(), token: m[2] };
}
function looksLikeJwt(token) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

// plugins/api-key-auth/index.ts
var MAX_KEY_LENGTH = 1024;
var KeyHash = z6.string().regex(KEY_HASH, 'store keys hashed: "sha256:<64 hex digits>" (see scripts/hash-key.ts)');
var Options6 = z6.object({
  consumers: z6.array(
    z6.object({
      id: z6.string().regex(CONSUMER_ID, "consumer ids are letters, digits and . _ : @ / - (at most 128)"),
      /**
       * Hashes of this consumer's keys (`npm run hash-key`); several allow rotation. A key
       * may carry an expiry: `{ hash, expires: 2027-01-31T00:00:00Z }`; after it, a 401.
       */
      keys: z6.array(
        // A bare string is a hash without an expiry.
        z6.preprocess(
          (k) => typeof k === "string" ? { hash: k } : k,
          z6.object({
            hash: KeyHash,
            /** ISO 8601: `2027-01-31T00:00:00Z`, or a date (`2027-01-31`, midnight UTC). */
            expires: z6.union([z6.iso.datetime({ offset: true }), z6.iso.date()], { error: "expires must be an ISO 8601 date or date-time, e.g. 2027-01-31 or 2027-01-31T00:00:00Z" }).transform((d) => Date.parse(d)).optional()
          }).strict().transform(({ hash: hash2, expires }) => ({ hash: hash2, expiresAt: expires }))
        )
      ).min(1)
    }).strict()
  ).min(1),
  /**
   * false: a request without an API key (no `x-api-key`, and no Authorization bearer token,
   * or one shaped like a JWT) continues unauthenticated so a later auth plugin (jwt-auth)
   * can try. A key that is presented and wrong is always a 401.
   */
  required: z6.boolean().default(true),
  /** Pass `Authorization` / `x-api-key` on to model servers. */
  forwardCredentials: z6.boolean().default(false)
}).strict().superRefine((o, ctx) => {
  const ids = /* @__PURE__ */ new Set();
  const hashes = /* @__PURE__ */ new Map();
  for (const [i, c] of o.consumers.entries()) {
    if (ids.has(c.id)) ctx.addIssue({ code: "custom", path: ["consumers", i, "id"], message: `duplicate consumer id "${c.id}"` });
    ids.add(c.id);
    for (const [j, { hash: k }] of c.keys.entries()) {
      const owner = hashes.get(k);
      if (owner !== void 0) ctx.addIssue({ code: "custom", path: ["consumers", i, "keys", j], message: `key already belongs to "${owner}"` });
      hashes.set(k, c.id);
    }
  }
});
var api_key_auth_default = definePlugin({
  type: "api-key-auth",
  description: "API keys (Authorization: Bearer or x-api-key) checked against hashed keys; sets the consumer",
  options: Options6,
  setup(options, host) {
    const table = new KeyTable(options.consumers);
    host.log.info({ consumers: options.consumers.length, keys: table.size }, "api keys loaded");
    const expired = table.expired(Date.now());
    if (expired.length > 0) host.log.warn({ consumers: [...new Set(expired)], keys: expired.length }, "api keys past their expiry are configured; they are refused");
    return {
      requestHeaders(ctx) {
        if (ctx.vars.consumer) return;
        const headerKey = ctx.headers.get("x-api-key");
        const authorization = ctx.headers.get("authorization");
        const parsed = parseAuthorization(authorization);
        let key;
        if (headerKey !== void 0) key = headerKey.trim();
        else if (parsed?.scheme === "bearer" && !(looksLikeJwt(parsed.token) && !options.required)) key = parsed.token;
        if (key === void 0) {
          if (!options.required) return;
          if (authorization !== void 0) {
            return unauthorized(ctx, "invalid_api_key", 'Authorization must be "Bearer <api key>"', "invalid_request");
          }
          return unauthorized(ctx, "missing_api_key", 'An API key is required: send "Authorization: Bearer <key>" or "x-api-key: <key>"');
        }
        const match = key.length === 0 || key.length > MAX_KEY_LENGTH ? void 0 : table.match(key);
        if (match === void 0) {
          ctx.log.info({ via: headerKey !== void 0 ? "x-api-key" : "authorization" }, "api key rejected");
          return unauthorized(ctx, "invalid_api_key", "Invalid API key", "invalid_token");
        }
        if (match.expiresAt !== void 0 && match.expiresAt <= Date.now()) {
          ctx.log.info({ consumer: match.consumer, expiredAt: new Date(match.expiresAt).toISOString() }, "expired api key rejected");
          return unauthorized(ctx, "expired_api_key", "The API key has expired", "invalid_token");
        }
        const consumer = match.consumer;
        authenticate(ctx, consumer, options.forwardCredentials);
        ctx.log.debug({ consumer }, "api key accepted");
      }
    };
  }
});

// plugins/jwt-auth/index.ts
import { resolve as resolve2 } from "node:path";
import { errors, jwtVerify } from "jose";

// plugins/jwt-auth/jwks.ts
import { readFile as readFile2, stat as stat2 } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet } from "jose";
var PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];
function checkJwks(doc, source) {
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.keys)) {
    throw new Error(`${source}: not a JWKS (expected {"keys": [...]})`);
  }
  const keys = doc.keys;
  if (keys.length === 0) throw new Error(`${source}: the JWKS has no keys`);
  for (const [i, key] of keys.entries()) {
    if (typeof key !== "object" || key === null) throw new Error(`${source}: keys[${i}] is not an object`);
    const k = key;
    if (k.kty === "oct") {
      throw new Error(`${source}: keys[${i}] is a symmetric (oct) key; only public RSA, EC and OKP keys are accepted`);
    }
    const secret = PRIVATE_MEMBERS.find((m) => m in k);
    if (secret) throw new Error(`${source}: keys[${i}] holds private key material ("${secret}"); publish only public keys`);
  }
  return doc;
}
async function fileKeySource(path3, reloadMs, log2) {
  const load = async () => checkJwks(JSON.parse(await readFile2(path3, "utf8")), path3);
  let current = createLocalJWKSet(await load());
  let mtime = (await stat2(path3)).mtimeMs;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      try {
        const now = (await stat2(path3)).mtimeMs;
        if (now === mtime) return;
        mtime = now;
        current = createLocalJWKSet(await load());
        log2.info({ path: path3 }, "jwks file reloaded");
      } catch (err) {
        log2.error({ path: path3, err: err.message }, "jwks file reload failed; keeping the previous keys");
      } finally {
        checking = false;
      }
    })();
  }, reloadMs);
  timer.unref();
  return {
    getKey: (header, token) => current(header, token),
    close: () => clearInterval(timer)
  };
}
async function remoteKeySource(url, opts, log2) {
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: opts.timeoutMs,
    cacheMaxAge: opts.cacheMaxAgeMs,
    cooldownDuration: opts.cooldownMs
  });
  const refresh = async (why) => {
    try {
      await remote.reload();
      const jwks = remote.jwks();
      if (jwks) checkJwks(jwks, url.href);
    } catch (err) {
      log2.warn({ url: url.href, why, err: err.message }, "jwks fetch failed");
    }
  };
  await refresh("start-up");
  const timer = setInterval(() => void refresh("refresh"), Math.max(1e3, opts.cacheMaxAgeMs / 2));
  timer.unref();
  return {
    getKey: async (header, token) => {
      const key = await remote(header, token);
      const jwks = remote.jwks();
      if (jwks) checkJwks(jwks, url.href);
      return key;
    },
    close: () => clearInterval(timer)
  };
}

// plugins/jwt-auth/index.ts
var ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
var MAX_TOKEN_LENGTH = 8192;
var Algorithm = z6.string().refine((a) => ASYMMETRIC_ALGORITHMS.includes(a), {
  message: `allowed algorithms are ${ASYMMETRIC_ALGORITHMS.join(", ")} (never "none", no HMAC)`
});
var OneOrMany = z6.union([z6.string().min(1), z6.array(z6.string().min(1)).min(1)]);
var Jwks = z6.union([
  z6.object({
    /** Path to a JWKS JSON file, relative to the gateway config. */
    file: z6.string().min(1),
    /** How often to check the file for changes. */
    reloadMs: z6.number().int().min(100).default(3e4)
  }).strict(),
  z6.object({
    url: z6.url({ protocol: /^https?$/ }),
    /** Must stay below the plugin instance's `timeoutMs` (default 200). */
    timeoutMs: z6.number().int().positive().default(150),
    cacheMaxAgeMs: z6.number().int().positive().default(6e5),
    /** An unknown `kid` refetches the set at most once per cooldown. */
    cooldownMs: z6.number().int().min(0).default(3e4)
  }).strict().refine((j) => j.url.startsWith("https:") || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(j.url), {
    message: "a JWKS URL must be https (plain http only on loopback)",
    path: ["url"]
  })
]);
var Options7 = z6.object({
  jwks: Jwks,
  issuer: OneOrMany,
  audience: OneOrMany,
  algorithms: z6.array(Algorithm).min(1).default(["RS256", "ES256"]),
  /** Tolerance for `exp` / `nbf` / `iat` against our clock. */
  clockSkewSec: z6.number().int().min(0).max(300).default(30),
  /** The claim that names the consumer. */
  consumerClaim: z6.string().min(1).default("sub"),
  /** Reject tokens issued (`iat`) longer ago than this. */
  maxTokenAgeSec: z6.number().int().positive().optional(),
  /** false: a request without a bearer JWT continues unauthenticated (for a later auth plugin). */
  required: z6.boolean().default(true),
  forwardCredentials: z6.boolean().default(false)
}).strict();
async function keySource(jwks, host) {
  if ("file" in jwks) return fileKeySource(resolve2(host.configDir, jwks.file), jwks.reloadMs, host.log);
  return remoteKeySource(new URL(jwks.url), { timeoutMs: jwks.timeoutMs, cacheMaxAgeMs: jwks.cacheMaxAgeMs, cooldownMs: jwks.cooldownMs }, host.log);
}
function rejection(err) {
  if (err instanceof errors.JWTExpired) return { status: 401, code: "token_expired", message: "The token has expired" };
  if (err instanceof errors.JWTClaimValidationFailed) {
    return { status: 401, code: "invalid_token", message: `The token's "${err.claim}" claim is not accepted (${err.reason.replace(/_/g, " ")})` };
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return { status: 401, code: "invalid_token", message: "The token is signed with an algorithm that is not allowed" };
  if (err instanceof errors.JWKSNoMatchingKey) return { status: 401, code: "invalid_token", message: "No key matches the token" };
  if (err instanceof errors.JWSSignatureVerificationFailed) return { status: 401, code: "invalid_token", message: "The token signature is invalid" };
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return { status: 503, code: "jwks_unavailable", message: "Cannot verify tokens right now; try again later" };
  }
  if (err instanceof errors.JOSEError) return { status: 401, code: "invalid_token", message: "The token is malformed or unsupported" };
  return { status: 503, code: "jwks_unavailable", message: "Cannot verify tokens right now; try again later" };
}
var jwt_auth_default = definePlugin({
  type: "jwt-auth",
  description: "JWT bearer tokens verified against a JWKS (file or URL); sets the consumer",
  options: Options7,
  async setup(options, host) {
    const keys = await keySource(options.jwks, host);
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockSkewSec,
      requiredClaims: ["exp", options.consumerClaim],
      ...options.maxTokenAgeSec !== void 0 ? { maxTokenAge: options.maxTokenAgeSec } : {}
    };
    return {
      async requestHeaders(ctx) {
        if (ctx.vars.consumer) return;
        const authorization = ctx.headers.get("authorization");
        const parsed = parseAuthorization(authorization);
        const isJwt = parsed?.scheme === "bearer" && looksLikeJwt(parsed.token);
        if (!isJwt) {
          if (!options.required) return;
          if (authorization === void 0) return unauthorized(ctx, "missing_token", 'A bearer token is required: send "Authorization: Bearer <JWT>"');
          return unauthorized(ctx, "invalid_token", 'Authorization must be "Bearer <JWT>"', "invalid_request");
        }
        const token = parsed.token;
        if (token.length > MAX_TOKEN_LENGTH) return unauthorized(ctx, "invalid_token", "The token is too long", "invalid_token");
        let payload;
        try {
          ({ payload } = await jwtVerify(token, keys.getKey, verifyOptions));
        } catch (err) {
          const r = rejection(err);
          ctx.log.info({ code: r.code, reason: err.message }, "jwt rejected");
          if (r.status === 503) return ctx.fail(503, r.message, { code: r.code, headers: { "retry-after": "5" } });
          return unauthorized(ctx, r.code, r.message, "invalid_token");
        }
        const id = payload[options.consumerClaim];
        if (typeof id !== "string" || !CONSUMER_ID.test(id)) {
          return unauthorized(ctx, "invalid_token", `The token's "${options.consumerClaim}" claim is not a valid consumer id`, "invalid_token");
        }
        authenticate(ctx, id, options.forwardCredentials);
        ctx.log.debug({ consumer: id }, "jwt accepted");
      },
      close() {
        keys.close();
      }
    };
  }
});

// plugins/model-access/index.ts
import { createHash as createHash3 } from "node:crypto";

// plugins/model-access/rules.ts
function globToRegExp(glob) {
  const body2 = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body2}$`);
}
function parseRule(entry) {
  const at = entry.indexOf("@");
  const model = at === -1 ? entry : entry.slice(0, at);
  const version = at === -1 ? void 0 : entry.slice(at + 1);
  return { source: entry, model: globToRegExp(model), version: version === void 0 ? void 0 : globToRegExp(version) };
}
function allowedVersions(rules, model) {
  const allowed = /* @__PURE__ */ new Set();
  for (const rule of rules) {
    if (!rule.model.test(model.name)) continue;
    for (const v of model.versions) if (!rule.version || rule.version.test(v)) allowed.add(v);
    if (!rule.version) continue;
    for (const [alias, target2] of Object.entries(model.aliases)) if (rule.version.test(alias)) allowed.add(target2);
  }
  return allowed;
}
function pickAllowed(model, allowed, roll) {
  const weights = Object.entries(model.traffic.weights ?? {}).filter(([v, w]) => allowed.has(v) && w > 0);
  const total = weights.reduce((s2, [, w]) => s2 + w, 0);
  if (total > 0) {
    let point = roll * total;
    for (const [v, w] of weights) {
      if (point < w) return v;
      point -= w;
    }
    return weights.at(-1)?.[0];
  }
  if (allowed.has(model.defaultVersion)) return model.defaultVersion;
  return model.versions.find((v) => allowed.has(v));
}

// plugins/model-access/index.ts
var Entry = z6.string().regex(/^[A-Za-z0-9_*?-]+(@[A-Za-z0-9_*?-]+)?$/, 'an entry is "model" or "model@version", with * and ? as wildcards');
var Options8 = z6.object({
  /** consumer id → allow-list of `model` / `model@version-or-alias` globs. */
  consumers: z6.record(z6.string().regex(CONSUMER_ID), z6.array(Entry)),
  /** Allow-list for authenticated consumers not listed above; empty denies them everything. */
  default: z6.array(Entry).default([])
}).strict();
var EXPLICIT = /* @__PURE__ */ new Set(["path", "header", "model"]);
function explicitVersion(route) {
  return route.reason !== void 0 && EXPLICIT.has(route.reason) || (route.reason?.startsWith("alias:") ?? false);
}
var model_access_default = definePlugin({
  type: "model-access",
  description: "Per-consumer allow-lists of models and versions/aliases (globs), checked after routing",
  options: Options8,
  setup(options) {
    const rules = new Map(Object.entries(options.consumers).map(([id, entries]) => [id, entries.map(parseRule)]));
    const fallback = options.default.map(parseRule);
    const check = (ctx) => {
      const consumer = ctx.vars.consumer;
      if (!consumer) return unauthorized(ctx, "missing_credentials", "Authentication is required");
      const modelName = ctx.route.model;
      const model = ctx.models.get(modelName);
      if (!model) return void 0;
      const allowed = allowedVersions(rules.get(consumer.id) ?? fallback, model);
      const deny = (message) => {
        ctx.log.info({ consumer: consumer.id, model: modelName, version: ctx.route.version }, "access denied");
        return ctx.fail(403, message, { code: "model_access_denied", param: ctx.request.protocol === "openai" ? "model" : void 0 });
      };
      if (allowed.size === 0) return deny(`Consumer '${consumer.id}' may not use model '${modelName}'`);
      const version = ctx.route.version;
      if (version !== void 0 && !allowed.has(version)) {
        if (explicitVersion(ctx.route)) return deny(`Consumer '${consumer.id}' may not use version '${version}' of model '${modelName}'`);
        const roll = ctx.route.reason === "sticky" ? stableRoll(consumer.id) : Math.random();
        const picked = pickAllowed(model, allowed, roll);
        if (picked === void 0) return deny(`Consumer '${consumer.id}' may not use model '${modelName}'`);
        ctx.setRoute(ctx.route.variant !== void 0 ? { version: picked, variant: model.traffic.variants?.[picked] ?? picked } : { version: picked });
      }
      dropVersionsNotAllowed(ctx, allowed);
      return void 0;
    };
    return {
      needs: { requestBody: (request) => request.protocol === "openai" },
      requestHeaders(ctx) {
        if (ctx.route.model !== void 0) return check(ctx);
        const target2 = ctx.request.target;
        if (target2?.model !== void 0) throw misplaced();
      },
      requestBody(ctx) {
        if (ctx.route.model === void 0) {
          if (ctx.request.protocol === "openai") throw misplaced();
          return;
        }
        return check(ctx);
      }
    };
  }
});
function dropVersionsNotAllowed(ctx, allowed) {
  const { fallback, shadow, version } = ctx.route;
  const dropFallback = fallback !== void 0 && (!allowed.has(fallback) || fallback === version);
  const dropShadow = shadow !== void 0 && !allowed.has(shadow);
  if (dropFallback || dropShadow) ctx.setRoute({ ...dropFallback ? { fallback: null } : {}, ...dropShadow ? { shadow: null } : {} });
}
function stableRoll(key) {
  return createHash3("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}
function misplaced() {
  return new Error("model-access ran before the model was resolved; place it after model-router");
}

// plugins/shared/contract.ts
function checkMethod(ctx, allowed) {
  const method = ctx.request.method.toUpperCase();
  if (allowed.includes(method)) return void 0;
  return ctx.fail(405, `Method ${method} is not allowed on ${ctx.request.pathname}; use ${allowed.join(" or ")}`, {
    code: "method_not_allowed",
    headers: { allow: allowed.join(", ") }
  });
}
function checkJsonContentType(ctx, headers2) {
  const value = headers2.get("content-type");
  if (value === void 0 || value.trim() === "") return void 0;
  const [type = "", ...params] = value.split(";").map((s2) => s2.trim().toLowerCase());
  const json = type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
  const charset = params.find((p) => p.startsWith("charset="))?.slice("charset=".length).replace(/"/g, "");
  if (json && (charset === void 0 || charset === "utf-8" || charset === "utf8")) return void 0;
  return ctx.fail(415, `Unsupported content type '${value.slice(0, 100)}'; send application/json (UTF-8)`, { code: "unsupported_media_type" });
}
function checkContentLength(ctx, headers2, maxBytes) {
  if (!ctx.request.hasBody) return ctx.fail(400, "A JSON request body is required", { code: "invalid_json" });
  const value = headers2.get("content-length");
  if (value === void 0) return void 0;
  if (!/^\d{1,15}$/.test(value)) return ctx.fail(400, "Invalid content-length", { code: "invalid_request" });
  const length = Number(value);
  if (length === 0) return ctx.fail(400, "A JSON request body is required", { code: "invalid_json" });
  if (length > maxBytes) return bodyTooLarge(ctx, length, maxBytes);
  return void 0;
}
function checkBodySize(ctx, maxBytes) {
  return ctx.body.length > maxBytes ? bodyTooLarge(ctx, ctx.body.length, maxBytes) : void 0;
}
function bodyTooLarge(ctx, length, maxBytes) {
  return ctx.fail(413, `Request body of ${length} bytes exceeds the limit of ${maxBytes} bytes`, { code: "request_too_large" });
}
var FORBIDDEN_KEYS = /* @__PURE__ */ new Set(["__proto__", "constructor", "prototype"]);
function findForbiddenKey(value) {
  const stack = [{ v: value, path: "" }];
  while (stack.length > 0) {
    const { v, path: path3 } = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (typeof item === "object" && item !== null) stack.push({ v: item, path: `${path3}[${i}]` });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path3 ? `${path3}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return at;
      const item = v[key];
      if (typeof item === "object" && item !== null) stack.push({ v: item, path: at });
    }
  }
  return void 0;
}
function checkObjectBody(ctx, maxBytes, wording) {
  const tooLarge = checkBodySize(ctx, maxBytes);
  if (tooLarge) return { ok: false, respond: tooLarge };
  const body2 = ctx.json();
  if (!isJsonObject(body2)) return { ok: false, respond: ctx.fail(400, wording.notObject, { code: "invalid_request" }) };
  const forbidden = findForbiddenKey(body2);
  if (forbidden) return { ok: false, respond: ctx.fail(400, wording.forbiddenKey(forbidden), { code: "forbidden_key", param: forbidden }) };
  return { ok: true, body: body2 };
}
function issuePath(path3) {
  let out = "";
  for (const part of path3) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
function valueAt(root, path3) {
  let v = root;
  for (const part of path3) {
    if (typeof v !== "object" || v === null) return void 0;
    v = v[part];
  }
  return v;
}
function describeIssue(issue, root) {
  const param = issuePath(issue.path) || void 0;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return { param: param ? `${param}.${key}` : key, code: "unknown_parameter", detail: `unrecognized field '${issue.keys.join("', '")}'` };
  }
  const absent = param !== void 0 && valueAt(root, issue.path) === void 0;
  if (absent && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
    return { param, code: "missing_required_parameter", detail: "required" };
  }
  return { param, code: issue.code === "invalid_type" ? "invalid_type" : "invalid_value", detail: issue.message };
}
function plainForbiddenKey(path3) {
  return `${path3}: this key is not allowed`;
}
function plainMessage(report) {
  return report.param ? `${report.param}: ${report.detail}` : `request body: ${report.detail}`;
}
function failFirstIssue(ctx, error, root) {
  const issue = describeIssue(error.issues[0], root);
  return ctx.fail(400, plainMessage(issue), { code: issue.code, param: issue.param });
}

// plugins/openai-validation/schemas.ts
import { z as z7 } from "zod";
var nullish = (t) => t.nullable().optional();
var int = () => z7.number().int();
var ROLES = ["system", "developer", "user", "assistant", "tool", "function"];
var Model = z7.string().min(1, "must not be empty").max(256);
var Temperature = nullish(z7.number().min(0).max(2));
var TopP = nullish(z7.number().min(0).max(1));
var N = nullish(int().min(1).max(128));
var MaxTokens = nullish(int().min(1));
var Penalty = nullish(z7.number().min(-2).max(2));
var Stop = nullish(z7.union([z7.string(), z7.array(z7.string()).max(4, "at most 4 stop sequences")], { error: "must be a string or an array of up to 4 strings" }));
var LogitBias = nullish(z7.record(z7.string().regex(/^\d+$/, "keys are token ids"), z7.number().min(-100).max(100)));
var StreamOptions = nullish(z7.object({ include_usage: nullish(z7.boolean()) }).loose());
var Metadata2 = nullish(z7.record(z7.string(), z7.string()));
var TextPart = z7.object({ type: z7.literal("text"), text: z7.string() }).loose();
var OtherPart = z7.object({ type: z7.string().min(1) }).loose().refine((p) => p.type !== "text", { message: 'a text part needs a string "text"' });
var ContentPart = z7.union([TextPart, OtherPart], { error: 'a content part is an object with a "type"' });
var Content = z7.union([z7.string(), z7.array(ContentPart).min(1)], { error: "must be a string or an array of content parts" });
var ToolCall = z7.object({
  id: z7.string().min(1),
  type: z7.string().min(1),
  function: z7.object({ name: z7.string().min(1), arguments: z7.string() }).loose().optional()
}).loose();
var Message = z7.object({
  role: z7.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
  content: nullish(Content),
  name: z7.string().min(1).max(256).optional(),
  tool_call_id: z7.string().min(1).optional(),
  tool_calls: z7.array(ToolCall).optional()
}).loose().superRefine((m, ctx) => {
  const hasContent = m.content !== void 0 && m.content !== null;
  if (m.role === "assistant") {
    if (!hasContent && !m.tool_calls?.length && !("function_call" in m) && !("refusal" in m)) {
      ctx.addIssue({ code: "custom", path: ["content"], message: "an assistant message needs content or tool_calls" });
    }
  } else if (!hasContent) {
    ctx.addIssue({ code: "invalid_type", expected: "string", path: ["content"], message: `a ${m.role} message needs content` });
  }
  if (m.role === "tool" && m.tool_call_id === void 0) {
    ctx.addIssue({ code: "invalid_type", expected: "string", path: ["tool_call_id"], message: "a tool message needs tool_call_id" });
  }
});
var Tool = z7.object({
  type: z7.string().min(1),
  function: z7.object({
    name: z7.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "function names are letters, digits, _ and -, at most 64"),
    description: z7.string().optional(),
    parameters: z7.record(z7.string(), z7.unknown()).optional()
  }).loose().optional()
}).loose();
var ToolChoice = nullish(
  z7.union([z7.enum(["none", "auto", "required"]), z7.object({ type: z7.string().min(1) }).loose()], {
    error: 'must be "none", "auto", "required" or an object naming a tool'
  })
);
var ResponseFormat = nullish(z7.object({ type: z7.enum(["text", "json_object", "json_schema"]) }).loose());
function streamOptionsNeedStream(body2, ctx) {
  if (body2.stream_options !== void 0 && body2.stream_options !== null && body2.stream !== true) {
    ctx.addIssue({ code: "custom", path: ["stream_options"], message: "only allowed when stream is true" });
  }
}
var ChatCompletionRequest = z7.object({
  model: Model,
  messages: z7.array(Message).min(1, "must contain at least one message"),
  temperature: Temperature,
  top_p: TopP,
  n: N,
  max_tokens: MaxTokens,
  max_completion_tokens: MaxTokens,
  stream: nullish(z7.boolean()),
  stream_options: StreamOptions,
  stop: Stop,
  presence_penalty: Penalty,
  frequency_penalty: Penalty,
  logit_bias: LogitBias,
  logprobs: nullish(z7.boolean()),
  top_logprobs: nullish(int().min(0).max(20)),
  seed: nullish(int()),
  user: z7.string().max(512).optional(),
  tools: z7.array(Tool).max(128).optional(),
  tool_choice: ToolChoice,
  parallel_tool_calls: nullish(z7.boolean()),
  response_format: ResponseFormat,
  metadata: Metadata2,
  store: nullish(z7.boolean())
}).superRefine(streamOptionsNeedStream);
var TokenIds = z7.array(int().min(0)).min(1);
var Prompt = z7.union([z7.string(), z7.array(z7.string()).min(1), TokenIds, z7.array(TokenIds).min(1)], {
  error: "must be a string, an array of strings, an array of token ids, or an array of token-id arrays"
});
var CompletionRequest = z7.object({
  model: Model,
  prompt: Prompt,
  suffix: nullish(z7.string()),
  max_tokens: MaxTokens,
  temperature: Temperature,
  top_p: TopP,
  n: N,
  best_of: nullish(int().min(1).max(20)),
  stream: nullish(z7.boolean()),
  stream_options: StreamOptions,
  logprobs: nullish(int().min(0).max(5)),
  echo: nullish(z7.boolean()),
  stop: Stop,
  presence_penalty: Penalty,
  frequency_penalty: Penalty,
  logit_bias: LogitBias,
  seed: nullish(int()),
  user: z7.string().max(512).optional()
}).superRefine(streamOptionsNeedStream).superRefine((b, ctx) => {
  if (b.best_of != null && b.n != null && b.best_of < b.n) {
    ctx.addIssue({ code: "custom", path: ["best_of"], message: "must be greater than or equal to n" });
  }
});
var EmbeddingRequest = z7.object({
  model: Model,
  input: z7.union(
    [z7.string().min(1), z7.array(z7.string().min(1)).min(1).max(2048), TokenIds, z7.array(TokenIds).min(1).max(2048)],
    { error: "must be a non-empty string, an array of up to 2048 non-empty strings, or token ids" }
  ),
  encoding_format: z7.enum(["float", "base64"]).optional(),
  dimensions: int().min(1).optional(),
  user: z7.string().max(512).optional()
});
var schemas = {
  "chat/completions": ChatCompletionRequest,
  completions: CompletionRequest,
  embeddings: EmbeddingRequest
};

// plugins/openai-validation/index.ts
var WORDING = {
  notObject: "The request body must be a JSON object",
  forbiddenKey: (path3) => `Invalid '${path3}': this key is not allowed`
};
var Options9 = z6.object({
  /** Largest request body accepted on OpenAI endpoints (Envoy's own limit still applies above it). */
  maxBodyBytes: z6.number().int().positive().default(4 * 1024 * 1024)
}).strict();
function actionOf(request) {
  return request.protocol === "openai" ? request.target?.action : void 0;
}
function openAiMessage(issue) {
  if (issue.code === "missing_required_parameter") return `Missing required parameter: '${issue.param}'.`;
  if (issue.code === "unknown_parameter") return `Unrecognized request argument supplied: ${issue.param}`;
  return issue.param ? `Invalid '${issue.param}': ${issue.detail}` : `Invalid request body: ${issue.detail}`;
}
var isInference = (action) => action !== void 0 && action in schemas;
var openai_validation_default = definePlugin({
  type: "openai-validation",
  description: "OpenAI chat/completions/embeddings request validation (method, content type, size, schema)",
  options: Options9,
  protocols: ["openai"],
  setup(options) {
    return {
      needs: { requestBody: (request) => isInference(actionOf(request)) },
      requestHeaders(ctx) {
        const action = actionOf(ctx.request);
        if (action === void 0) return;
        if (!isInference(action)) return checkMethod(ctx, ["GET"]);
        return checkMethod(ctx, ["POST"]) ?? checkJsonContentType(ctx, ctx.headers) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
      },
      requestBody(ctx) {
        const action = actionOf(ctx.request);
        if (!isInference(action)) return;
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING);
        if (!checked.ok) return checked.respond;
        const body2 = checked.body;
        const result = schemas[action].safeParse(body2);
        if (result.success) return;
        const issue = describeIssue(result.error.issues[0], body2);
        return ctx.fail(400, openAiMessage(issue), { code: issue.code, param: issue.param });
      }
    };
  }
});

// plugins/kserve-v2-validation/binary.ts
import { z as z11 } from "zod";

// plugins/shared/signature.ts
import { z as z9 } from "zod";

// plugins/shared/metadata.ts
import { z as z8 } from "zod";
var MetadataOptions = z8.object({
  fetch: z8.boolean().default(false),
  timeoutMs: z8.number().int().positive().default(1e3),
  refreshMs: z8.number().int().min(1e3).default(6e4)
}).strict().prefault({});
function metadataTargets(models, protocol) {
  return models.names().map((n2) => models.get(n2)).filter((m) => m?.protocol === protocol).flatMap((m) => Object.entries(m?.endpoints ?? {}).map(([version, eps]) => ({ model: m?.name, version, endpoint: eps[0] }))).filter((t) => t.endpoint !== void 0);
}
var shared = /* @__PURE__ */ new WeakMap();
function acquire(target2, opts, log2, reader) {
  const r = reader;
  let polls = shared.get(r);
  if (!polls) shared.set(r, polls = /* @__PURE__ */ new Map());
  const key = `${target2.endpoint} ${target2.model}@${target2.version}`;
  let poll = polls.get(key);
  if (!poll) {
    const { model, version, endpoint: endpoint2 } = target2;
    const url = `http://${endpoint2}${reader.path(model, version)}`;
    const state = { value: void 0, failing: false, users: 0, first: Promise.resolve(), timer: void 0 };
    const fetchOne = async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        state.value = reader.parse(await res.json());
        if (state.failing) log2.info({ model, version }, "model metadata available again");
        state.failing = false;
      } catch (err) {
        if (state.failing) return;
        state.failing = true;
        const checked = state.value !== void 0 ? "checking against the last signature read" : "signature not checked";
        log2.warn({ model, version, url, err: err.message }, `model metadata unavailable; ${checked}`);
      }
    };
    state.first = fetchOne();
    state.timer = setInterval(() => void fetchOne(), opts.refreshMs);
    state.timer.unref();
    polls.set(key, poll = state);
  }
  poll.users++;
  const p = poll;
  let released = false;
  return {
    poll: p,
    release() {
      if (released) return;
      released = true;
      if (--p.users > 0) return;
      clearInterval(p.timer);
      polls.delete(key);
    }
  };
}
async function pollMetadata(targets, opts, log2, reader) {
  const held = /* @__PURE__ */ new Map();
  for (const t of targets) held.set(`${t.model}@${t.version}`, acquire(t, opts, log2, reader));
  await Promise.all([...held.values()].map((h) => h.poll.first));
  return {
    get: (m, v) => held.get(`${m}@${v}`)?.poll.value,
    close: () => held.forEach((h) => h.release())
  };
}

// plugins/shared/signature.ts
var SignatureKey = z9.string().regex(/^[a-z0-9][a-z0-9_-]*(@[A-Za-z0-9_-]+)?$/, "must be a model name or model@version");
var SignatureShape = z9.array(z9.number().int().min(-1));
function shapeFits(spec, shape) {
  return spec.length === shape.length && spec.every((d, k) => d === -1 || d === shape[k]);
}
var shapeText = (shape) => `[${shape.join(", ")}]`;
async function signatureSource(declared, metadata, host, protocol, reader) {
  let fetched;
  if (metadata.fetch) fetched = await pollMetadata(metadataTargets(host.models, protocol), metadata, host.log, reader);
  const own = (key) => Object.hasOwn(declared, key) ? declared[key] : void 0;
  return {
    get: (model, version) => (version !== void 0 ? own(`${model}@${version}`) : void 0) ?? own(model) ?? (version !== void 0 ? fetched?.get(model, version) : void 0),
    close: () => fetched?.close()
  };
}

// plugins/kserve-v2-validation/tensor.ts
import { z as z10 } from "zod";

// plugins/shared/elements.ts
var DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];
var intRange = (min, max) => (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
var floatRange = (limit) => (v) => typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= limit;
var ELEMENT = {
  BOOL: { check: (v) => typeof v === "boolean", expected: "booleans" },
  UINT8: { check: intRange(0, 255), expected: "integers in 0..255" },
  UINT16: { check: intRange(0, 65535), expected: "integers in 0..65535" },
  UINT32: { check: intRange(0, 4294967295), expected: "integers in 0..4294967295" },
  UINT64: { check: intRange(0, 2 ** 64), expected: "integers in 0..2^64-1" },
  INT8: { check: intRange(-128, 127), expected: "integers in -128..127" },
  INT16: { check: intRange(-32768, 32767), expected: "integers in -32768..32767" },
  INT32: { check: intRange(-2147483648, 2147483647), expected: "integers in -2^31..2^31-1" },
  INT64: { check: intRange(-(2 ** 63), 2 ** 63), expected: "integers in -2^63..2^63-1" },
  FP16: { check: floatRange(65504), expected: "finite numbers within FP16 range" },
  FP32: { check: floatRange(34028234663852886e22), expected: "finite numbers within FP32 range" },
  FP64: { check: floatRange(Number.MAX_VALUE), expected: "finite numbers" },
  BYTES: { check: (v) => typeof v === "string", expected: "strings" }
};
function describeElement(v) {
  if (v === null) return "null";
  if (typeof v === "number" && !Number.isFinite(v)) return "a non-finite number";
  return JSON.stringify(v)?.slice(0, 40) ?? typeof v;
}

// plugins/kserve-v2-validation/tensor.ts
var Datatype = z10.enum(DATATYPES, { error: `must be one of ${DATATYPES.join(", ")}` });
var Parameters = z10.record(z10.string(), z10.unknown());
var MAX_RANK = 32;
var InferInput = z10.object({
  name: z10.string().min(1, "must not be empty").max(256),
  shape: z10.array(z10.number().int("must be integers").min(0, "must not be negative")).max(MAX_RANK),
  datatype: Datatype,
  parameters: Parameters.optional(),
  data: z10.array(z10.unknown(), { error: "must be an array (flat or nested, row-major)" })
}).loose();
var InferRequest = z10.object({
  id: z10.string().max(256).optional(),
  parameters: Parameters.optional(),
  inputs: z10.array(InferInput).min(1, "must contain at least one input"),
  outputs: z10.array(z10.object({ name: z10.string().min(1), parameters: Parameters.optional() }).loose()).optional()
}).loose();
function checkTensorData(input, where) {
  const { check, expected } = ELEMENT[input.datatype];
  let count2 = 0;
  const stack = [input.data];
  const index = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const arr = stack[top];
    const i = index[top];
    if (i >= arr.length) {
      stack.pop();
      index.pop();
      continue;
    }
    index[top] = i + 1;
    const v = arr[i];
    if (Array.isArray(v)) {
      if (stack.length > MAX_RANK) return { param: `${where}.data`, message: `${where}.data: nested deeper than ${MAX_RANK} levels` };
      stack.push(v);
      index.push(0);
      continue;
    }
    if (!check(v)) {
      return { param: `${where}.data`, message: `${where}.data: datatype ${input.datatype} needs ${expected}; element ${count2} is ${describeElement(v)}` };
    }
    count2++;
  }
  const expectedCount = input.shape.reduce((a, b) => a * b, 1);
  if (count2 !== expectedCount) {
    return {
      param: `${where}.data`,
      message: `${where}.data: shape [${input.shape.join(", ")}] needs ${expectedCount} elements, data has ${count2}`
    };
  }
  return void 0;
}

// plugins/kserve-v2-validation/binary.ts
var BINARY_HEADER = "inference-header-content-length";
var BinaryMode = z11.enum(["refuse", "accept"]);
var BinaryDataOptions = z11.object({ default: BinaryMode.default("refuse"), models: z11.record(SignatureKey, BinaryMode).default({}) }).strict().prefault({});
function binaryModeFor(opts, model, version) {
  const own = (key) => Object.hasOwn(opts.models, key) ? opts.models[key] : void 0;
  if (model === void 0) return opts.default;
  return (version !== void 0 ? own(`${model}@${version}`) : void 0) ?? own(model) ?? opts.default;
}
var ELEMENT_BYTES = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8
};
var BinaryInferRequest = InferRequest.extend({ inputs: z11.array(InferInput.extend({ data: InferInput.shape.data.optional() })).min(1, "must contain at least one input") });
function headerLength(value, contentLength) {
  const n2 = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n2) || contentLength !== void 0 && n2 > contentLength) {
    return { param: BINARY_HEADER, message: `${BINARY_HEADER}: must be the byte length of the JSON header (at most the body's length), got '${value.slice(0, 40)}'` };
  }
  return n2;
}
function countBytesElements(bytes2) {
  let at = 0;
  let count2 = 0;
  while (at < bytes2.length) {
    if (at + 4 > bytes2.length) return void 0;
    at += 4 + bytes2.readUInt32LE(at);
    count2++;
  }
  return at === bytes2.length ? count2 : void 0;
}
function checkBinaryTensors(request, binary) {
  let at = 0;
  for (const [i, input] of request.inputs.entries()) {
    const where = `inputs[${i}]`;
    const size = input.parameters?.binary_data_size;
    if (size === void 0) {
      if (input.data === void 0) return { param: `${where}.data`, message: `${where}: needs data or parameters.binary_data_size` };
      const problem = checkTensorData({ ...input, data: input.data }, where);
      if (problem) return problem;
      continue;
    }
    if (input.data !== void 0) return { param: `${where}.data`, message: `${where}: has both data and parameters.binary_data_size` };
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      return { param: `${where}.parameters.binary_data_size`, message: `${where}.parameters.binary_data_size: must be a non-negative integer` };
    }
    if (at + size > binary.length) {
      return { param: `${where}.parameters.binary_data_size`, message: `${where}.parameters.binary_data_size: ${size} bytes, but only ${binary.length - at} bytes of binary data are left` };
    }
    const elements = input.shape.reduce((a, b) => a * b, 1);
    const bytes2 = binary.subarray(at, at + size);
    at += size;
    if (input.datatype === "BYTES") {
      const count2 = countBytesElements(bytes2);
      if (count2 !== elements) return { param: `${where}.parameters.binary_data_size`, message: `${where}: shape [${input.shape.join(", ")}] needs ${elements} length-prefixed BYTES elements, the binary data holds ${count2 ?? "no whole number of"}` };
    } else if (size !== elements * ELEMENT_BYTES[input.datatype]) {
      return {
        param: `${where}.parameters.binary_data_size`,
        message: `${where}.parameters.binary_data_size: shape [${input.shape.join(", ")}] of ${input.datatype} is ${elements * ELEMENT_BYTES[input.datatype]} bytes, not ${size}`
      };
    }
  }
  if (at !== binary.length) return { param: BINARY_HEADER, message: `${binary.length - at} bytes of binary data after the last binary input` };
  return void 0;
}

// plugins/kserve-v2-validation/signature.ts
import { z as z12 } from "zod";
var TensorSpec = z12.object({
  name: z12.string().min(1),
  datatype: z12.enum(DATATYPES),
  /** -1 is a wildcard dimension (e.g. the batch). */
  shape: SignatureShape,
  /** Inputs a request may leave out. */
  optional: z12.boolean().default(false)
}).strict();
var Signature = z12.object({
  inputs: z12.array(TensorSpec).min(1),
  outputs: z12.array(z12.object({ name: z12.string().min(1) }).loose()).optional()
}).strict();
var Metadata3 = z12.object({
  inputs: z12.array(z12.object({ name: z12.string().min(1), datatype: z12.enum(DATATYPES), shape: SignatureShape }).loose()).min(1),
  outputs: z12.array(z12.object({ name: z12.string().min(1) }).loose()).optional()
}).loose();
var V2_METADATA = {
  path: (model, version) => `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`,
  parse(json) {
    const meta = Metadata3.parse(json);
    const outputs = meta.outputs !== void 0 && meta.outputs.length > 0 ? meta.outputs : void 0;
    return { inputs: meta.inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape, optional: false })), outputs };
  }
};
function checkSignature(request, sig, model) {
  const specs = new Map(sig.inputs.map((s2) => [s2.name, s2]));
  for (const [i, input] of request.inputs.entries()) {
    const where = `inputs[${i}]`;
    const spec = specs.get(input.name);
    if (!spec) {
      return { param: `${where}.name`, message: `${where}.name: model '${model}' has no input '${input.name}' (inputs: ${[...specs.keys()].join(", ")})` };
    }
    if (spec.datatype !== input.datatype) {
      return { param: `${where}.datatype`, message: `${where}.datatype: input '${input.name}' is ${spec.datatype}, not ${input.datatype}` };
    }
    if (!shapeFits(spec.shape, input.shape)) {
      return {
        param: `${where}.shape`,
        message: `${where}.shape: input '${input.name}' has shape ${shapeText(spec.shape)} (-1 = any); got ${shapeText(input.shape)}`
      };
    }
  }
  const given = new Set(request.inputs.map((x) => x.name));
  const missing = sig.inputs.find((s2) => !s2.optional && !given.has(s2.name));
  if (missing) return { param: "inputs", message: `inputs: missing input '${missing.name}' required by model '${model}'` };
  if (sig.outputs && request.outputs) {
    const outputs = new Set(sig.outputs.map((o) => o.name));
    for (const [i, o] of request.outputs.entries()) {
      if (!outputs.has(o.name)) {
        return { param: `outputs[${i}].name`, message: `outputs[${i}].name: model '${model}' has no output '${o.name}' (outputs: ${[...outputs].join(", ")})` };
      }
    }
  }
  return void 0;
}

// plugins/kserve-v2-validation/index.ts
var WORDING2 = {
  notObject: 'The request body must be a JSON object with "inputs"',
  forbiddenKey: plainForbiddenKey
};
var Options10 = z6.object({
  maxBodyBytes: z6.number().int().positive().default(4 * 1024 * 1024),
  /** Declared signatures by `model` or `model@version` (the more specific wins over metadata). */
  signatures: z6.record(SignatureKey, Signature).default({}),
  /** Read signatures of V2 models from their model servers' metadata endpoint. */
  metadata: MetadataOptions,
  /** The binary tensor extension (`Inference-Header-Content-Length`): `refuse` (415) or `accept` (checked, passed on). */
  binaryData: BinaryDataOptions
}).strict();
var actionOf2 = (request) => request.protocol === "kserve-v2" ? request.target?.action : void 0;
function targetOf(ctx) {
  if (ctx.route.model !== void 0) return ctx.route;
  const t = ctx.request.protocol === "kserve-v2" ? ctx.request.target : void 0;
  return { model: t?.model, version: t?.version };
}
var utf82 = new TextDecoder("utf-8", { fatal: true });
var kserve_v2_validation_default = definePlugin({
  type: "kserve-v2-validation",
  description: "KServe V2 infer validation: tensors, datatypes, shapes, model signatures",
  options: Options10,
  protocols: ["kserve-v2"],
  async setup(options, host) {
    const signatures = await signatureSource(options.signatures, options.metadata, host, "kserve-v2", V2_METADATA);
    function checkBinaryBody(ctx, jsonLength) {
      const tooLarge = checkBodySize(ctx, options.maxBodyBytes);
      if (tooLarge) return tooLarge;
      if (jsonLength > ctx.body.length) return ctx.fail(400, `${BINARY_HEADER}: ${jsonLength} is longer than the body (${ctx.body.length} bytes)`, { code: "invalid_request", param: BINARY_HEADER });
      let header;
      try {
        header = JSON.parse(utf82.decode(ctx.body.subarray(0, jsonLength)));
      } catch (err) {
        return ctx.fail(400, `the JSON header (first ${jsonLength} bytes) is not valid JSON: ${err.message}`, { code: "invalid_json" });
      }
      const forbidden = findForbiddenKey(header);
      if (forbidden) return ctx.fail(400, WORDING2.forbiddenKey(forbidden), { code: "forbidden_key", param: forbidden });
      const parsed = BinaryInferRequest.safeParse(header);
      if (!parsed.success) return failFirstIssue(ctx, parsed.error, header);
      const names = /* @__PURE__ */ new Set();
      for (const [i, input] of parsed.data.inputs.entries()) {
        if (names.has(input.name)) return ctx.fail(400, `inputs[${i}].name: duplicate input '${input.name}'`, { code: "invalid_value", param: `inputs[${i}].name` });
        names.add(input.name);
      }
      const problem = checkBinaryTensors(parsed.data, ctx.body.subarray(jsonLength));
      if (problem) return ctx.fail(400, problem.message, { code: "invalid_tensor", param: problem.param });
      return checkAgainstSignature(ctx, parsed.data);
    }
    function checkAgainstSignature(ctx, request) {
      const model = ctx.route.model;
      const signature = model === void 0 ? void 0 : signatures.get(model, ctx.route.version);
      if (signature && model !== void 0) {
        const problem = checkSignature(request, signature, model);
        if (problem) return ctx.fail(400, problem.message, { code: "signature_mismatch", param: problem.param });
      }
      return void 0;
    }
    return {
      needs: { requestBody: (request) => actionOf2(request) === "infer" },
      requestHeaders(ctx) {
        const action = actionOf2(ctx.request);
        if (action === void 0) return;
        if (action !== "infer") return checkMethod(ctx, ["GET"]);
        const binary = ctx.headers.get(BINARY_HEADER);
        if (binary === void 0) {
          return checkMethod(ctx, ["POST"]) ?? checkJsonContentType(ctx, ctx.headers) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
        }
        const { model, version } = targetOf(ctx);
        if (binaryModeFor(options.binaryData, model, version) === "refuse") {
          return ctx.fail(
            415,
            `The binary tensor data extension (${BINARY_HEADER}) is not enabled for model '${model ?? ""}' at this gateway; send JSON tensors (tritonclient: binary_data=False)`,
            { code: "binary_extension_not_enabled" }
          );
        }
        const declared = ctx.headers.get("content-length");
        const length = headerLength(binary, declared === void 0 ? void 0 : Number(declared));
        if (typeof length !== "number") return ctx.fail(400, length.message, { code: "invalid_request", param: length.param });
        return checkMethod(ctx, ["POST"]) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
      },
      requestBody(ctx) {
        if (actionOf2(ctx.request) !== "infer") return;
        const binary = ctx.headers.get(BINARY_HEADER);
        if (binary !== void 0) return checkBinaryBody(ctx, Number(binary));
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING2);
        if (!checked.ok) return checked.respond;
        const body2 = checked.body;
        const parsed = InferRequest.safeParse(body2);
        if (!parsed.success) return failFirstIssue(ctx, parsed.error, body2);
        const request = parsed.data;
        const names = /* @__PURE__ */ new Set();
        for (const [i, input] of request.inputs.entries()) {
          if (names.has(input.name)) return ctx.fail(400, `inputs[${i}].name: duplicate input '${input.name}'`, { code: "invalid_value", param: `inputs[${i}].name` });
          names.add(input.name);
          if (input.parameters && "binary_data_size" in input.parameters) {
            return ctx.fail(415, `inputs[${i}]: parameters.binary_data_size is binary tensor data; it needs the binary extension's ${BINARY_HEADER} header`, { code: "unsupported_media_type" });
          }
          const problem = checkTensorData(input, `inputs[${i}]`);
          if (problem) return ctx.fail(400, problem.message, { code: "invalid_tensor", param: problem.param });
        }
        return checkAgainstSignature(ctx, request);
      },
      close() {
        signatures.close();
      }
    };
  }
});

// plugins/tfserving-validation/signature.ts
import { z as z13 } from "zod";

// plugins/tfserving-validation/tensor.ts
function isB64(v) {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === "b64" && typeof v.b64 === "string";
}
var isNamedInstance = (v) => typeof v === "object" && v !== null && !Array.isArray(v) && !isB64(v);
function leafKind(v) {
  if (v === null) return "null";
  if (isB64(v)) return "b64";
  return typeof v;
}
function walkTensor(value, leafOk) {
  const dims = [];
  let level = [value];
  for (; ; ) {
    const lists = level.reduce((n2, v) => n2 + (Array.isArray(v) ? 1 : 0), 0);
    if (lists === 0) break;
    if (lists !== level.length) return { ok: false, problem: "ragged" };
    const length = level[0].length;
    if (level.some((v) => v.length !== length)) return { ok: false, problem: "ragged" };
    dims.push(length);
    level = level.flat(1);
  }
  const kinds = /* @__PURE__ */ new Set();
  for (let i = 0; i < level.length; i++) {
    const v = level[i];
    if (leafOk && !leafOk(v)) return { ok: false, problem: "element", index: indexOf(i, dims), value: v };
    kinds.add(leafKind(v));
  }
  return { ok: true, dims, kinds: [...kinds] };
}
function indexOf(i, dims) {
  const index = new Array(dims.length);
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k];
    index[k] = i % d;
    i = Math.floor(i / d);
  }
  return index;
}

// plugins/tfserving-validation/signature.ts
var TF_DTYPES = {
  DT_FLOAT: "FP32",
  DT_DOUBLE: "FP64",
  DT_INT8: "INT8",
  DT_INT16: "INT16",
  DT_INT32: "INT32",
  DT_INT64: "INT64",
  DT_UINT8: "UINT8",
  DT_UINT32: "UINT32",
  DT_UINT64: "UINT64",
  DT_BOOL: "BOOL",
  DT_STRING: "BYTES"
};
var DTYPE_NAMES = Object.keys(TF_DTYPES);
var STRING_RULE = { check: (v) => typeof v === "string" || isB64(v), expected: 'strings or {"b64": "..."} objects' };
function elementRule(dtype) {
  if (dtype === "DT_STRING") return STRING_RULE;
  return Object.hasOwn(TF_DTYPES, dtype) ? ELEMENT[TF_DTYPES[dtype]] : void 0;
}
var TfSignaturesConfig = z13.record(
  z13.string().min(1),
  z13.object({
    inputs: z13.record(
      z13.string().min(1),
      z13.object({
        dtype: z13.enum(DTYPE_NAMES, { error: `must be one of ${DTYPE_NAMES.join(", ")}` }),
        shape: SignatureShape.optional()
      }).strict()
    ).refine((inputs) => Object.keys(inputs).length > 0, "must declare at least one input")
  }).strict()
);
var TensorInfo = z13.object({
  dtype: z13.string(),
  tensor_shape: z13.object({
    dim: z13.array(z13.object({ size: z13.union([z13.string().regex(/^-?\d+$/), z13.number().int()]) }).loose()).default([]),
    unknown_rank: z13.boolean().default(false)
  }).loose().optional()
}).loose();
var Metadata4 = z13.object({
  metadata: z13.object({
    signature_def: z13.object({ signature_def: z13.record(z13.string(), z13.object({ inputs: z13.record(z13.string(), TensorInfo).default({}) }).loose()) }).loose()
  }).loose()
}).loose();
var TF_METADATA = {
  path: (model, version) => `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/metadata`,
  parse(json) {
    const defs = Metadata4.parse(json).metadata.signature_def.signature_def;
    const specOf = (info) => {
      const shape = info.tensor_shape;
      return { dtype: info.dtype, shape: shape === void 0 || shape.unknown_rank ? void 0 : shape.dim.map((d) => Number(d.size)) };
    };
    return Object.fromEntries(
      Object.entries(defs).map(([name, def]) => [name, { inputs: Object.fromEntries(Object.entries(def.inputs).map(([input, info]) => [input, specOf(info)])) }])
    );
  }
};

// plugins/tfserving-validation/predict.ts
var DEFAULT_SIGNATURE = "serving_default";
var mismatch = (param, message) => ({ code: "signature_mismatch", param, message: `${param}: ${message}` });
function checkPredict(body2, signatures, model) {
  const name = body2.signature_name || DEFAULT_SIGNATURE;
  if (!Object.hasOwn(signatures, name)) {
    const known = Object.keys(signatures).sort().join(", ");
    return { code: "unknown_signature", param: "signature_name", message: `signature_name: model '${model}' has no signature '${name}' (signatures: ${known})` };
  }
  const inputs = signatures[name].inputs;
  const target2 = { inputs, names: Object.keys(inputs), about: `model '${model}' (signature '${name}')` };
  return body2.instances !== void 0 ? checkRows(body2.instances, target2) : checkColumns(body2.inputs, target2);
}
function checkRows(instances, t) {
  for (const [i, instance] of instances.entries()) {
    const where = `instances[${i}]`;
    const problem = isNamedInstance(instance) ? checkNamed(instance, t, where, true) : checkUnnamed(instance, t, where, "each instance", true);
    if (problem) return problem;
  }
  for (const name of t.names) {
    const shape = t.inputs[name]?.shape;
    const batch = shape?.[0];
    if (shape !== void 0 && batch !== void 0 && batch !== -1 && batch !== instances.length) {
      return mismatch("instances", `input '${name}' has shape ${shapeText(shape)}, a batch of exactly ${batch}; got ${instances.length} instances`);
    }
  }
  return void 0;
}
function checkColumns(inputs, t) {
  if (isNamedInstance(inputs)) return checkNamed(inputs, t, "inputs", false);
  return checkUnnamed(inputs, t, "inputs", '"inputs"', false);
}
function checkUnnamed(value, t, where, what, row) {
  const only = t.names.length === 1 ? t.names[0] : void 0;
  if (only === void 0) {
    return mismatch(where, `${t.about} has ${t.names.length} inputs (${t.names.join(", ")}); ${what} must be an object keyed by input name`);
  }
  return checkValue(value, only, t.inputs[only], where, row);
}
function checkNamed(obj, t, where, row) {
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(t.inputs, key)) return mismatch(`${where}.${key}`, `${t.about} has no input '${key}' (inputs: ${t.names.join(", ")})`);
  }
  const missing = t.names.find((n2) => !Object.hasOwn(obj, n2));
  if (missing !== void 0) return mismatch(where, `missing input '${missing}' required by ${t.about}`);
  for (const name of t.names) {
    const problem = checkValue(obj[name], name, t.inputs[name], `${where}.${name}`, row);
    if (problem) return problem;
  }
  return void 0;
}
function checkValue(value, name, spec, where, row) {
  const rule = elementRule(spec.dtype);
  const walk = walkTensor(value, rule?.check);
  if (!walk.ok && walk.problem === "ragged") return mismatch(where, `ragged nested lists; input '${name}' is a dense tensor`);
  if (!walk.ok) {
    const at = walk.index.length > 0 ? `element ${shapeText(walk.index)}` : "the value";
    return mismatch(where, `input '${name}' is ${spec.dtype}, which takes ${rule?.expected}; ${at} is ${describeElement(walk.value)}`);
  }
  const shape = spec.shape;
  if (shape === void 0) return void 0;
  if (!row) {
    return shapeFits(shape, walk.dims) ? void 0 : mismatch(where, `input '${name}' has shape ${shapeText(shape)} (-1 = any); got ${shapeText(walk.dims)}`);
  }
  if (shape.length === 0) {
    return mismatch(where, `input '${name}' is a scalar (shape []), which the row format cannot batch; send it in "inputs" (columnar format)`);
  }
  const each = shape.slice(1);
  if (shapeFits(each, walk.dims)) return void 0;
  return mismatch(where, `input '${name}' has shape ${shapeText(shape)} (-1 = any), so each instance is ${shapeText(each)}; got ${shapeText(walk.dims)}`);
}

// plugins/tfserving-validation/schemas.ts
import { z as z14 } from "zod";
var SignatureName = z14.string().max(256).optional();
var PredictRequest = z14.object({
  signature_name: SignatureName,
  instances: z14.array(z14.unknown()).min(1, "must contain at least one instance").optional(),
  inputs: z14.unknown().optional()
}).loose().superRefine((b, ctx) => {
  const hasInstances = b.instances !== void 0;
  const hasInputs = b.inputs !== void 0;
  if (hasInstances && hasInputs) {
    ctx.addIssue({ code: "custom", path: ["inputs"], message: 'send either "instances" (row format) or "inputs" (columnar format), not both' });
  } else if (!hasInstances && !hasInputs) {
    ctx.addIssue({ code: "custom", path: ["instances"], message: 'required: send "instances" (row format) or "inputs" (columnar format)' });
  } else if (hasInputs && b.inputs === null) {
    ctx.addIssue({ code: "custom", path: ["inputs"], message: "must not be null" });
  }
});
var ExamplesRequest = z14.object({
  signature_name: SignatureName,
  context: z14.record(z14.string(), z14.unknown()).optional(),
  examples: z14.array(z14.record(z14.string(), z14.unknown(), { error: "each example is an object of features" })).min(1, "must contain at least one example")
}).loose();
function structureOf(value, where) {
  const walk = walkTensor(value);
  if (!walk.ok) return { param: where, message: `${where}: ragged nested lists` };
  const kinds = [...new Set(walk.kinds.map((k) => k === "b64" ? "string" : k))];
  if (kinds.length > 1) return { param: where, message: `${where}: mixes element types (${kinds.join(", ")})` };
  return { dims: walk.dims, kind: kinds[0] ?? "empty" };
}
var isProblem = (s2) => "message" in s2;
var structureText = (s2) => `[${s2.dims.join(", ")}] of ${s2.kind}`;
var sameStructure = (a, b) => a.kind === b.kind && a.dims.join() === b.dims.join();
function checkInstances(instances) {
  const first = instances[0];
  if (isNamedInstance(first)) {
    const keys = Object.keys(first).sort().join();
    const base2 = /* @__PURE__ */ new Map();
    for (const [i, inst] of instances.entries()) {
      if (!isNamedInstance(inst) || Object.keys(inst).sort().join() !== keys) {
        return { param: `instances[${i}]`, message: `instances[${i}]: every instance must name the same inputs as instances[0] (${keys})` };
      }
      for (const [name, v] of Object.entries(inst)) {
        const where = `instances[${i}].${name}`;
        const s2 = structureOf(v, where);
        if (isProblem(s2)) return s2;
        const b = base2.get(name);
        if (!b) base2.set(name, s2);
        else if (!sameStructure(s2, b)) {
          return { param: where, message: `${where}: every instance must give '${name}' the shape of instances[0] (${structureText(b)}); got ${structureText(s2)}` };
        }
      }
    }
    return void 0;
  }
  const base = structureOf(first, "instances[0]");
  if (isProblem(base)) return base;
  for (let i = 1; i < instances.length; i++) {
    const where = `instances[${i}]`;
    const s2 = isNamedInstance(instances[i]) ? { dims: [], kind: "object" } : structureOf(instances[i], where);
    if (isProblem(s2)) return s2;
    if (!sameStructure(s2, base)) {
      return { param: where, message: `${where}: every instance must have the shape of instances[0] (${structureText(base)}); got ${structureText(s2)}` };
    }
  }
  return void 0;
}

// plugins/tfserving-validation/index.ts
var WORDING3 = {
  notObject: "The request body must be a JSON object",
  forbiddenKey: plainForbiddenKey
};
var Options11 = z6.object({
  maxBodyBytes: z6.number().int().positive().default(4 * 1024 * 1024),
  /**
   * Declared signature defs by `model` or `model@version` (the more specific wins over
   * metadata): signature name → inputs → `{dtype: DT_FLOAT, shape: [-1, 4]}`.
   */
  signatures: z6.record(SignatureKey, TfSignaturesConfig).default({}),
  /** Read signature defs of TF Serving models from their servers' metadata endpoint. */
  metadata: MetadataOptions
}).strict();
var VERBS = /* @__PURE__ */ new Set(["predict", "classify", "regress"]);
var actionOf3 = (request) => request.protocol === "tfserving" ? request.target?.action : void 0;
var tfserving_validation_default = definePlugin({
  type: "tfserving-validation",
  description: "TF Serving REST predict/classify/regress validation",
  options: Options11,
  protocols: ["tfserving"],
  async setup(options, host) {
    const signatures = await signatureSource(options.signatures, options.metadata, host, "tfserving", TF_METADATA);
    return {
      needs: { requestBody: (request) => VERBS.has(actionOf3(request) ?? "") },
      requestHeaders(ctx) {
        const action = actionOf3(ctx.request);
        if (action === void 0) return;
        if (!VERBS.has(action)) return checkMethod(ctx, ["GET"]);
        return checkMethod(ctx, ["POST"]) ?? checkJsonContentType(ctx, ctx.headers) ?? checkContentLength(ctx, ctx.headers, options.maxBodyBytes);
      },
      requestBody(ctx) {
        const action = actionOf3(ctx.request);
        if (action === void 0 || !VERBS.has(action)) return;
        const checked = checkObjectBody(ctx, options.maxBodyBytes, WORDING3);
        if (!checked.ok) return checked.respond;
        const body2 = checked.body;
        const schema = action === "predict" ? PredictRequest : ExamplesRequest;
        const parsed = schema.safeParse(body2);
        if (!parsed.success) return failFirstIssue(ctx, parsed.error, body2);
        const model = ctx.route.model;
        const signature = action === "predict" && model !== void 0 ? signatures.get(model, ctx.route.version) : void 0;
        if (signature && model !== void 0) {
          const problem2 = checkPredict(parsed.data, signature, model);
          if (problem2) return ctx.fail(400, problem2.message, { code: problem2.code, param: problem2.param });
        }
        const instances = parsed.data.instances;
        const problem = instances ? checkInstances(instances) : void 0;
        if (problem) return ctx.fail(400, problem.message, { code: "invalid_value", param: problem.param });
      },
      close() {
        signatures.close();
      }
    };
  }
});

// plugins/consumer-limits/carry-over.ts
var CarryOver = class {
  /** `dispose` runs once the last instance holding the value released it (a store's connection closes). */
  constructor(dispose = () => {
  }) {
    this.dispose = dispose;
  }
  dispose;
  slots = /* @__PURE__ */ new Map();
  claim(name, generation, make) {
    const existing = this.slots.get(name);
    if (existing && existing.generation === generation) {
      const value = make();
      let released2 = false;
      return {
        value,
        carried: false,
        shared: false,
        release: () => {
          if (released2) return;
          released2 = true;
          this.dispose(value);
        }
      };
    }
    const slot = existing ?? { value: make(), generation, refs: 0 };
    slot.generation = generation;
    slot.refs += 1;
    this.slots.set(name, slot);
    let released = false;
    return {
      value: slot.value,
      carried: existing !== void 0,
      shared: true,
      release: () => {
        if (released) return;
        released = true;
        slot.refs -= 1;
        if (slot.refs > 0) return;
        if (this.slots.get(name) === slot) this.slots.delete(name);
        this.dispose(slot.value);
      }
    };
  }
};

// plugins/consumer-limits/store-options.ts
var RedisOptions = z6.object({
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). May carry a password: never logged. */
  url: z6.string().regex(/^rediss?:\/\/\S+$/, "a redis:// or rediss:// URL").optional(),
  /** Name of the environment variable that holds the URL (a Kubernetes Secret, say), instead of `url`. */
  urlEnv: z6.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "an environment variable name").optional(),
  /** Put before every key, so several gateways (or other tenants) can share one Redis. */
  keyPrefix: z6.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'letters, digits, ":", "_", "." and "-"').default("gateway:limits:"),
  /**
   * The longest a request waits for Redis (per command) before `onFailure` decides for it.
   * A local Redis answers in well under a millisecond; the wait bounds what a slow one costs.
   */
  timeoutMs: z6.number().int().min(1).max(1e3).default(10),
  /** Redis unreachable or slower than `timeoutMs`: `open` admits (counted, logged), `closed` answers 503. */
  onFailure: z6.enum(["open", "closed"]).default("open"),
  /**
   * A request in flight holds its concurrency slot in Redis with this lifetime, renewed by its
   * replica while it runs; a replica that dies stops renewing, and its slots free themselves.
   */
  leaseTtlMs: z6.number().int().min(1e3).max(36e5).default(3e4)
}).strict().refine((r) => r.url === void 0 !== (r.urlEnv === void 0), { message: "set url or urlEnv (one of the two)" });

// plugins/consumer-limits/options.ts
var ConsumerPattern = z6.string().regex(/^[A-Za-z0-9*?][A-Za-z0-9._:@/*?-]{0,127}$/, "a consumer id, with * and ? as wildcards");
var ModelPattern = z6.string().regex(/^[a-z0-9_*?-]{1,63}$/, "a model name, with * and ? as wildcards");
var limitFields = {
  /** Token bucket refilled at this many requests per second... */
  requestsPerSecond: z6.number().positive().max(1e6).optional(),
  /** ...or per minute (one of the two). */
  requestsPerMinute: z6.number().positive().max(6e7).optional(),
  /** Bucket size: requests allowed at once after a quiet spell. Default: the per-second or per-minute number. */
  burst: z6.number().int().min(1).max(1e7).optional(),
  /** Requests of this key in flight at once (admitted, not yet ended). */
  maxConcurrent: z6.number().int().min(1).max(1e6).optional(),
  /**
   * A budget of OpenAI tokens (as `openai-usage` reads them from the answers), refilled at this
   * many per minute, hour or day (one of the three); it holds one period's worth at most.
   */
  tokensPerMinute: z6.number().int().min(1).max(1e12).optional(),
  tokensPerHour: z6.number().int().min(1).max(1e12).optional(),
  tokensPerDay: z6.number().int().min(1).max(1e12).optional(),
  /** Calendar quotas: requests and OpenAI tokens per UTC day and per UTC month, reset when the window ends. */
  quota: z6.object({
    requestsPerDay: z6.number().int().min(1).max(1e12).optional(),
    requestsPerMonth: z6.number().int().min(1).max(1e12).optional(),
    tokensPerDay: z6.number().int().min(1).max(1e15).optional(),
    tokensPerMonth: z6.number().int().min(1).max(1e15).optional()
  }).strict().refine((q) => Object.values(q).some((v) => v !== void 0), { message: "set requestsPerDay, requestsPerMonth, tokensPerDay or tokensPerMonth" }).optional()
};
var TOKEN_UNITS = { tokensPerMinute: "minute", tokensPerHour: "hour", tokensPerDay: "day" };
var UNIT_MS = { minute: 6e4, hour: 36e5, day: 864e5 };
function tokenField(l) {
  return Object.keys(TOKEN_UNITS).find((k) => l[k] !== void 0);
}
function checkRate(l, ctx) {
  if (l.requestsPerSecond !== void 0 && l.requestsPerMinute !== void 0) {
    ctx.addIssue({ code: "custom", path: ["requestsPerMinute"], message: "set requestsPerSecond or requestsPerMinute, not both" });
  }
  if (l.burst !== void 0 && l.requestsPerSecond === void 0 && l.requestsPerMinute === void 0) {
    ctx.addIssue({ code: "custom", path: ["burst"], message: "burst needs requestsPerSecond or requestsPerMinute" });
  }
  const tokens = Object.keys(TOKEN_UNITS).filter((k) => l[k] !== void 0);
  if (tokens.length > 1) {
    ctx.addIssue({ code: "custom", path: [tokens[1]], message: "set one of tokensPerMinute, tokensPerHour, tokensPerDay" });
  }
}
var ModelLimit = z6.object(limitFields).strict().superRefine(checkRate).refine((l) => compileLimit(l) !== void 0, {
  message: "set requestsPerSecond, requestsPerMinute, maxConcurrent or a token budget (tokensPerMinute, tokensPerHour, tokensPerDay), or a quota"
});
var Entry2 = z6.object({
  ...limitFields,
  /** Extra limits per model (name or glob), each with its own bucket per consumer and model. */
  models: z6.record(ModelPattern, ModelLimit).default({})
}).strict().superRefine(checkRate);
var Options12 = z6.object({
  /** Consumers not listed in `consumers`; omitted: they are not limited. */
  default: Entry2.optional(),
  /** Consumer id or glob → its limits; replaces `default` entirely. An exact id wins over globs, globs in order. */
  consumers: z6.record(ConsumerPattern, Entry2).default({}),
  /** Requests no auth plugin identified; omitted: `default` applies to them. */
  anonymous: Entry2.optional(),
  /**
   * What anonymous requests are counted by: one `shared` bucket (default; nothing a client
   * sends can give it a fresh one), or the last entry of a header a trusted proxy in front
   * of Envoy sets (e.g. `{ header: x-forwarded-for }`); requests without it share one bucket.
   */
  anonymousKey: z6.union([
    z6.literal("shared"),
    z6.object({ header: z6.string().regex(/^[A-Za-z0-9-]{1,64}$/, "a header name").transform((h) => h.toLowerCase()) }).strict()
  ]).default("shared"),
  /**
   * A request that finds its key at `maxConcurrent` waits this long for one to end before
   * its 429. The end of a streamed answer reaches the gateway a moment after the client has
   * read it, so a client that sends its next request at once would otherwise be refused.
   * Keep it below the instance's `timeoutMs` (200 ms by default); 0 refuses at once.
   */
  waitForSlotMs: z6.number().int().min(0).max(1e3).default(50),
  /**
   * What a token budget is charged per answer: prompt + completion tokens (`total`), or only
   * one of the two (completion tokens usually cost more and take the model longer).
   */
  countTokens: z6.enum(["total", "prompt", "completion"]).default("total"),
  /** Keys (consumer, consumer+model, anonymous client) kept at most; idle ones go first. */
  maxKeys: z6.number().int().min(100).max(1e7).default(1e5),
  /**
   * Where the buckets, in-flight counts, budgets and quotas live: in this process (`memory`,
   * each replica on its own), or in Redis (`redis`, shared by every replica; see `redis`).
   */
  store: z6.enum(["memory", "redis"]).default("memory"),
  redis: RedisOptions.optional()
}).strict().superRefine((o, ctx) => {
  if (o.store === "redis" && o.redis === void 0) ctx.addIssue({ code: "custom", path: ["redis"], message: "store: redis needs redis: { url } (or urlEnv)" });
  if (o.store === "memory" && o.redis !== void 0) ctx.addIssue({ code: "custom", path: ["store"], message: "redis options are set but store is memory: set store: redis" });
});
var QUOTA_FIELDS = [
  ["requestsPerDay", "requests", "day"],
  ["requestsPerMonth", "requests", "month"],
  ["tokensPerDay", "tokens", "day"],
  ["tokensPerMonth", "tokens", "month"]
];
function compileQuotas(q) {
  if (q === void 0) return [];
  return QUOTA_FIELDS.flatMap(([field2, what, period]) => q[field2] === void 0 ? [] : [{ what, period, amount: q[field2] }]);
}
function compileLimit(l) {
  const amount = l.requestsPerSecond ?? l.requestsPerMinute;
  const unit = l.requestsPerSecond !== void 0 ? "second" : "minute";
  const rate = amount === void 0 ? void 0 : { perMs: amount / (unit === "second" ? 1e3 : 6e4), burst: l.burst ?? Math.max(1, Math.ceil(amount)), amount, unit };
  const field2 = tokenField(l);
  const tokens = field2 === void 0 ? void 0 : { perMs: l[field2] / UNIT_MS[TOKEN_UNITS[field2]], amount: l[field2], unit: TOKEN_UNITS[field2] };
  const quotas = compileQuotas(l.quota);
  if (rate === void 0 && l.maxConcurrent === void 0 && tokens === void 0 && quotas.length === 0) return void 0;
  return {
    ...rate && { rate },
    ...l.maxConcurrent !== void 0 && { maxConcurrent: l.maxConcurrent },
    ...tokens && { tokens },
    ...quotas.length > 0 && { quotas }
  };
}
var Matcher = class {
  exact = /* @__PURE__ */ new Map();
  globs = [];
  constructor(entries) {
    for (const [pattern, value] of entries) {
      if (/[*?]/.test(pattern)) this.globs.push([globToRegExp(pattern), value]);
      else this.exact.set(pattern, value);
    }
  }
  get empty() {
    return this.exact.size === 0 && this.globs.length === 0;
  }
  match(name) {
    const hit = this.exact.get(name);
    if (hit !== void 0) return hit;
    for (const [re, value] of this.globs) if (re.test(name)) return value;
    return void 0;
  }
};
function compileEntry(e) {
  const own = e ? compileLimit(e) : void 0;
  const models = new Matcher(Object.entries(e?.models ?? {}).map(([p, l]) => [p, compileLimit(l)]));
  return { own, models, unlimited: own === void 0 && models.empty };
}
var Policies = class {
  consumers;
  fallback;
  anonymous;
  /** Some entry or per-model limit has a token budget or token quota (which needs `openai-usage` in the chain). */
  tokenBudgets;
  constructor(options) {
    this.consumers = new Matcher(Object.entries(options.consumers).map(([p, e]) => [p, compileEntry(e)]));
    this.fallback = compileEntry(options.default);
    this.anonymous = options.anonymous ? compileEntry(options.anonymous) : this.fallback;
    const entries = [options.default, options.anonymous, ...Object.values(options.consumers)];
    const spendsTokens2 = (l) => tokenField(l) !== void 0 || l.quota?.tokensPerDay !== void 0 || l.quota?.tokensPerMonth !== void 0;
    this.tokenBudgets = entries.some((e) => e !== void 0 && [e, ...Object.values(e.models)].some(spendsTokens2));
  }
  forConsumer(id) {
    return this.consumers.match(id) ?? this.fallback;
  }
};

// plugins/consumer-limits/responses.ts
function formatDuration(ms) {
  if (ms < 1e3) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms) / 1e3;
  const h = Math.floor(total / 3600);
  const m = Math.floor(total % 3600 / 60);
  const s2 = Math.round(total % 60 * 1e3) / 1e3;
  if (h > 0) return `${h}h${m}m${s2}s`;
  if (m > 0) return `${m}m${s2}s`;
  return `${s2}s`;
}
function setHeaders(headers2, kind, view) {
  if (view === void 0) return;
  headers2[`x-ratelimit-limit-${kind}`] = String(view.limit);
  headers2[`x-ratelimit-remaining-${kind}`] = String(view.remaining);
  headers2[`x-ratelimit-reset-${kind}`] = formatDuration(view.resetMs);
}
function rateHeaders(views) {
  const headers2 = {};
  setHeaders(headers2, "requests", views.requests);
  setHeaders(headers2, "tokens", views.tokens);
  for (const q of views.quotas) {
    headers2[`x-quota-limit-${q.what}-${q.period}`] = String(q.limit);
    headers2[`x-quota-remaining-${q.what}-${q.period}`] = String(q.remaining);
    headers2[`x-quota-reset-${q.what}-${q.period}`] = formatDuration(q.resetMs);
  }
  return headers2;
}
function describeRate(rate) {
  const per = `${rate.amount} requests per ${rate.unit}`;
  return rate.burst === rate.amount ? per : `${per}, burst ${rate.burst}`;
}
function describeTokens(tokens, counted2) {
  const what = counted2 === "total" ? "tokens" : `${counted2} tokens`;
  return `${tokens.amount} ${what} per ${tokens.unit}`;
}
function rejection2(ctx, r) {
  const where = r.model === void 0 ? r.who : `${r.who} on model '${r.model}'`;
  const headers2 = rateHeaders(r.views);
  if (r.reason === "unavailable") {
    return ctx.fail(503, "Rate limits cannot be checked right now (the limits store does not answer); retry shortly", {
      code: "limits_store_unavailable",
      headers: { "retry-after": "1" }
    });
  }
  if (r.reason === "quota") {
    const quota = r.quota;
    const waitMs = Math.max(1, Math.ceil(r.retryAfterMs ?? 1e3));
    headers2["retry-after"] = String(Math.ceil(waitMs / 1e3));
    headers2["retry-after-ms"] = String(waitMs);
    const what = quota.what === "requests" ? "requests" : r.counted === "total" ? "tokens" : `${r.counted} tokens`;
    const resets = new Date(Math.round((r.wallMs + waitMs) / 1e3) * 1e3).toISOString().replace(/\.\d{3}Z$/, "Z");
    return ctx.fail(429, `Quota reached for ${where} (${quota.amount} ${what} per ${quota.period}, UTC); it resets at ${resets}`, {
      code: "insufficient_quota",
      type: "insufficient_quota",
      headers: headers2
    });
  }
  if (r.reason === "rate" || r.reason === "tokens") {
    const waitMs = Math.max(1, Math.ceil(r.retryAfterMs ?? 1e3));
    const seconds2 = Math.ceil(waitMs / 1e3);
    headers2["retry-after"] = String(seconds2);
    headers2["retry-after-ms"] = String(waitMs);
    if (r.reason === "tokens") {
      const tokens = r.limit.tokens;
      return ctx.fail(429, `Token limit reached for ${where} (${describeTokens(tokens, r.counted)}); retry in ${seconds2} s`, { code: "token_rate_limit_exceeded", headers: headers2 });
    }
    const rate = r.limit.rate;
    return ctx.fail(429, `Rate limit reached for ${where} (${describeRate(rate)}); retry in ${seconds2} s`, { code: "rate_limit_exceeded", headers: headers2 });
  }
  return ctx.fail(429, `Too many concurrent requests for ${where} (at most ${r.limit.maxConcurrent} at a time); retry when one finishes`, {
    code: "concurrency_limit_exceeded",
    headers: headers2
  });
}

// plugins/consumer-limits/redis-store.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { Redis } from "ioredis";

// plugins/consumer-limits/calendar.ts
function windowOf(period, wallMs) {
  const d = new Date(wallMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === "month") return { id: `${y}-${pad(m + 1)}`, endMs: Date.UTC(y, m + 1, 1) };
  const day = d.getUTCDate();
  return { id: `${y}-${pad(m + 1)}-${pad(day)}`, endMs: Date.UTC(y, m, day + 1) };
}
function pad(n2) {
  return String(n2).padStart(2, "0");
}

// plugins/consumer-limits/limit-store.ts
function rateView(size, left, perMs) {
  return { limit: size, remaining: Math.max(0, Math.floor(left)), resetMs: Math.max(0, (size - left) / perMs) };
}
function viewsOf(scopes, snaps, tokens, wall2) {
  const r = scopes.findIndex((s2) => s2.limit.rate !== void 0);
  const t = tokens ? scopes.findIndex((s2) => s2.limit.tokens !== void 0) : -1;
  const rate = scopes[r]?.limit.rate;
  const budget = scopes[t]?.limit.tokens;
  const quotas = [];
  for (const [i, scope] of scopes.entries()) {
    for (const [q, quota] of (scope.limit.quotas ?? []).entries()) {
      if (quota.what === "tokens" && !tokens) continue;
      if (quotas.some((v) => v.what === quota.what && v.period === quota.period)) continue;
      const used = snaps[i]?.used[q] ?? 0;
      quotas.push({ what: quota.what, period: quota.period, limit: quota.amount, remaining: Math.max(0, quota.amount - used), resetMs: windowOf(quota.period, wall2).endMs - wall2 });
    }
  }
  return {
    requests: rate && rateView(rate.burst, snaps[r]?.tokens ?? rate.burst, rate.perMs),
    tokens: budget && rateView(budget.amount, snaps[t]?.budget ?? budget.amount, budget.perMs),
    quotas
  };
}
function quotaRefusal(limit, used, tokens) {
  return (limit.quotas ?? []).find((q, i) => (q.what === "requests" || tokens) && (used[i] ?? 0) >= q.amount);
}

// plugins/consumer-limits/redis/args.ts
var WINDOW_SLACK_MS = 36e5;
function scopeKey(prefix, scope, kind) {
  const [type = "", caller = "", ...rest] = scope.key.split("\0").map(encodeURIComponent);
  return `${prefix}{${type}:${caller}}${rest.map((p) => `:${p}`).join("")}:${kind}`;
}
function quotaAmount(quotas, what, period) {
  return quotas?.find((q) => q.what === what && q.period === period)?.amount ?? 0;
}
function windowsAt(wall2) {
  const at = (period) => {
    const w = windowOf(period, wall2);
    return { id: w.id, ttlMs: Math.ceil(w.endMs - wall2) + WINDOW_SLACK_MS };
  };
  return { day: at("day"), month: at("month") };
}
function admitArgs(prefix, scopes, tokens, leaseId, leaseTtlMs, w) {
  const keys = [];
  const args = [scopes.length, tokens ? 1 : 0, leaseId, leaseTtlMs];
  for (const scope of scopes) {
    const { rate, maxConcurrent, tokens: budget, quotas } = scope.limit;
    keys.push(scopeKey(prefix, scope, "s"), scopeKey(prefix, scope, "slots"), scopeKey(prefix, scope, `d:${w.day.id}`), scopeKey(prefix, scope, `m:${w.month.id}`));
    args.push(
      rate?.perMs ?? 0,
      rate?.burst ?? 0,
      maxConcurrent ?? 0,
      budget?.perMs ?? 0,
      budget?.amount ?? 0,
      quotaAmount(quotas, "requests", "day"),
      quotaAmount(quotas, "tokens", "day"),
      w.day.ttlMs,
      quotaAmount(quotas, "requests", "month"),
      quotaAmount(quotas, "tokens", "month"),
      w.month.ttlMs
    );
  }
  return { keys, args };
}
function chargeArgs(prefix, scopes, amount, w) {
  const keys = [];
  const args = [scopes.length, amount];
  for (const scope of scopes) {
    const { tokens: budget, quotas } = scope.limit;
    keys.push(scopeKey(prefix, scope, "s"), scopeKey(prefix, scope, `d:${w.day.id}`), scopeKey(prefix, scope, `m:${w.month.id}`));
    args.push(budget?.perMs ?? 0, budget?.amount ?? 0, quotaAmount(quotas, "tokens", "day") > 0 ? 1 : 0, w.day.ttlMs, quotaAmount(quotas, "tokens", "month") > 0 ? 1 : 0, w.month.ttlMs);
  }
  return { keys, args };
}
function readAdmitAnswer(raw, scopes) {
  if (!Array.isArray(raw) || raw.length !== 5 + 6 * scopes.length) throw new Error("unexpected answer from the admit script");
  const field2 = (i) => String(raw[i] ?? "");
  const num = (i) => field2(i) === "" ? void 0 : Number(field2(i));
  const scope = Math.max(0, Number(raw[2]) - 1);
  const [what, period] = field2(4).split(":");
  const quota = (scopes[scope]?.limit.quotas ?? []).find((q) => q.what === what && q.period === period);
  const snaps = scopes.map((s2, i) => {
    const base = 5 + 6 * i;
    const counts = { "requests:day": num(base + 2), "tokens:day": num(base + 3), "requests:month": num(base + 4), "tokens:month": num(base + 5) };
    return { tokens: num(base), budget: num(base + 1), used: (s2.limit.quotas ?? []).map((q) => counts[`${q.what}:${q.period}`] ?? 0) };
  });
  return { ok: Number(raw[0]) === 1, reason: field2(1), scope, retryAfterMs: Number(field2(3)), quota, snaps };
}

// plugins/consumer-limits/redis/scripts.ts
var ADMIT_SCRIPT = `-- Admits one request against every scope, or against none, atomically: the token bucket,
-- the concurrency slots, the OpenAI token budget and the calendar quotas of each scope.
-- The clock is Redis's own (TIME), so every gateway replica refills by the same clock.
--
-- KEYS, 4 per scope: state hash (t, tat: request tokens; b, bat: token budget), slots zset
-- (lease id -> expiry), day counts hash (r, t), month counts hash (r, t).
-- ARGV: scope count, check tokens (1/0), lease id, lease TTL ms, then 11 per scope:
-- rate per ms, burst, max concurrent, budget per ms, budget amount, requests per day, tokens
-- per day, day TTL ms, requests per month, tokens per month, month TTL ms (0 = not limited).
-- Returns {admitted 1/0, reason, refusing scope (1-based), retry ms, what, then 6 per scope:
-- request tokens, budget, day requests, day tokens, month requests, month tokens}.
local n = tonumber(ARGV[1])
local checkTokens = ARGV[2] == '1'
local lease = ARGV[3]
local leaseTtl = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000

local scopes = {}
for i = 1, n do
  local a = 4 + (i - 1) * 11
  local k = (i - 1) * 4
  local s = {
    state = KEYS[k + 1], slots = KEYS[k + 2], day = KEYS[k + 3], month = KEYS[k + 4],
    ratePerMs = tonumber(ARGV[a + 1]), burst = tonumber(ARGV[a + 2]), maxConc = tonumber(ARGV[a + 3]),
    budgetPerMs = tonumber(ARGV[a + 4]), budgetAmount = tonumber(ARGV[a + 5]),
    dayReq = tonumber(ARGV[a + 6]), dayTok = tonumber(ARGV[a + 7]), dayTtl = tonumber(ARGV[a + 8]),
    monthReq = tonumber(ARGV[a + 9]), monthTok = tonumber(ARGV[a + 10]), monthTtl = tonumber(ARGV[a + 11]),
  }
  local h = redis.call('HMGET', s.state, 't', 'tat', 'b', 'bat')
  if s.burst > 0 then
    local at = tonumber(h[2]) or now
    s.tokens = math.min(s.burst, (tonumber(h[1]) or s.burst) + math.max(0, now - at) * s.ratePerMs)
  end
  if s.budgetAmount > 0 then
    local at = tonumber(h[4]) or now
    s.budget = math.min(s.budgetAmount, (tonumber(h[3]) or s.budgetAmount) + math.max(0, now - at) * s.budgetPerMs)
  end
  s.inflight = 0
  if s.maxConc > 0 then
    -- Slots of requests whose replica stopped renewing them (it died) expire here.
    redis.call('ZREMRANGEBYSCORE', s.slots, '-inf', now)
    s.inflight = redis.call('ZCARD', s.slots)
  end
  local d = { 0, 0 }
  if s.dayReq > 0 or s.dayTok > 0 then d = redis.call('HMGET', s.day, 'r', 't') end
  local m = { 0, 0 }
  if s.monthReq > 0 or s.monthTok > 0 then m = redis.call('HMGET', s.month, 'r', 't') end
  s.dr, s.dt, s.mr, s.mt = tonumber(d[1]) or 0, tonumber(d[2]) or 0, tonumber(m[1]) or 0, tonumber(m[2]) or 0
  scopes[i] = s
end

local function answer(ok, reason, index, retry, what)
  local out = { ok, reason, index, tostring(retry), what }
  for _, s in ipairs(scopes) do
    out[#out + 1] = s.tokens and tostring(s.tokens) or ''
    out[#out + 1] = s.budget and tostring(s.budget) or ''
    out[#out + 1] = tostring(s.dr)
    out[#out + 1] = tostring(s.dt)
    out[#out + 1] = tostring(s.mr)
    out[#out + 1] = tostring(s.mt)
  end
  return out
end

for i, s in ipairs(scopes) do
  if s.maxConc > 0 and s.inflight >= s.maxConc then return answer(0, 'concurrency', i, 0, '') end
  if s.burst > 0 and s.tokens < 1 then return answer(0, 'rate', i, (1 - s.tokens) / s.ratePerMs, '') end
  if checkTokens and s.budgetAmount > 0 and s.budget < 1 then return answer(0, 'tokens', i, (1 - s.budget) / s.budgetPerMs, '') end
  if s.dayReq > 0 and s.dr >= s.dayReq then return answer(0, 'quota', i, 0, 'requests:day') end
  if s.monthReq > 0 and s.mr >= s.monthReq then return answer(0, 'quota', i, 0, 'requests:month') end
  if checkTokens and s.dayTok > 0 and s.dt >= s.dayTok then return answer(0, 'quota', i, 0, 'tokens:day') end
  if checkTokens and s.monthTok > 0 and s.mt >= s.monthTok then return answer(0, 'quota', i, 0, 'tokens:month') end
end

for _, s in ipairs(scopes) do
  if s.burst > 0 or s.budgetAmount > 0 then
    local full = 0
    if s.burst > 0 then
      s.tokens = s.tokens - 1
      redis.call('HSET', s.state, 't', tostring(s.tokens), 'tat', tostring(now))
      full = (s.burst - s.tokens) / s.ratePerMs
    end
    if s.budgetAmount > 0 then
      redis.call('HSET', s.state, 'b', tostring(s.budget), 'bat', tostring(now))
      full = math.max(full, (s.budgetAmount - s.budget) / s.budgetPerMs)
    end
    -- Once full again the state equals a missing one: let Redis forget it then.
    redis.call('PEXPIRE', s.state, math.ceil(full) + 1000)
  end
  if s.maxConc > 0 then
    redis.call('ZADD', s.slots, now + leaseTtl, lease)
    redis.call('PEXPIRE', s.slots, leaseTtl + 1000)
  end
  if s.dayReq > 0 then
    s.dr = redis.call('HINCRBY', s.day, 'r', 1)
    redis.call('PEXPIRE', s.day, s.dayTtl)
  end
  if s.monthReq > 0 then
    s.mr = redis.call('HINCRBY', s.month, 'r', 1)
    redis.call('PEXPIRE', s.month, s.monthTtl)
  end
end
return answer(1, '', 0, 0, '')
`;
var CHARGE_SCRIPT = `-- Charges one answer's OpenAI tokens to the token budget and token quotas of each scope,
-- below zero if need be (the answer is done: its tokens were spent).
-- KEYS, 3 per scope: state hash (b, bat), day counts hash, month counts hash.
-- ARGV: scope count, tokens, then 6 per scope: budget per ms, budget amount, count per day
-- (1/0), day TTL ms, count per month (1/0), month TTL ms.
local n = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
for i = 1, n do
  local a = 2 + (i - 1) * 6
  local k = (i - 1) * 3
  local perMs, size = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if size > 0 then
    local h = redis.call('HMGET', KEYS[k + 1], 'b', 'bat')
    local at = tonumber(h[2]) or now
    local budget = math.min(size, (tonumber(h[1]) or size) + math.max(0, now - at) * perMs) - amount
    redis.call('HSET', KEYS[k + 1], 'b', tostring(budget), 'bat', tostring(now))
    -- The request-token fields may need longer: never shorten the key's life.
    local ttl = math.ceil((size - budget) / perMs) + 1000
    if redis.call('PTTL', KEYS[k + 1]) < ttl then redis.call('PEXPIRE', KEYS[k + 1], ttl) end
  end
  if ARGV[a + 3] == '1' then
    redis.call('HINCRBY', KEYS[k + 2], 't', amount)
    redis.call('PEXPIRE', KEYS[k + 2], tonumber(ARGV[a + 4]))
  end
  if ARGV[a + 5] == '1' then
    redis.call('HINCRBY', KEYS[k + 3], 't', amount)
    redis.call('PEXPIRE', KEYS[k + 3], tonumber(ARGV[a + 6]))
  end
end
return 1
`;
var RENEW_SCRIPT = `-- Renews the slots a replica's running requests hold in one slots zset (only those still
-- there: XX never brings back a slot that expired or was released).
-- KEYS[1]: slots zset. ARGV: lease TTL ms, lease ids.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl + 1000)
return 1
`;

// plugins/consumer-limits/redis-store.ts
var SCRIPTS = { limitsAdmit: ADMIT_SCRIPT, limitsCharge: CHARGE_SCRIPT, limitsRenew: RENEW_SCRIPT };
var MAX_DEFERRED = 1e4;
var RETRY_MS = 1e3;
var NO_VIEWS = { requests: void 0, tokens: void 0, quotas: [] };
var RedisStore = class {
  constructor(url, options, health) {
    this.options = options;
    this.health = health;
    this.redis = new Redis(url, {
      // Nothing waits for a connection: a command while disconnected fails at once, and the policy decides.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1e3, options.timeoutMs),
      // Reconnects forever, at most a second apart: recovery needs no restart.
      retryStrategy: (attempt) => Math.min(50 * attempt, 1e3),
      scripts: {
        limitsAdmit: { lua: SCRIPTS.limitsAdmit },
        limitsCharge: { lua: SCRIPTS.limitsCharge },
        limitsRenew: { lua: SCRIPTS.limitsRenew }
      }
    });
    this.redis.on("error", () => {
    });
    this.redis.on("ready", () => this.flushDeferred());
    this.renewTimer = setInterval(() => this.renew(), Math.floor(options.leaseTtlMs / 3));
    this.renewTimer.unref();
  }
  options;
  health;
  redis;
  replica = randomBytes2(6).toString("hex");
  sequence = 0;
  /** Leases of requests running on this replica, renewed every third of their lifetime. */
  live = /* @__PURE__ */ new Map();
  renewTimer;
  /** Releases and charges that could not be sent: sent once Redis is ready again. */
  deferred = [];
  retryTimer;
  /** Requests waiting for a slot of a key: woken when a request of that key ends on this replica. */
  waiters = /* @__PURE__ */ new Map();
  admit(scopes, _now, tokens, wall2) {
    const lease = {
      id: `${this.replica}:${(this.sequence++).toString(36)}`,
      slotKeys: scopes.filter((s2) => s2.limit.maxConcurrent !== void 0).map((s2) => scopeKey(this.options.keyPrefix, s2, "slots")),
      scopeKeys: scopes.map((s2) => s2.key),
      released: false
    };
    if (this.redis.status !== "ready") return Promise.resolve(this.unavailable(lease, new Error(`not connected (${this.redis.status})`)));
    const { keys, args } = admitArgs(this.options.keyPrefix, scopes, tokens, lease.id, this.options.leaseTtlMs, windowsAt(wall2));
    return this.redis.limitsAdmit(keys.length, ...keys, ...args).then(
      (raw) => {
        this.health.succeeded();
        const answer = readAdmitAnswer(raw, scopes);
        const views = viewsOf(scopes, answer.snaps, tokens, wall2);
        if (answer.ok) {
          if (lease.slotKeys.length > 0) this.live.set(lease.id, lease);
          return { ok: true, lease, views };
        }
        const quota = answer.quota;
        const retryAfterMs = quota ? windowOf(quota.period, wall2).endMs - wall2 : answer.reason === "concurrency" ? void 0 : answer.retryAfterMs;
        const reason = answer.reason === "" ? "rate" : answer.reason;
        return { ok: false, reason, scope: answer.scope, key: scopes[answer.scope]?.key ?? "", retryAfterMs, ...quota && { quota }, views };
      },
      (err) => this.unavailable(lease, err)
    );
  }
  charge(scopes, amount, _now, wall2) {
    const { keys, args } = chargeArgs(this.options.keyPrefix, scopes, amount, windowsAt(wall2));
    const send = () => {
      this.redis.limitsCharge(keys.length, ...keys, ...args).then(
        () => this.health.succeeded(),
        // Timed out: it may have run, so it is not sent again (a charge twice would be worse than none).
        (err) => this.health.failed("charge", err)
      );
    };
    if (this.redis.status === "ready") return send();
    this.health.failed("charge", new Error(`not connected (${this.redis.status})`));
    this.defer(send);
  }
  release(lease) {
    if (lease.released) return;
    lease.released = true;
    const { id, slotKeys, scopeKeys } = lease;
    this.live.delete(id);
    for (const key of scopeKeys) for (const wake of this.waiters.get(key) ?? []) wake();
    if (slotKeys.length === 0) return;
    const send = () => {
      const pipeline = this.redis.pipeline();
      for (const key of slotKeys) pipeline.zrem(key, id);
      pipeline.exec().then(
        (results) => {
          const failed = results?.find(([err]) => err !== null)?.[0];
          if (failed) throw failed;
          this.health.succeeded();
        }
      ).catch(
        (err) => {
          this.health.failed("release", err);
          this.defer(send);
        }
      );
    };
    if (this.redis.status === "ready") return send();
    this.defer(send);
  }
  /**
   * Another replica's release sends no signal here: a request at the limit waits for a
   * request of its key to end on this replica, or `ms`, then looks again.
   */
  waitForSlot(key, ms, signal) {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve3) => {
      const queue = this.waiters.get(key) ?? /* @__PURE__ */ new Set();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        queue.delete(done);
        if (queue.size === 0) this.waiters.delete(key);
        resolve3();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      queue.add(done);
      this.waiters.set(key, queue);
    });
  }
  async close() {
    clearInterval(this.renewTimer);
    clearTimeout(this.retryTimer);
    this.redis.disconnect();
  }
  /** The policy's answer when Redis did not decide; a lease that may have been stored goes back. */
  unavailable(lease, err) {
    this.health.failed("admit", err);
    if (this.health.policy === "open") {
      if (lease.slotKeys.length > 0) this.live.set(lease.id, lease);
      return { ok: true, lease, views: NO_VIEWS };
    }
    this.release(lease);
    return { ok: false, reason: "unavailable", scope: 0, key: lease.scopeKeys[0] ?? "", retryAfterMs: 1e3, views: NO_VIEWS };
  }
  renew() {
    if (this.live.size === 0 || this.redis.status !== "ready") return;
    const byKey = /* @__PURE__ */ new Map();
    for (const lease of this.live.values()) {
      for (const key of lease.slotKeys) byKey.set(key, [...byKey.get(key) ?? [], lease.id]);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, ids] of byKey) pipeline.limitsRenew(1, key, this.options.leaseTtlMs, ...ids);
    pipeline.exec().catch((err) => this.health.failed("renew", err));
  }
  /**
   * Queues a send for when Redis answers again: at the next reconnect, or (a timeout on a live
   * connection, which brings no reconnect) a second from now.
   */
  defer(send) {
    if (this.deferred.length < MAX_DEFERRED) this.deferred.push(send);
    if (this.retryTimer !== void 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = void 0;
      if (this.redis.status === "ready") this.flushDeferred();
    }, RETRY_MS);
    this.retryTimer.unref();
  }
  flushDeferred() {
    const queued = this.deferred;
    this.deferred = [];
    for (const send of queued) send();
  }
};

// plugins/consumer-limits/store-health.ts
var REPEAT_WARNING_MS = 1e4;
var StoreHealth = class {
  constructor(log2, counter, plugin, policy, where) {
    this.log = log2;
    this.counter = counter;
    this.plugin = plugin;
    this.policy = policy;
    this.where = where;
  }
  log;
  counter;
  plugin;
  policy;
  where;
  failingSince;
  failures = 0;
  lastWarning = 0;
  get failing() {
    return this.failingSince !== void 0;
  }
  failed(operation, err) {
    this.counter.inc({ plugin: this.plugin, operation, policy: this.policy });
    this.failures += 1;
    const now = Date.now();
    const error = err instanceof Error ? err.message : String(err);
    if (this.failingSince === void 0) {
      this.failingSince = now;
      this.lastWarning = now;
      this.log.warn({ store: this.where, operation, error, onFailure: this.policy }, this.policy === "open" ? "limits store unavailable: admitting requests unchecked (onFailure: open)" : "limits store unavailable: refusing limited requests with 503 (onFailure: closed)");
    } else if (now - this.lastWarning >= REPEAT_WARNING_MS) {
      this.lastWarning = now;
      this.log.warn({ store: this.where, operation, error, failures: this.failures, sinceMs: now - this.failingSince, onFailure: this.policy }, "limits store still unavailable");
    }
  }
  succeeded() {
    if (this.failingSince === void 0) return;
    this.log.info({ store: this.where, failures: this.failures, downMs: Date.now() - this.failingSince }, "limits store available again");
    this.failingSince = void 0;
    this.failures = 0;
  }
};

// plugins/consumer-limits/store.ts
var SWEEP = 4;
var KeyStore = class {
  constructor(maxKeys) {
    this.maxKeys = maxKeys;
  }
  maxKeys;
  /** Insertion order is the sweep order: an entry the sweep keeps moves to the back. */
  states = /* @__PURE__ */ new Map();
  /** Requests waiting for a slot of a key, oldest first; each release wakes one. */
  waiters = /* @__PURE__ */ new Map();
  get size() {
    return this.states.size;
  }
  /**
   * Admits a request against every scope, or none: a request refused by one scope takes
   * nothing from the others. Token budgets and token quotas are checked only when `tokens` is
   * set (requests that can spend tokens): they are charged later, with `charge`. Synchronous,
   * so no other request interleaves.
   */
  admit(scopes, now, tokens = false, wall2 = Date.now()) {
    this.sweep(now, wall2);
    const states = scopes.map((s2) => this.refilled(s2, now, wall2));
    const views = () => viewsOf(scopes, states.map((st, i) => snapshot(st, scopes[i])), tokens, wall2);
    for (const [i, scope] of scopes.entries()) {
      const state = states[i];
      const { maxConcurrent, rate, tokens: budget } = scope.limit;
      const refuse = (reason, retryAfterMs, quota2) => ({
        ok: false,
        reason,
        scope: i,
        key: scope.key,
        retryAfterMs,
        ...quota2 && { quota: quota2 },
        views: views()
      });
      if (maxConcurrent !== void 0 && state.inflight >= maxConcurrent) return refuse("concurrency", void 0);
      if (rate && state.tokens < 1) return refuse("rate", (1 - state.tokens) / rate.perMs);
      if (tokens && budget && state.budget < 1) return refuse("tokens", (1 - state.budget) / budget.perMs);
      const quota = quotaRefusal(scope.limit, snapshot(state, scope).used, tokens);
      if (quota) return refuse("quota", windowOf(quota.period, wall2).endMs - wall2, quota);
    }
    for (const [i, scope] of scopes.entries()) {
      const state = states[i];
      if (scope.limit.rate) state.tokens = state.tokens - 1;
      state.inflight += 1;
      state.fullAt = fullAt(state, scope.limit, now);
      count(state, scope.limit, "requests", 1);
    }
    return { ok: true, lease: { states, released: false }, views: views() };
  }
  /**
   * Takes `amount` tokens from the budget and token quotas of every scope that has them,
   * below zero if need be: an answer's tokens are known only once it is done. By key, not by
   * the admission's states: a key idle since its answer's headers may have been swept (and
   * starts full again).
   */
  charge(scopes, amount, now, wall2 = Date.now()) {
    for (const scope of scopes) {
      if (!scope.limit.tokens && !scope.limit.quotas?.some((q) => q.what === "tokens")) continue;
      const state = this.refilled(scope, now, wall2);
      if (scope.limit.tokens) state.budget = state.budget - amount;
      state.fullAt = fullAt(state, scope.limit, now);
      count(state, scope.limit, "tokens", amount);
    }
  }
  /** Requests admitted and not yet released, over every key: zero whenever nothing is in flight. */
  totalInflight() {
    let n2 = 0;
    for (const s2 of this.states.values()) n2 += s2.inflight;
    return n2;
  }
  /** Idempotent. The states stay valid after a config reload: the lease holds them, not their keys. */
  release(lease) {
    if (lease.released) return;
    lease.released = true;
    for (const s2 of lease.states) {
      s2.inflight = Math.max(0, s2.inflight - 1);
      const queue = this.waiters.get(s2);
      queue?.shift()?.();
      if (queue?.length === 0) this.waiters.delete(s2);
    }
  }
  async close() {
  }
  /**
   * Resolves when a request of `key` ends, or after `ms`, or when `signal` aborts, whichever
   * comes first. Only requests that found their key at its concurrency limit wait, so only
   * they cost a timer.
   */
  waitForSlot(key, ms, signal) {
    const state = this.states.get(key);
    if (!state || state.inflight === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve3) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        const queue2 = this.waiters.get(state);
        const i = queue2?.indexOf(done) ?? -1;
        if (queue2 && i !== -1) queue2.splice(i, 1);
        if (queue2?.length === 0) this.waiters.delete(state);
        resolve3();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      const queue = this.waiters.get(state) ?? [];
      queue.push(done);
      this.waiters.set(state, queue);
    });
  }
  /** In-flight count of a key (tests, debugging). */
  inflight(key) {
    return this.states.get(key)?.inflight ?? 0;
  }
  /**
   * The key's state with the tokens earned since its last use. A new key starts with a full
   * bucket and budget; so does a limit a reload added to a key that had none.
   */
  refilled(scope, now, wall2) {
    const { rate, tokens } = scope.limit;
    let state = this.states.get(scope.key);
    if (!state) {
      state = { tokens: rate?.burst, budget: tokens?.amount, at: now, inflight: 0, fullAt: now, windows: {}, countedUntil: 0 };
      this.states.set(scope.key, state);
      turnWindows(state, scope.limit, wall2);
      return state;
    }
    turnWindows(state, scope.limit, wall2);
    const elapsed = Math.max(0, now - state.at);
    if (rate) state.tokens = Math.min(rate.burst, (state.tokens ?? rate.burst) + elapsed * rate.perMs);
    if (tokens) state.budget = Math.min(tokens.amount, (state.budget ?? tokens.amount) + elapsed * tokens.perMs);
    state.at = now;
    return state;
  }
  sweep(now, wall2) {
    let budget = SWEEP;
    for (const [key, state] of this.states) {
      if (budget-- === 0) break;
      this.states.delete(key);
      const idle = state.inflight === 0 && now >= state.fullAt && wall2 >= state.countedUntil;
      if (!idle) this.states.set(key, state);
    }
    budget = SWEEP;
    while (this.states.size > this.maxKeys && budget-- > 0) {
      const first = this.states.entries().next();
      if (first.done) break;
      const [key, state] = first.value;
      this.states.delete(key);
      if (state.inflight > 0) this.states.set(key, state);
    }
  }
};
function fullAt(state, limit, now) {
  const { rate, tokens } = limit;
  const bucket = rate ? (rate.burst - (state.tokens ?? rate.burst)) / rate.perMs : 0;
  const budget = tokens ? (tokens.amount - (state.budget ?? tokens.amount)) / tokens.perMs : 0;
  return now + Math.max(0, bucket, budget);
}
function snapshot(state, scope) {
  const used = (scope.limit.quotas ?? []).map((q) => state.windows[q.period]?.[q.what] ?? 0);
  return { tokens: state.tokens, budget: state.budget, used };
}
function turnWindows(state, limit, wall2) {
  for (const q of limit.quotas ?? []) {
    const current = state.windows[q.period];
    if (current !== void 0 && wall2 < current.endMs) continue;
    const w = windowOf(q.period, wall2);
    state.windows[q.period] = { id: w.id, endMs: w.endMs, requests: 0, tokens: 0 };
  }
}
function count(state, limit, what, amount) {
  for (const q of limit.quotas ?? []) {
    if (q.what !== what) continue;
    const w = state.windows[q.period];
    w[what] += amount;
    state.countedUntil = Math.max(state.countedUntil, w.endMs);
  }
}

// plugins/consumer-limits/open-store.ts
function storeIdentity(options) {
  return options.store === "redis" ? JSON.stringify(options.redis) : "memory";
}
function openStore(options, host) {
  if (options.store !== "redis" || options.redis === void 0) return new KeyStore(options.maxKeys);
  const redis = options.redis;
  const url = redis.url ?? process.env[redis.urlEnv];
  if (url === void 0 || url === "") throw new Error(`redis.urlEnv: the environment variable ${redis.urlEnv} is not set`);
  if (!/^rediss?:\/\/\S+$/.test(url)) throw new Error(`redis.urlEnv: the environment variable ${redis.urlEnv} does not hold a redis:// or rediss:// URL`);
  const counter = host.metrics.counter({
    name: "gateway_limits_store_failures_total",
    help: "Requests (and charges, releases, renewals) the limits store did not answer in time, by plugin instance, operation and onFailure policy",
    labelNames: ["plugin", "operation", "policy"]
  });
  const health = new StoreHealth(host.log, counter, host.name, redis.onFailure, redactedAddress(url));
  return new RedisStore(url, redis, health);
}
function redactedAddress(url) {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "redis";
  }
}

// plugins/consumer-limits/usage-source.ts
var forcesStreamUsage = (p) => typeof p.options === "object" && p.options !== null && p.options.forceStreamUsage === true;
function usageSourceProblem(host) {
  const usage = (chain) => (chain ?? []).filter((p) => p.type === "openai-usage");
  const global = usage(host.chains.global);
  const models = (host.modelChain === void 0 ? host.models.names() : [host.modelChain]).filter((m) => host.models.get(m)?.protocol === "openai");
  const uncovered = [];
  const unforced = /* @__PURE__ */ new Set();
  for (const model of models) {
    const readers = [...global, ...usage(host.chains.models[model])];
    if (readers.length === 0) uncovered.push(model);
    else if (!readers.some(forcesStreamUsage)) for (const r of readers) unforced.add(r.name);
  }
  if (uncovered.length > 0) {
    return `token budgets are charged from the token usage the openai-usage plugin reads, and no openai-usage instance runs for model(s) ${uncovered.join(", ")}: add \`{ type: openai-usage, options: { forceStreamUsage: true } }\` to the global chain`;
  }
  if (unforced.size > 0) {
    return `token budgets need openai-usage instance(s) ${[...unforced].map((n2) => `'${n2}'`).join(", ")} to set \`forceStreamUsage: true\`: without it a streamed answer whose client did not ask for usage is never charged`;
  }
  return void 0;
}

// plugins/consumer-limits/index.ts
var ANONYMOUS_HEADER_VALUE = /^[\x21-\x7e]{1,128}$/;
function createConsumerLimits(factory = {}) {
  const now = factory.now ?? (() => performance.now());
  const wall2 = factory.wallNow ?? (() => Date.now());
  const carried = new CarryOver((store) => void store.close());
  return definePlugin({
    type: factory.type ?? "consumer-limits",
    description: "Per-consumer (and per-model) request rates, concurrency and token budgets; 429 in the client protocol beyond them",
    options: Options12,
    setup(options, host) {
      const policies = new Policies(options);
      const problem = policies.tokenBudgets ? usageSourceProblem(host) : void 0;
      if (problem !== void 0) throw new Error(problem);
      const claim = carried.claim(`${host.name}\0${storeIdentity(options)}`, host.models, () => openStore(options, host));
      const store = claim.value;
      if (store instanceof KeyStore) {
        store.maxKeys = options.maxKeys;
        factory.onStore?.(store);
      }
      if (!claim.shared) {
        host.log.warn({ plugin: host.name }, "another consumer-limits instance has this name in the config; this one starts from zero on every reload (give it its own name)");
      }
      const requests = /* @__PURE__ */ new WeakMap();
      const caller = (ctx) => {
        const id = ctx.vars.consumer?.id;
        if (id !== void 0) return { key: `c\0${id}`, label: `consumer '${id}'`, consumer: id, policy: policies.forConsumer(id) };
        let client = "";
        if (options.anonymousKey !== "shared") {
          const value = ctx.request.headers.get(options.anonymousKey.header)?.split(",").at(-1)?.trim() ?? "";
          if (ANONYMOUS_HEADER_VALUE.test(value)) client = value;
        }
        return { key: `a\0${client}`, label: "unauthenticated requests", consumer: void 0, policy: policies.anonymous };
      };
      const scopesOf = (who, model) => {
        const scopes = [];
        if (who.policy.own) scopes.push({ key: who.key, limit: who.policy.own });
        const modelLimit = model === void 0 ? void 0 : who.policy.models.match(model);
        if (modelLimit) scopes.push({ key: `${who.key}\0${model}`, limit: modelLimit });
        return scopes;
      };
      const refuse = (ctx, who, model, scopes, result) => {
        const onModel = result.scope === 1 || !who.policy.own ? model : void 0;
        const retryAfterMs = result.retryAfterMs === void 0 ? void 0 : Math.ceil(result.retryAfterMs);
        const quota = result.quota && `${result.quota.what}Per${result.quota.period === "day" ? "Day" : "Month"}`;
        ctx.log.info({ consumer: who.consumer, model: onModel, limit: result.reason, quota, retryAfterMs }, REFUSED[result.reason]);
        const limit = scopes[result.scope].limit;
        return rejection2(ctx, {
          who: who.label,
          model: onModel,
          reason: result.reason,
          limit,
          retryAfterMs: result.retryAfterMs,
          quota: result.quota,
          wallMs: wall2(),
          views: result.views,
          counted: options.countTokens
        });
      };
      const keep = (ctx, scopes, lease, views) => {
        const held = requests.get(ctx.vars);
        if (isAdmitted(held)) store.release(held.lease);
        const budgets = spendsTokens(ctx) ? scopes.filter((s2) => s2.limit.tokens !== void 0 || s2.limit.quotas?.some((q) => q.what === "tokens")) : [];
        requests.set(ctx.vars, { lease, views, budgets: budgets.length > 0 ? budgets : void 0 });
        return void 0;
      };
      const charge = (ctx) => {
        const state = requests.get(ctx.vars);
        if (!isAdmitted(state) || state.budgets === void 0 || ctx.vars.usage === void 0) return;
        const amount = counted(ctx.vars.usage, options.countTokens);
        if (amount > 0) store.charge(state.budgets, amount, now(), wall2());
        state.budgets = void 0;
      };
      const decide = (ctx, who, model, scopes, result, waited) => {
        if (!result.ok) return refuse(ctx, who, model, scopes, result);
        if (waited && ctx.signal.aborted) {
          store.release(result.lease);
          return void 0;
        }
        return keep(ctx, scopes, result.lease, result.views);
      };
      const admit = (ctx, who, model) => {
        const scopes = scopesOf(who, model);
        if (scopes.length === 0) return void 0;
        const tokens = spendsTokens(ctx);
        const first = store.admit(scopes, now(), tokens, wall2());
        const settle = async (result) => {
          if (result.ok || result.reason !== "concurrency" || options.waitForSlotMs === 0) return decide(ctx, who, model, scopes, result, true);
          await store.waitForSlot(result.key, options.waitForSlotMs, ctx.signal);
          if (ctx.signal.aborted) return void 0;
          return decide(ctx, who, model, scopes, await store.admit(scopes, now(), tokens, wall2()), true);
        };
        if (first instanceof Promise) return first.then(settle);
        if (first.ok || first.reason !== "concurrency" || options.waitForSlotMs === 0) return decide(ctx, who, model, scopes, first, false);
        return settle(first);
      };
      return {
        needs: {
          requestBody: (_request, _route, vars) => isPending(requests.get(vars)),
          // Only to charge tokens: openai-usage reads the same body, so this adds no round trip.
          responseBody: (response, _request, vars) => {
            const state = requests.get(vars);
            return response.status === 200 && isAdmitted(state) && state.budgets !== void 0;
          }
        },
        requestHeaders(ctx) {
          const who = caller(ctx);
          if (who.policy.unlimited) return void 0;
          if (ctx.route.model === void 0 && !who.policy.models.empty) {
            if (ctx.request.protocol === "openai" && ctx.request.hasBody) {
              requests.set(ctx.vars, { deferred: who });
              return void 0;
            }
            const target2 = ctx.request.target;
            if (target2?.model !== void 0) throw misplaced2();
          }
          return admit(ctx, who, ctx.route.model);
        },
        requestBody(ctx) {
          const state = requests.get(ctx.vars);
          if (!isPending(state)) return void 0;
          requests.delete(ctx.vars);
          if (ctx.route.model === void 0 && typeof jsonObjectOrUndefined(ctx)?.model === "string") throw misplaced2();
          return admit(ctx, state.deferred, ctx.route.model);
        },
        responseHeaders(ctx) {
          const state = requests.get(ctx.vars);
          if (!isAdmitted(state)) return;
          if (!ctx.response.streaming) store.release(state.lease);
          for (const [name, value] of Object.entries(rateHeaders(state.views))) ctx.headers.set(name, value);
        },
        // A whole answer: its one chunk comes after every responseBody hook, so after openai-usage read it.
        responseChunk(ctx) {
          if (ctx.endOfStream && !ctx.response.streaming) charge(ctx);
        },
        // A stream: its usage chunk comes before `[DONE]`.
        responseEvent(ctx) {
          if (ctx.done) charge(ctx);
        },
        end(ctx) {
          const state = requests.get(ctx.vars);
          if (state === void 0) return;
          charge(ctx);
          requests.delete(ctx.vars);
          if (isAdmitted(state)) store.release(state.lease);
        },
        close() {
          claim.release();
        }
      };
    }
  });
}
var REFUSED = {
  rate: "request over its rate limit",
  concurrency: "request over its concurrency limit",
  tokens: "request over its token limit",
  quota: "request over its calendar quota",
  unavailable: "limits store unavailable; request refused (onFailure: closed)"
};
function spendsTokens(ctx) {
  return ctx.request.protocol === "openai";
}
function counted(usage, which) {
  return which === "prompt" ? usage.prompt : which === "completion" ? usage.completion : usage.prompt + usage.completion;
}
function isPending(state) {
  return state !== void 0 && "deferred" in state;
}
function isAdmitted(state) {
  return state !== void 0 && "lease" in state;
}
function misplaced2() {
  return new Error("consumer-limits has per-model limits but ran before the model was resolved; place it after model-router");
}
var consumer_limits_default = createConsumerLimits();

// plugins/index.ts
var builtinPlugins = [
  model_router_default,
  openai_usage_default,
  sentiment_text_default,
  pii_redact_default,
  request_defaults_default,
  sse_content_filter_default,
  api_key_auth_default,
  jwt_auth_default,
  model_access_default,
  openai_validation_default,
  kserve_v2_validation_default,
  tfserving_validation_default,
  consumer_limits_default
];

// bench/messages.ts
async function benchRuntime(input, log2) {
  const registry = await createRegistry(builtinPlugins, [], process.cwd());
  return buildRuntime({ config: parseConfigText(stringify(input)), hash: "bench", path: `${process.cwd()}/bench.yaml` }, registry, log2);
}
function headerMap2(headers2) {
  return { headers: Object.entries(headers2).map(([key, value]) => ({ key, value: "", rawValue: Buffer.from(value, "latin1") })) };
}
var msg = {
  requestHeaders: (headers2, endOfStream = false) => ProcessingRequest.fromPartial({ request: { $case: "requestHeaders", value: { headers: headerMap2(headers2), endOfStream } } }),
  requestBody: (body2, endOfStream = true) => ProcessingRequest.fromPartial({ request: { $case: "requestBody", value: { body: Buffer.from(body2), endOfStream } } }),
  responseHeaders: (headers2, endOfStream = false) => ProcessingRequest.fromPartial({ request: { $case: "responseHeaders", value: { headers: headerMap2(headers2), endOfStream } } }),
  responseBody: (body2, endOfStream = true) => ProcessingRequest.fromPartial({ request: { $case: "responseBody", value: { body: Buffer.from(body2), endOfStream } } })
};

// envoy/render.ts
import { stringify as stringify2 } from "yaml";

// envoy/body-model.ts
var OPENAI_PATHS = "/v1/(chat/completions|completions|embeddings)";
var OPENAI_PATH_REGEX = `^${OPENAI_PATHS}$`;

// envoy/fail-open.ts
var EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
var failOpenOverride = {
  [EXT_PROC_FILTER]: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
    overrides: { failure_mode_allow: true }
  }
};

// envoy/compression.ts
var REQUEST_ENCODINGS = ["gzip", "br", "zstd"];
var UNSUPPORTED_ENCODING_MESSAGE = `This Content-Encoding is not supported; send the body as it is or encoded with ${REQUEST_ENCODINGS.join(", ")}`;

// bench/configs.ts
var UPSTREAM_BODY = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 200, completion_tokens: 1, total_tokens: 201 }
});
function body(kind, model, size = 1024) {
  const make = (pad2) => kind === "openai" ? JSON.stringify({ model, messages: [{ role: "user", content: pad2 }], max_tokens: 16 }) : JSON.stringify({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: [pad2] }] });
  const base = make("").length;
  return make("x".repeat(Math.max(0, size - base)));
}
function fullChainHeaders() {
  if (process.env.BENCH_HEADERS) return JSON.parse(process.env.BENCH_HEADERS);
  return { authorization: "Bearer demo-key" };
}

// bench/targets.ts
import { mkdtemp, readFile as readFile3, writeFile } from "node:fs/promises";
import { join as join2 } from "node:path";
import { parse, stringify as stringify4 } from "yaml";

// scripts/envoy-bin.ts
import path from "node:path";
import { fileURLToPath as fileURLToPath2 } from "node:url";
var REPO_ROOT = path.resolve(path.dirname(fileURLToPath2(import.meta.url)), "..");

// scripts/stack/redis.ts
var STACK_REDIS_URL_ENV = "GATEWAY_REDIS_URL";

// bench/procs.ts
import { stringify as stringify3 } from "yaml";

// bench/targets.ts
var TITLES = {
  plain: "plain Envoy",
  floor: "floor: plain Envoy + no-op Go ext_proc",
  headers: "ours, headers only",
  body: "ours, buffered body + usage",
  full: "ours, full example chain",
  "full-redis": "ours, full example chain + limits in Redis"
};
var isOurs = (k) => k !== "plain" && k !== "floor";
function targetList(kinds, transports) {
  const openai = body("openai", "bench");
  const json = { "content-type": "application/json" };
  const request = {
    plain: { path: "/v1/chat/completions", body: openai, headers: json },
    floor: { path: "/v1/chat/completions", body: openai, headers: json },
    // kserve-v2 names the model in the path: the ext-proc sees request and response headers only.
    headers: { path: "/v2/models/bench/versions/v1/infer", body: body("v2", "bench"), headers: json },
    body: { path: "/v1/chat/completions", body: openai, headers: json },
    full: { path: "/v1/chat/completions", body: body("openai", "tinylm"), headers: { ...json, ...fullChainHeaders() } },
    "full-redis": { path: "/v1/chat/completions", body: body("openai", "tinylm"), headers: { ...json, ...fullChainHeaders() } }
  };
  return kinds.flatMap((kind) => {
    const base = { kind, ...request[kind] };
    if (!isOurs(kind) || transports.length === 0) return [{ ...base, key: kind, title: TITLES[kind] }];
    return transports.map((t) => ({ ...base, key: `${kind}@${t}`, title: `${TITLES[kind]} [${t}]`, transport: t }));
  });
}
var endpoint = (port) => ({ endpoints: [`127.0.0.1:${port}`], healthCheck: { path: "/health", intervalMs: 1e3 } });
async function gatewayConfig(kind, upstreamPort) {
  if (kind === "full-redis") return withLimitsInRedis(await gatewayConfig("full", upstreamPort));
  if (kind === "full") {
    const example = parse(await readFile3(join2(REPO_ROOT, "examples/gateway.yaml"), "utf8"));
    for (const m of Object.values(example.models)) for (const v of Object.values(m.versions)) Object.assign(v, endpoint(upstreamPort));
    return example;
  }
  if (kind === "headers") return { plugins: [{ type: "model-router" }], models: { bench: { protocol: "kserve-v2", versions: { v1: endpoint(upstreamPort) } } } };
  return { plugins: [{ type: "model-router" }, { type: "openai-usage" }], models: { bench: { protocol: "openai", versions: { v1: endpoint(upstreamPort) } } } };
}
function withLimitsInRedis(config2) {
  for (const p of config2.plugins ?? []) {
    if (p.type !== "consumer-limits") continue;
    p.options = { ...p.options, store: "redis", redis: { urlEnv: STACK_REDIS_URL_ENV, timeoutMs: 500, onFailure: "closed" } };
    p.timeoutMs = 900;
  }
  return config2;
}

// bench/processor.ts
var { values } = parseArgs({ options: { requests: { type: "string", default: "20000" }, mode: { type: "string", default: "full" } } });
var n = Number(values.requests);
var mode = values.mode;
if (!["headers", "body", "full"].includes(mode)) throw new Error(`--mode is headers, body or full, not ${mode}`);
var config = await gatewayConfig(mode, 1);
var target = targetList([mode], [])[0];
var path2 = target.path;
var reqBody = target.body;
var sink = new Writable({ write: (_c, _e, cb) => cb() });
var log = createLogger("info", sink);
var runtime = await benchRuntime(config, log);
var metrics = createMetrics();
var observer = combineObservers(metricsObserver(metrics), { finished: accessLogger(log) });
var headers = {
  ":method": "POST",
  ":path": path2,
  ":authority": "gateway",
  ":scheme": "http",
  "content-type": "application/json",
  "content-length": String(reqBody.length),
  "user-agent": "h2load nghttp2/1.52.0",
  "x-forwarded-proto": "http",
  "x-request-id": "6c5e2b1a-2f4e-4c3b-9f0e-1a2b3c4d5e6f",
  ...mode === "full" ? fullChainHeaders() : {}
};
var wire = {
  requestHeaders: ProcessingRequest.encode(msg.requestHeaders(headers)).finish(),
  requestBody: ProcessingRequest.encode(msg.requestBody(reqBody)).finish(),
  responseHeaders: ProcessingRequest.encode(
    msg.responseHeaders({ ":status": "200", "content-type": "application/json", "content-length": String(UPSTREAM_BODY.length), "x-envoy-upstream-service-time": "1" })
  ).finish(),
  responseBody: ProcessingRequest.encode(msg.responseBody(UPSTREAM_BODY)).finish()
};
async function one() {
  const p = new StreamProcessor(runtime, log, observer);
  let messages2 = 0;
  for (const bytes2 of [wire.requestHeaders, wire.requestBody, wire.responseHeaders, wire.responseBody]) {
    const m = decodeProcessingRequest(bytes2);
    if (m.request?.$case === "requestBody" && skipRequestBody) continue;
    if (m.request?.$case === "responseBody" && skipResponseBody) continue;
    const out = await p.handle(m);
    encodeProcessingResponse(out);
    messages2++;
    if (out.response?.$case === "immediateResponse") throw new Error("the bench request was refused: check BENCH_HEADERS");
    if (out.response?.$case === "requestHeaders") skipRequestBody = out.modeOverride?.requestBodyMode === 0;
    if (out.response?.$case === "responseHeaders") skipResponseBody = out.modeOverride === void 0;
  }
  await p.end(false);
  return messages2;
}
var skipRequestBody = false;
var skipResponseBody = false;
for (let i = 0; i < 2e3; i++) await one();
var heap0 = process.memoryUsage().heapUsed;
var cpu0 = process.cpuUsage();
var t0 = performance.now();
var messages = 0;
for (let i = 0; i < n; i++) messages += await one();
var wall = performance.now() - t0;
var cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${mode}: ${n} requests (${(messages / n).toFixed(0)} ext_proc messages each) in ${wall.toFixed(0)} ms: ${((cpu.user + cpu.system) / n).toFixed(1)} \xB5s CPU/request, ${Math.round(n / wall * 1e3)} requests/s on one core (heap ${((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toFixed(1)} MB after)
`
);
