import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isPlainChatCompletion } from './fast-path.js';
import { ChatCompletionRequest, Message, ROLES } from './schemas.js';

// The pre-check may only answer "valid" for bodies zod accepts: zod is the contract. These
// properties run it against zod on generated bodies, valid and near-valid.

type Body = Record<string, unknown>;
type PreCheck = (body: Body) => boolean;

const zodAccepts = (body: Body): boolean => ChatCompletionRequest.safeParse(body).success;

/** The body as the plugin sees it: parsed from JSON text (ordinary objects; ±Infinity from `1e400`). */
function asParsed(value: unknown): Body {
  const text = JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? '<+inf>' : v === -Infinity ? '<-inf>' : v));
  return JSON.parse(text.replaceAll('"<+inf>"', '1e400').replaceAll('"<-inf>"', '-1e400')) as Body;
}

// Values near every bound the schema has, and values of every wrong type.
const numbers = fc.oneof(
  fc.constantFrom(0, 1, 2, -2, 0.5, 1.5, 2.5, -0.1, -1, 3, 5, 6, 20, 21, 128, 129, 256, -100, 100, -101, 101),
  fc.constantFrom(Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -(2 ** 60)),
  fc.integer({ min: -300, max: 300 }),
  fc.double({ min: -5, max: 5, noNaN: true }),
);
const junk = fc.constantFrom<unknown>(null, true, false, '', '1', 'auto', [], {}, ['a'], { type: 'text' });
const strings = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 4, unit: 'grapheme' }),
  fc.constantFrom('x'.repeat(256), 'x'.repeat(257), 'u'.repeat(512), 'u'.repeat(513), '😀'.repeat(128), '😀'.repeat(129)),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(numbers, junk, strings, fc.jsonValue({ maxDepth: 2 }));

const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ maxLength: 5 }), numbers, junk) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.oneof(fc.constantFrom('image_url', '', 'text'), numbers), image_url: fc.record({ url: fc.string() }) }, { requiredKeys: [] }),
  junk,
);
const toolCall = fc.record(
  { id: fc.oneof(fc.string({ maxLength: 3 }), numbers), type: fc.constantFrom('function', ''), function: fc.oneof(fc.record({ name: fc.string({ maxLength: 3 }), arguments: fc.oneof(fc.string(), numbers) }), junk) },
  { requiredKeys: [] },
);

// Valid bodies of the common shape: the pre-check must accept every one of them.
const validMessage = fc.record(
  { role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: fc.string({ maxLength: 40, unit: 'grapheme' }), name: fc.string({ minLength: 1, maxLength: 10 }), refusal: fc.string() },
  { requiredKeys: ['role', 'content'] },
);
const unit = fc.double({ min: 0, max: 1, noNaN: true });
const validChat = fc.record(
  {
    model: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constant('x'.repeat(256))),
    messages: fc.array(validMessage, { minLength: 1, maxLength: 4 }),
    max_tokens: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
    max_completion_tokens: fc.integer({ min: 1, max: 1_000_000 }),
    n: fc.option(fc.integer({ min: 1, max: 128 }), { nil: null }),
    seed: fc.option(fc.maxSafeInteger(), { nil: null }),
    temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: null }),
    top_p: fc.option(unit, { nil: null }),
    presence_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
    frequency_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
    stream: fc.option(fc.boolean(), { nil: null }),
    stream_options: fc.constantFrom<unknown>(null, {}, { include_usage: true }, { include_usage: false }, { include_usage: null }),
    logprobs: fc.boolean(),
    parallel_tool_calls: fc.boolean(),
    store: fc.boolean(),
    user: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('u'.repeat(512))),
    reasoning_effort: fc.constantFrom('low', 'high'), // a field the gateway does not know: allowed
  },
  { requiredKeys: ['model', 'messages'] },
).map((body) => (body.stream_options ? { ...body, stream: true } : body)); // stream_options only when streaming

// Near-valid bodies: a valid one with a few fields set to anything (or removed), in the body or
// in one of its messages, including every field of the schema the pre-check leaves to zod.
// Numbers and string lengths are drawn around the bounds the schema itself declares, so a
// bound the pre-check gets wrong by a little is found too.
const topFields = [...Object.keys(ChatCompletionRequest.shape), 'reasoning_effort'];
const messageFields = [...Object.keys(Message.shape), 'refusal', 'function_call'];

function unwrapped(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s;
}

/** Values just inside, on and just outside each bound of a field's schema; objects with its keys; else anything. */
function nearBounds(shape: Record<string, z.ZodType>, field: string): fc.Arbitrary<unknown> {
  const schema = field in shape ? unwrapped(shape[field] as z.ZodType) : undefined;
  const near = (bound: number | null, step: number) => (bound !== null && Number.isSafeInteger(bound) ? [bound - step, bound, bound + step] : []);
  if (schema instanceof z.ZodNumber) {
    const values = [1, 0.5, 1e-9].flatMap((step) => [...near(schema.minValue, step), ...near(schema.maxValue, step)]);
    if (values.length > 0) return fc.constantFrom(...values);
  }
  if (schema instanceof z.ZodString) {
    const lengths = [...near(schema.minLength, 1), ...near(schema.maxLength, 1)].filter((n) => n >= 0);
    if (lengths.length > 0) return fc.constantFrom(...lengths).chain((n) => fc.constantFrom('x'.repeat(n), '😀'.repeat(n)));
  }
  if (schema instanceof z.ZodObject) {
    // An object with the schema's own keys, each anything.
    const keys = Object.keys(schema.shape as Record<string, unknown>);
    return fc.record(Object.fromEntries(keys.map((k) => [k, anyValue])), { requiredKeys: [] });
  }
  return anyValue;
}
const fieldValue = (shape: Record<string, z.ZodType>, extra: fc.Arbitrary<unknown>) => (field: string) =>
  fc.option(fc.oneof({ arbitrary: nearBounds(shape, field), weight: 2 }, { arbitrary: extra, weight: 1 }), { nil: undefined });
const messageValue = fc.oneof(
  anyValue,
  fc.constantFrom<unknown>(...ROLES, 'wizard'),
  fc.array(part, { maxLength: 3 }),
  fc.array(toolCall, { maxLength: 2 }),
);
const mutation = fc.oneof(
  fc.constantFrom(...topFields).chain((at) => fc.record({ at: fc.constant(at), index: fc.constant(-1), value: fieldValue(ChatCompletionRequest.shape, anyValue)(at) })),
  fc.constantFrom(...messageFields, '(message)').chain((at) => fc.record({ at: fc.constant(at), index: fc.nat(3), value: fieldValue(Message.shape, messageValue)(at) })),
);
type Mutation = { at: string; index: number; value: unknown };

function mutate(body: Body, mutations: readonly Mutation[]): Body {
  const out = structuredClone(body);
  for (const { at, index, value } of mutations) {
    let target: Record<string, unknown> = out;
    if (index >= 0) {
      const messages = out.messages;
      if (!Array.isArray(messages) || messages.length === 0) continue;
      const i = index % messages.length;
      if (at === '(message)') {
        messages[i] = structuredClone(value) ?? 'not a message';
        continue;
      }
      const message: unknown = messages[i];
      if (typeof message !== 'object' || message === null) continue;
      target = message as Record<string, unknown>;
    }
    // A copy: generators hand out shared constants ({}, ['a'], …), and a mutation setting one
    // inside itself (a message that is a constant, its `content` that same constant) made a cycle.
    if (value === undefined) delete target[at];
    else target[at] = structuredClone(value);
  }
  return out;
}

const nearValid = fc.tuple(validChat, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, m]) => mutate(b, m));
const bodies = fc.oneof(validChat, nearValid, nearValid).map(asParsed);

/** The first body a pre-check accepts and zod refuses, if it can be found. */
function counterexample(preCheck: PreCheck, runs: number, seed?: number): Body | undefined {
  const details = fc.check(fc.property(bodies, (body) => !preCheck(body) || zodAccepts(body)), { numRuns: runs, seed, endOnFailure: true });
  return details.failed ? (details.counterexample?.[0] as Body) : undefined;
}

describe('openai-validation pre-check', () => {
  // Seconds on a busy machine: the whole unit suite runs beside it.
  it('never accepts a body zod refuses', { timeout: 120_000 }, () => {
    expect(counterexample(isPlainChatCompletion, 10_000)).toBeUndefined();
  });

  it('accepts every valid body of the common shape (it does work)', () => {
    fc.assert(fc.property(validChat.map(asParsed), (body) => zodAccepts(body) && isPlainChatCompletion(body)), { numRuns: 2000 });
    const bench = { model: 'tinylm', messages: [{ role: 'user', content: 'x'.repeat(1000) }], max_tokens: 16 };
    expect(isPlainChatCompletion(asParsed(bench))).toBe(true);
  });

  it('leaves tool turns, content parts and the schema fields it does not check to zod', () => {
    const user = [{ role: 'user', content: 'hi' }];
    for (const body of [
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      { model: 'm', messages: [{ role: 'function', name: 'f', content: '42' }] },
      { model: 'm', messages: [...user, { role: 'tool', tool_call_id: 'c1', content: '42' }] },
      { model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function' }] }] },
      { model: 'm', messages: user, stop: ['a'] },
      { model: 'm', messages: user, tools: [] },
    ]) {
      expect(zodAccepts(body)).toBe(true);
      expect(isPlainChatCompletion(body)).toBe(false);
    }
  });

  // The generators reach every bound the pre-check relies on: a pre-check that forgot any one
  // field's check (here: saw a harmless value in its place) is caught by the property above.
  const without =
    (field: string, valid?: unknown): PreCheck =>
    (body) => {
      if (!(field in body)) return isPlainChatCompletion(body);
      const copy = { ...body };
      if (valid === undefined) delete copy[field];
      else copy[field] = valid;
      return isPlainChatCompletion(copy);
    };
  const withoutInMessages =
    (field: string, valid?: unknown): PreCheck =>
    (body) => {
      if (!Array.isArray(body.messages)) return isPlainChatCompletion(body);
      const messages = body.messages.map((m: unknown) => {
        if (typeof m !== 'object' || m === null || !(field in m)) return m;
        const copy: Record<string, unknown> = { ...m };
        if (valid === undefined) delete copy[field];
        else copy[field] = valid;
        return copy;
      });
      return isPlainChatCompletion({ ...body, messages });
    };
  const mutants: [string, PreCheck][] = [
    ['stream_options without stream: true', (body) => isPlainChatCompletion(body.stream_options ? { ...body, stream: true } : body)],
    ['model', without('model', 'm')],
    ['messages', without('messages', [{ role: 'user', content: 'x' }])],
    ...topFields.filter((f) => f !== 'model' && f !== 'messages' && f !== 'reasoning_effort').map((f): [string, PreCheck] => [f, without(f)]),
    ['messages[].role', withoutInMessages('role', 'user')],
    ['messages[].content', withoutInMessages('content', 'x')],
    ...['name', 'tool_call_id', 'tool_calls'].map((f): [string, PreCheck] => [`messages[].${f}`, withoutInMessages(f)]),
    ['a message that is not an object', (body) => isPlainChatCompletion({ ...body, messages: Array.isArray(body.messages) ? body.messages.map((m: unknown) => (typeof m === 'object' && m !== null ? m : { role: 'user', content: 'x' })) : body.messages })],
  ];
  it.each(mutants)('would catch a pre-check that skipped %s', { timeout: 120_000 }, (_field, mutant) => {
    expect(counterexample(mutant, 20_000, 1)).toBeDefined();
  });
});
