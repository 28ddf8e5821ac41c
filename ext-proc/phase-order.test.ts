import { describe, expect, it } from 'vitest';
import { msg } from '../test/harness/hostile-messages.js';
import { BodyMode, modeOverride } from './envoy-messages.js';
import type { ProcessingRequest, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { ProcessingMode_HeaderSendMode as HeaderMode } from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { FILTER_MODES, PhaseOrder, PhaseOrderError } from './phase-order.js';

// The answers a processor gives, as far as the order cares: the kind, and any mode override.
const answer = (phase: string, override?: ProcessingResponse['modeOverride']): ProcessingResponse =>
  ({ response: { $case: phase, value: {} }, modeOverride: override }) as ProcessingResponse;
const immediate = { response: { $case: 'immediateResponse', value: {} } } as ProcessingResponse;

const GET = msg.requestHeaders({ ':path': '/x' }, true);
const POST = msg.requestHeaders({ ':path': '/x' }, false);
const resHeaders = msg.responseHeaders({ ':status': '200' }, false);
const chunk = (eos: boolean) => msg.responseBody('x', eos);
const trailers = (dir: 'requestTrailers' | 'responseTrailers'): ProcessingRequest =>
  ({ request: { $case: dir, value: { trailers: { headers: [] } } }, attributes: {}, observabilityMode: false }) as ProcessingRequest;

/** Plays messages with their answers; returns the index of the first refused message, or -1. */
function play(steps: [ProcessingRequest, ProcessingResponse?][], order = new PhaseOrder()): number {
  for (const [i, [m, out]] of steps.entries()) {
    try {
      order.accept(m);
    } catch (err) {
      expect(err).toBeInstanceOf(PhaseOrderError);
      return i;
    }
    order.answered(m.request?.$case ?? 'requestHeaders', out ?? answer(m.request?.$case ?? ''));
  }
  return -1;
}

const bodies = (req: BodyMode, res: BodyMode) => modeOverride(req, res);

describe('the phase order Envoy can send', () => {
  it('accepts each order the gateway asks for', () => {
    // GET, nothing but headers.
    expect(play([[GET, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [msg.responseHeaders({ ':status': '200' }, true)]])).toBe(-1);
    // Buffered request body, buffered response body.
    expect(
      play([
        [POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))],
        [msg.requestBody('{}', true)],
        [resHeaders, answer('responseHeaders', bodies(BodyMode.NONE, BodyMode.BUFFERED))],
        [chunk(true)],
      ]),
    ).toBe(-1);
    // Streamed response: any number of chunks, the end flagged on the last or on an empty one after it.
    expect(
      play([
        [POST, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))],
        [resHeaders, answer('responseHeaders', bodies(BodyMode.NONE, BodyMode.STREAMED))],
        [chunk(false)],
        [chunk(false)],
        [chunk(true)],
      ]),
    ).toBe(-1);
    // A local reply (e.g. Envoy's 413 while buffering) comes back before the request body.
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [resHeaders]])).toBe(-1);
  });

  it('refuses a second request_headers', () => {
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [POST]])).toBe(1);
  });

  it('refuses a response body before response headers, and request headers after them', () => {
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.STREAMED))], [chunk(true)]])).toBe(1);
    expect(play([[msg.responseHeaders({ ':status': '200' })], [GET]])).toBe(0);
    expect(play([[GET, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [resHeaders], [GET]])).toBe(2);
  });

  it('holds Envoy to the modes the processor asked for, overrides included', () => {
    // Body NONE: no body message may come.
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [msg.requestBody('{}')]])).toBe(1);
    expect(play([[GET, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [resHeaders], [chunk(true)]])).toBe(2);
    // Without an override the filter's modes hold: response headers are SKIP, the request body BUFFERED.
    expect(play([[POST, answer('requestHeaders')], [msg.requestBody('{}')], [resHeaders]])).toBe(2);
    expect(FILTER_MODES.responseHeaders).toBe(HeaderMode.SKIP);
    // A buffered body comes once; a streamed one until its end of stream.
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [msg.requestBody('{}', true)], [msg.requestBody('{}', true)]])).toBe(2);
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [msg.requestBody('{', false)], [msg.requestBody('}', true)]])).toBe(2);
    expect(play([[GET, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [resHeaders, answer('responseHeaders', bodies(BodyMode.NONE, BodyMode.STREAMED))], [chunk(true)], [chunk(true)]])).toBe(3);
    // A request that ended with its headers has no body, whatever the mode.
    expect(play([[GET, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [msg.requestBody('{}')]])).toBe(1);
    // Overrides count only in answers to headers, and not when the filter disallows them.
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.BUFFERED, BodyMode.NONE))], [msg.requestBody('{}'), answer('requestBody', bodies(BodyMode.NONE, BodyMode.NONE))], [resHeaders]])).toBe(-1);
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [resHeaders]], new PhaseOrder(FILTER_MODES, false))).toBe(1);
  });

  it('refuses trailers unless their mode is SEND', () => {
    expect(play([[POST, answer('requestHeaders', bodies(BodyMode.NONE, BodyMode.NONE))], [trailers('requestTrailers')]])).toBe(1);
    const send = { ...bodies(BodyMode.NONE, BodyMode.NONE), requestTrailerMode: HeaderMode.SEND, responseTrailerMode: HeaderMode.SEND };
    expect(play([[POST, answer('requestHeaders', send)], [trailers('requestTrailers')], [resHeaders], [trailers('responseTrailers')]])).toBe(-1);
    expect(play([[trailers('responseTrailers')]])).toBe(0);
  });

  it('refuses anything after an immediate response, and a message without a phase', () => {
    expect(play([[POST, immediate], [msg.requestBody('{}')]])).toBe(1);
    expect(play([[GET, immediate], [resHeaders]])).toBe(1);
    expect(play([[{ request: undefined, attributes: {}, observabilityMode: false }]])).toBe(0);
  });

  it('refuses response headers while a pipelined request is held (its headers unanswered), not after', () => {
    const pipelined = () => {
      const order = new PhaseOrder();
      order.configure({ requestBodyMode: BodyMode.STREAMED, responseBodyMode: BodyMode.STREAMED, sendBodyWithoutWaitingForHeaderResponse: true });
      return order;
    };
    const held = pipelined();
    held.accept(POST);
    held.accept(msg.requestBody('{}', false));
    expect(() => held.accept(resHeaders)).toThrow(/request headers are not answered yet/);
    // The body's end answered the headers (with the last chunk): the response may come.
    const answered = pipelined();
    answered.accept(POST);
    answered.accept(msg.requestBody('{}', true));
    answered.answered('requestBody', answer('requestHeaders'));
    answered.answered('requestBody', answer('requestBody'));
    expect(() => answered.accept(resHeaders)).not.toThrow();
    // Envoy's own reply to a request never sent: no request headers to wait for; and none may follow it.
    const reply = pipelined();
    expect(() => reply.accept(resHeaders)).not.toThrow();
    expect(() => reply.accept(POST)).toThrow(/request headers after the response headers/);
  });
});
