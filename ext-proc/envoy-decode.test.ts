import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProcessingRequest } from './envoy-decode.js';
import { ProcessingRequest } from './gen/envoy/service/ext_proc/v3/external_processor.js';

const header = fc.record({
  key: fc.string({ maxLength: 20 }),
  value: fc.string({ maxLength: 20 }),
  rawValue: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
});
const headers = fc.record({
  headers: fc.option(fc.record({ headers: fc.array(header, { maxLength: 12 }) }), { nil: undefined }),
  endOfStream: fc.boolean(),
  attributes: fc.constant({}),
});
const body = fc.record({ body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), endOfStream: fc.boolean() });
const request = fc.oneof(
  headers.map((value) => ({ $case: 'requestHeaders' as const, value })),
  headers.map((value) => ({ $case: 'responseHeaders' as const, value })),
  body.map((value) => ({ $case: 'requestBody' as const, value })),
  body.map((value) => ({ $case: 'responseBody' as const, value })),
  fc.constant({ $case: 'requestTrailers' as const, value: { trailers: { headers: [{ key: 'grpc-status', value: '0', rawValue: Buffer.alloc(0) }] } } }),
);
const message = fc.record({
  request: fc.option(request, { nil: undefined }),
  observabilityMode: fc.boolean(),
  attributes: fc.option(fc.constant({ 'envoy.filters.http.ext_proc': { 'request.path': '/x' } }), { nil: undefined }),
  // What json_to_metadata forwards with OpenAI requests (envoy/body-model.ts), or anything else.
  metadataContext: fc.option(
    fc.record({
      filterMetadata: fc.dictionary(fc.string({ maxLength: 20 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()))),
    }),
    { nil: undefined },
  ),
});

describe('decodeProcessingRequest', () => {
  it('decodes every message exactly as the generated decoder does', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = Buffer.from(ProcessingRequest.encode(ProcessingRequest.fromPartial(m as Parameters<typeof ProcessingRequest.fromPartial>[0])).finish());
        expect(decodeProcessingRequest(bytes)).toEqual(ProcessingRequest.decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses truncated messages as the generated decoder does (an error, never a partial message)', () => {
    const bytes = Buffer.from(
      ProcessingRequest.encode(ProcessingRequest.fromPartial({ request: { $case: 'requestHeaders', value: { headers: { headers: [{ key: ':path', rawValue: Buffer.from('/v1/x') }] } } } })).finish(),
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      const part = bytes.subarray(0, cut);
      let generated: unknown;
      try {
        generated = ProcessingRequest.decode(part);
      } catch {
        generated = 'error';
      }
      let fast: unknown;
      try {
        fast = decodeProcessingRequest(part);
      } catch {
        fast = 'error';
      }
      expect(fast === 'error').toBe(generated === 'error');
    }
  });

  it('reads protocol_config (field 11, newer than the generated stubs) on the fast path and with attributes', () => {
    // What Envoy 1.40 sends on a pipelined route: STREAMED, STREAMED, send_body_without_waiting_for_header_response.
    const config = Buffer.from('5a06080110011801', 'hex');
    const expected = { requestBodyMode: 1, responseBodyMode: 1, sendBodyWithoutWaitingForHeaderResponse: true };
    const plain = { request: { $case: 'requestHeaders' as const, value: { headers: { headers: [{ key: ':path', value: '', rawValue: Buffer.from('/v1/x') }] }, endOfStream: false } } };
    const withAttributes = { ...plain, attributes: { 'envoy.filters.http.ext_proc': { 'request.path': '/x' } } };
    for (const m of [plain, withAttributes]) {
      const bytes = Buffer.concat([Buffer.from(ProcessingRequest.encode(ProcessingRequest.fromPartial(m as Parameters<typeof ProcessingRequest.fromPartial>[0])).finish()), config]);
      const decoded = decodeProcessingRequest(bytes);
      expect(decoded.protocolConfig).toEqual(expected);
      // Everything else as the generated decoder reads it.
      const { protocolConfig: _, ...rest } = decoded;
      expect(rest).toEqual(ProcessingRequest.decode(bytes));
    }
    // A filter that is not pipelined (BUFFERED request bodies; defaults are left out on the wire).
    const buffered = Buffer.concat([Buffer.from(ProcessingRequest.encode(ProcessingRequest.fromPartial(plain)).finish()), Buffer.from('5a020802', 'hex')]);
    expect(decodeProcessingRequest(buffered).protocolConfig).toEqual({ requestBodyMode: 2, responseBodyMode: 0, sendBodyWithoutWaitingForHeaderResponse: false });
  });
});
