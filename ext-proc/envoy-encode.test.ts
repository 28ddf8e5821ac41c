import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProcessingResponse } from './envoy-encode.js';
import { ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';

const text = fc.string({ maxLength: 30, unit: fc.constantFrom('a', 'b', '-', ':', 'é', '€', '0') });
const option = fc.record({
  header: fc.option(fc.record({ key: text, value: text, rawValue: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }), { nil: undefined }),
  appendAction: fc.integer({ min: 0, max: 3 }),
  keepEmptyValue: fc.boolean(),
  append: fc.option(fc.boolean(), { nil: undefined, freq: 8 }),
});
const common = fc.record({
  status: fc.integer({ min: 0, max: 1 }),
  headerMutation: fc.option(fc.record({ setHeaders: fc.array(option, { maxLength: 6 }), removeHeaders: fc.array(text, { maxLength: 4 }) }), { nil: undefined }),
  bodyMutation: fc.option(
    fc.record({
      mutation: fc.option(
        fc.oneof(
          fc.uint8Array({ maxLength: 20_000 }).map((b) => ({ $case: 'body' as const, value: Buffer.from(b) })),
          fc.boolean().map((value) => ({ $case: 'clearBody' as const, value })),
        ),
        { nil: undefined },
      ),
    }),
    { nil: undefined },
  ),
  clearRouteCache: fc.boolean(),
});
const answer = fc.oneof(
  ...(['requestHeaders', 'responseHeaders', 'requestBody', 'responseBody'] as const).map(($case) =>
    fc.record({ response: fc.option(common, { nil: undefined }) }).map((value) => ({ $case, value })),
  ),
  fc.constant({ $case: 'immediateResponse' as const, value: { status: { code: 403 }, headers: undefined, body: Buffer.from('no'), grpcStatus: undefined, details: 'x' } }),
);
const mode = fc.record({
  requestHeaderMode: fc.integer({ min: 0, max: 2 }),
  responseHeaderMode: fc.integer({ min: 0, max: 2 }),
  requestBodyMode: fc.integer({ min: 0, max: 4 }),
  responseBodyMode: fc.integer({ min: 0, max: 4 }),
  requestTrailerMode: fc.integer({ min: 0, max: 2 }),
  responseTrailerMode: fc.integer({ min: 0, max: 2 }),
});
const message = fc.record({
  response: fc.option(answer, { nil: undefined, freq: 10 }),
  modeOverride: fc.option(mode, { nil: undefined }),
  overrideMessageTimeout: fc.option(fc.constant({ seconds: 1, nanos: 0 }), { nil: undefined, freq: 10 }),
});

describe('encodeProcessingResponse', () => {
  it('writes exactly the bytes the generated encoder writes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const msg = ProcessingResponse.fromPartial(m as Parameters<typeof ProcessingResponse.fromPartial>[0]);
        expect(Buffer.from(encodeProcessingResponse(msg))).toEqual(Buffer.from(ProcessingResponse.encode(msg).finish()));
      }),
      { numRuns: 3000 },
    );
  });
});
