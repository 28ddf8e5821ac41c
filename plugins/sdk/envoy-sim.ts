import { randomUUID } from 'node:crypto';
import { HeaderValueOption_HeaderAppendAction as AppendAction } from '../../ext-proc/gen/envoy/config/core/v3/base.js';
import type {
  BodyMutation,
  CommonResponse,
  HeaderMutation,
  ProcessingRequest,
  ProcessingResponse,
} from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { processingMode_BodySendModeToJSON } from '../../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { BodyMode, FILTER_BODY_MODES, FILTER_RESPONSE_HEADER_MODE } from '../../ext-proc/envoy-messages.js';
import { ProcessingMode_HeaderSendMode } from '../../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { CLUSTER_HEADER, INTERNAL_REQUEST_HEADERS, NO_MODEL_SELECTED } from './wire.js';
import { bodyModelMetadata } from './envoy-sim-metadata.js';

/**
 * An in-process imitation of Envoy's ext_proc filter as the gateway configures it, for tests
 * without Envoy: it sends the processor the messages Envoy would (honouring mode overrides),
 * checks each answer has the matching kind, applies header and body mutations with Envoy's
 * default mutation rules, routes on the cluster header and plays a model server's response.
 */

export interface SimProcessor {
  /** Its answers to one message, in order (the default filter: exactly one). */
  handle(msg: ProcessingRequest): Promise<readonly ProcessingResponse[]>;
  /** What the server runs once an answer is written (hooks that only observe a response body). */
  runDeferred(): void;
  end(cancelled: boolean): Promise<void>;
  readonly complete: boolean;
}

export interface SimRequest {
  method?: string;
  /** Path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers?: Readonly<Record<string, string>>;
  /** Serialised as the body, with `content-type: application/json`. */
  json?: unknown;
  body?: string | Buffer;
}

/** What the model server received. */
export interface SimUpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The cluster Envoy routed to (`model@version`). */
  readonly cluster: string;
}

export interface SimResponse {
  status?: number;
  headers?: Readonly<Record<string, string>>;
  json?: unknown;
  body?: string | Buffer;
  /** A streamed body: each entry reaches Envoy as one chunk. */
  chunks?: readonly (string | Buffer)[];
  /** An SSE body: each entry (JSON-serialised unless a string) becomes one `data:` event, one chunk each. */
  sse?: readonly unknown[];
}

export type SimUpstream = SimResponse | ((request: SimUpstreamRequest) => SimResponse | Promise<SimResponse>);

export type SimPhase = 'requestHeaders' | 'requestBody' | 'responseHeaders' | 'responseBody';

export interface SimMessage {
  /** What Envoy sent. */
  readonly phase: SimPhase;
  /** What the processor answered: the phase again, or `immediateResponse`. */
  readonly answer: string;
  readonly endOfStream: boolean;
  readonly bodyBytes?: number;
  readonly headerMutation?: { set: Record<string, string>; remove: string[] };
  readonly bodyReplaced?: boolean;
  readonly clearRouteCache?: boolean;
  readonly modeOverride?: { requestBody: string; responseBody: string };
}

export interface SimImmediate {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly details: string;
}

export interface SimResult {
  readonly messages: readonly SimMessage[];
  /** Undefined when nothing reached a model server. */
  readonly upstream: SimUpstreamRequest | undefined;
  readonly immediate: SimImmediate | undefined;
  /** What the client received. */
  readonly client: { status: number; headers: Readonly<Record<string, string>>; chunks: readonly Buffer[]; body: Buffer };
  /** Body modes in effect at the end of the exchange. */
  readonly modes: { requestBody: string; responseBody: string };
  /** Mutations Envoy would drop (`rejected_header_mutations`), as `set x` / `remove x`. */
  readonly rejectedMutations: readonly string[];
  readonly cancelled: boolean;
}

export interface SimOptions {
  /** Whether Envoy has a route (cluster) for this `model@version`. */
  hasCluster: (cluster: string) => boolean;
  /** Stop after Envoy got the answer to this phase, as when the client goes away. */
  cancelAfter?: SimPhase;
  /**
   * How a streamed body ends: Envoy sends an empty end-of-stream chunk after the data when the
   * upstream uses chunked encoding (`separate`), or flags the last chunk (`last-chunk`).
   */
  streamEnd?: 'separate' | 'last-chunk';
  /**
   * Whether Envoy forwards an OpenAI body's `model` with the request headers, as the gateway's
   * rendered config does (json_to_metadata). Default true; false is Envoy Gateway, which does not.
   */
  readsBodyModel?: boolean;
}

class Cancelled extends Error {}

const DISALLOWED = new Set(['host', ':authority', ':scheme', ':method']);

/** Envoy's default HeaderMutationRules: routing-critical and `x-envoy-` headers can't change, pseudo-headers can't go. */
function applyHeaderMutation(headers: Map<string, string>, mutation: HeaderMutation | undefined, rejected: string[]): void {
  if (!mutation) return;
  for (const opt of mutation.setHeaders) {
    const key = (opt.header?.key ?? '').toLowerCase();
    const raw = opt.header?.rawValue;
    const value = raw && raw.length > 0 ? raw.toString('latin1') : (opt.header?.value ?? '');
    if (DISALLOWED.has(key) || key.startsWith('x-envoy-') || key === '') {
      rejected.push(`set ${key}`);
      continue;
    }
    if (value === '' && !opt.keepEmptyValue) continue;
    const existing = headers.get(key);
    switch (opt.appendAction) {
      case AppendAction.ADD_IF_ABSENT:
        if (existing === undefined) headers.set(key, value);
        break;
      case AppendAction.OVERWRITE_IF_EXISTS:
        if (existing !== undefined) headers.set(key, value);
        break;
      case AppendAction.APPEND_IF_EXISTS_OR_ADD:
        headers.set(key, existing === undefined ? value : `${existing},${value}`);
        break;
      default:
        headers.set(key, value);
    }
  }
  for (const name of mutation.removeHeaders) {
    const key = name.toLowerCase();
    if (key.startsWith(':') || key === 'host' || key.startsWith('x-envoy-')) {
      rejected.push(`remove ${key}`);
      continue;
    }
    headers.delete(key);
  }
}

function applyBodyMutation(body: Buffer, mutation: BodyMutation | undefined): Buffer {
  const m = mutation?.mutation;
  if (!m) return body;
  if (m.$case === 'clearBody') return m.value ? Buffer.alloc(0) : body;
  return m.value;
}

function describeMutation(m: HeaderMutation | undefined): SimMessage['headerMutation'] {
  if (!m || (m.setHeaders.length === 0 && m.removeHeaders.length === 0)) return undefined;
  const set: Record<string, string> = {};
  for (const o of m.setHeaders) set[o.header?.key ?? ''] = o.header?.rawValue?.length ? o.header.rawValue.toString('latin1') : (o.header?.value ?? '');
  return { set, remove: [...m.removeHeaders] };
}

const toBuffer = (b: string | Buffer) => (typeof b === 'string' ? Buffer.from(b) : b);

function headerMessage(headers: Map<string, string>, endOfStream: boolean) {
  return {
    headers: { headers: [...headers].map(([key, value]) => ({ key, value: '', rawValue: Buffer.from(value, 'latin1') })) },
    attributes: {},
    endOfStream,
  };
}

function normalizeResponse(r: SimResponse): { status: number; headers: Map<string, string>; chunks: Buffer[] } {
  const headers = new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  let chunks: Buffer[];
  if (r.sse) {
    headers.set('content-type', headers.get('content-type') ?? 'text/event-stream');
    chunks = r.sse.map((e) => Buffer.from(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`));
  } else if (r.chunks) {
    chunks = r.chunks.map(toBuffer);
  } else if (r.json !== undefined) {
    headers.set('content-type', headers.get('content-type') ?? 'application/json');
    chunks = [Buffer.from(JSON.stringify(r.json))];
  } else {
    chunks = r.body === undefined ? [] : [toBuffer(r.body)];
  }
  // A body given whole gets a content-length, as a model server would send; chunks are chunked.
  if (!r.sse && !r.chunks && !headers.has('content-length')) headers.set('content-length', String(Buffer.concat(chunks).length));
  return { status: r.status ?? 200, headers, chunks: chunks.filter((c) => c.length > 0) };
}

const modeName = (m: BodyMode) => processingMode_BodySendModeToJSON(m);
const plain = (headers: Map<string, string>) => Object.fromEntries([...headers].filter(([k]) => !k.startsWith(':')));

/** Drives one HTTP exchange through `processor` the way Envoy would. */
export async function simulateExchange(
  processor: SimProcessor,
  request: SimRequest,
  upstream: SimUpstream,
  opts: SimOptions,
): Promise<SimResult> {
  const messages: SimMessage[] = [];
  const rejected: string[] = [];
  const modes = { request: FILTER_BODY_MODES.request as BodyMode, response: FILTER_BODY_MODES.response as BodyMode };
  let responseHeadersSent = FILTER_RESPONSE_HEADER_MODE === ProcessingMode_HeaderSendMode.SEND;
  let immediate: SimImmediate | undefined;
  let upstreamRequest: SimUpstreamRequest | undefined;
  let client: SimResult['client'] = { status: 0, headers: {}, chunks: [], body: Buffer.alloc(0) };
  let cancelled = false;

  let metadataContext: ProcessingRequest['metadataContext'];
  /** One message out, one answer back; anything but the matching kind or an immediate response is a protocol error. */
  const send = async (phase: SimPhase, msg: ProcessingRequest['request'], extra: { endOfStream: boolean; bodyBytes?: number }) => {
    // The simulator is the gateway's default filter: one answer per message (never pipelined).
    const answers = await processor.handle({ request: msg, metadataContext, attributes: {}, observabilityMode: false });
    // As the server does once the answer is written: hooks that only observe the body run now.
    processor.runDeferred();
    const out = answers[0];
    if (answers.length !== 1 || !out) throw new Error(`ext_proc protocol error: Envoy sent ${phase} and got ${answers.length} answers back`);
    const kind = out.response?.$case ?? 'none';
    if (kind !== phase && kind !== 'immediateResponse') {
      throw new Error(`ext_proc protocol error: Envoy sent ${phase} and got ${kind} back`);
    }
    const commonResponse: CommonResponse | undefined =
      out.response && out.response.$case !== 'immediateResponse' && 'response' in out.response.value ? out.response.value.response : undefined;
    const override = out.modeOverride;
    // Envoy only honours a mode override on a headers answer.
    if (override && (phase === 'requestHeaders' || phase === 'responseHeaders')) {
      if (phase === 'requestHeaders') {
        modes.request = override.requestBodyMode;
        responseHeadersSent = override.responseHeaderMode === ProcessingMode_HeaderSendMode.SEND;
      }
      modes.response = override.responseBodyMode;
    }
    messages.push({
      phase,
      answer: kind,
      endOfStream: extra.endOfStream,
      ...(extra.bodyBytes !== undefined && { bodyBytes: extra.bodyBytes }),
      ...(commonResponse?.headerMutation && { headerMutation: describeMutation(commonResponse.headerMutation) }),
      ...(commonResponse?.bodyMutation && { bodyReplaced: true }),
      ...(commonResponse?.clearRouteCache && { clearRouteCache: true }),
      ...(override && { modeOverride: { requestBody: modeName(override.requestBodyMode), responseBody: modeName(override.responseBodyMode) } }),
    });
    if (out.response?.$case === 'immediateResponse') {
      const v = out.response.value;
      const headers = new Map<string, string>();
      applyHeaderMutation(headers, v.headers, rejected);
      immediate = { status: v.status?.code ?? 200, headers: Object.fromEntries(headers), body: v.body, details: v.details };
      client = { status: immediate.status, headers: immediate.headers, chunks: [v.body], body: v.body };
    }
    if (opts.cancelAfter === phase && !immediate) throw new Cancelled();
    return commonResponse;
  };

  try {
    // ---- request --------------------------------------------------------------------------
    const reqHeaders = new Map<string, string>([
      [':method', request.method ?? (request.json !== undefined || request.body !== undefined ? 'POST' : 'GET')],
      [':path', request.path],
      [':authority', 'gateway.test'],
      [':scheme', 'http'],
    ]);
    for (const [k, v] of Object.entries(request.headers ?? {})) reqHeaders.set(k.toLowerCase(), v);
    // Envoy's header_mutation filter strips these before ext_proc; generate_request_id adds an id.
    for (const name of INTERNAL_REQUEST_HEADERS) reqHeaders.delete(name);
    if (!reqHeaders.has('x-request-id')) reqHeaders.set('x-request-id', randomUUID());
    let reqBody = request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : request.body === undefined ? Buffer.alloc(0) : toBuffer(request.body);
    if (request.json !== undefined && !reqHeaders.has('content-type')) reqHeaders.set('content-type', 'application/json');
    if (reqBody.length > 0 && !reqHeaders.has('content-length')) reqHeaders.set('content-length', String(reqBody.length));
    const hasBody = reqBody.length > 0;
    if (opts.readsBodyModel ?? true) metadataContext = bodyModelMetadata(request.path, reqBody);

    const headersAnswer = await send('requestHeaders', { $case: 'requestHeaders', value: headerMessage(reqHeaders, !hasBody) }, { endOfStream: !hasBody });
    if (immediate) return finish();
    applyHeaderMutation(reqHeaders, headersAnswer?.headerMutation, rejected);

    if (hasBody && modes.request !== BodyMode.NONE) {
      const answer = await send('requestBody', { $case: 'requestBody', value: { body: reqBody, endOfStream: true } }, { endOfStream: true, bodyBytes: reqBody.length });
      if (immediate) return finish();
      applyHeaderMutation(reqHeaders, answer?.headerMutation, rejected);
      if (answer?.bodyMutation) {
        reqBody = applyBodyMutation(reqBody, answer.bodyMutation);
        checkContentLength(reqHeaders, reqBody, 'request');
      }
    }

    // ---- routing and the model server -----------------------------------------------------
    const cluster = reqHeaders.get(CLUSTER_HEADER);
    let response: ReturnType<typeof normalizeResponse>;
    if (cluster !== undefined && opts.hasCluster(cluster)) {
      upstreamRequest = {
        method: reqHeaders.get(':method') ?? 'GET',
        path: reqHeaders.get(':path') ?? '/',
        headers: plain(reqHeaders),
        body: reqBody,
        cluster,
      };
      const planned = typeof upstream === 'function' ? await upstream(upstreamRequest) : upstream;
      response = normalizeResponse(planned);
    } else {
      response = normalizeResponse({ status: NO_MODEL_SELECTED.status, json: JSON.parse(NO_MODEL_SELECTED.body) as unknown });
    }

    // ---- response -------------------------------------------------------------------------
    const resHeaders = new Map<string, string>([[':status', String(response.status)], ...response.headers]);
    const resHasBody = response.chunks.length > 0;
    if (!responseHeadersSent) {
      // Response processing stayed off: the answer passes through untouched.
      client = { status: response.status, headers: plain(resHeaders), chunks: response.chunks, body: Buffer.concat(response.chunks) };
      return finish();
    }
    const rhAnswer = await send('responseHeaders', { $case: 'responseHeaders', value: headerMessage(resHeaders, !resHasBody) }, { endOfStream: !resHasBody });
    if (immediate) return finish();
    applyHeaderMutation(resHeaders, rhAnswer?.headerMutation, rejected);

    const chunksOut: Buffer[] = [];
    if (!resHasBody || modes.response === BodyMode.NONE) {
      chunksOut.push(...response.chunks);
    } else if (modes.response === BodyMode.BUFFERED) {
      const whole = Buffer.concat(response.chunks);
      const answer = await send('responseBody', { $case: 'responseBody', value: { body: whole, endOfStream: true } }, { endOfStream: true, bodyBytes: whole.length });
      if (immediate) return finish();
      // Buffered: Envoy still holds the headers, so mutations of them apply.
      applyHeaderMutation(resHeaders, answer?.headerMutation, rejected);
      const body = applyBodyMutation(whole, answer?.bodyMutation);
      if (answer?.bodyMutation) checkContentLength(resHeaders, body, 'response');
      chunksOut.push(body);
    } else {
      // Streamed: the headers are gone already and content-length no longer applies.
      resHeaders.delete('content-length');
      const parts = response.chunks.map((c) => ({ body: c, endOfStream: false }));
      if ((opts.streamEnd ?? 'separate') === 'separate') parts.push({ body: Buffer.alloc(0), endOfStream: true });
      else (parts.at(-1) as { endOfStream: boolean }).endOfStream = true;
      for (const part of parts) {
        const answer = await send('responseBody', { $case: 'responseBody', value: part }, { endOfStream: part.endOfStream, bodyBytes: part.body.length });
        if (immediate) throw new Error('ext_proc answered a streamed response body with an immediate response: Envoy would reset the stream');
        const out = applyBodyMutation(part.body, answer?.bodyMutation);
        if (out.length > 0) chunksOut.push(out);
      }
    }
    const status = Number(resHeaders.get(':status') ?? response.status);
    client = { status, headers: plain(resHeaders), chunks: chunksOut, body: Buffer.concat(chunksOut) };
    return finish();
  } catch (err) {
    if (!(err instanceof Cancelled)) {
      await processor.end(true);
      throw err;
    }
    cancelled = true;
    return finish();
  }

  async function finish(): Promise<SimResult> {
    // As the server does: a stream that ends before its last message is a cancellation.
    await processor.end(!processor.complete);
    return {
      messages,
      upstream: upstreamRequest,
      immediate,
      client,
      modes: { requestBody: modeName(modes.request), responseBody: modeName(modes.response) },
      rejectedMutations: rejected,
      cancelled,
    };
  }
}

/** Envoy rejects a replaced buffered body whose content-length header no longer fits. */
function checkContentLength(headers: Map<string, string>, body: Buffer, direction: string): void {
  const declared = headers.get('content-length');
  if (declared !== undefined && Number(declared) !== body.length) {
    throw new Error(`${direction} body replaced (${body.length} bytes) but content-length still says ${declared}: Envoy would reject it`);
  }
}

