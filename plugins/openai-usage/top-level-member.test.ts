import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyBuffer, MAX_JSON_DEPTH } from '../../ext-proc/pipeline/body.js';
import { topLevelMember } from './top-level-member.js';

/** What openai-usage read before the scan: the gateway's own body parse, then `.usage`. */
function reference(bytes: Buffer): { ok: false } | { ok: true; object: boolean; usage: unknown } {
  let value: unknown;
  try {
    value = new BodyBuffer(bytes, 'response').json();
  } catch {
    return { ok: false };
  }
  const object = typeof value === 'object' && value !== null && !Array.isArray(value);
  return { ok: true, object, usage: object ? (value as { usage?: unknown }).usage : undefined };
}

/** The scan either agrees with the reference or says it is unsure; never anything else. */
function agrees(bytes: Buffer): ReturnType<typeof topLevelMember> {
  const ref = reference(bytes);
  const got = topLevelMember(bytes, 'usage');
  if (got.found) {
    expect(ref).toMatchObject({ ok: true, object: true });
    expect(JSON.parse(got.text)).toStrictEqual((ref as { usage: unknown }).usage);
  } else if (got.reason === 'absent') {
    expect(ref).toMatchObject({ ok: true, object: true });
    expect((ref as { usage: unknown }).usage).toBeUndefined();
  }
  return got;
}

const usage = fc.oneof(
  fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat(), total_tokens: fc.nat() }),
  fc.jsonValue(),
);
// Answers shaped like OpenAI's, with usage anywhere among the members, sometimes twice or nested.
const answer = fc
  .tuple(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }), fc.option(usage, { nil: undefined }), fc.option(usage, { nil: undefined }), fc.nat(8))
  .map(([members, u1, u2, at]) => {
    const entries = Object.entries(members).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    // Now and then the name spelled with an escape: still `usage` to JSON.parse.
    const name = at % 5 === 0 ? '"\\u0075sage"' : '"usage"';
    if (u1 !== undefined) entries.splice(at % (entries.length + 1), 0, `${name}:${JSON.stringify(u1)}`);
    if (u2 !== undefined) entries.push(`"usage" : ${JSON.stringify(u2, null, at % 3)}`);
    if (at % 4 === 0) entries.push(`"nested":{"usage":${JSON.stringify(u1 ?? 1)}}`);
    return `{${entries.join(at % 2 ? ',' : ' ,\n\t')}}`;
  });
// Texts that are almost JSON: a generated one with bytes cut, doubled or replaced.
const damaged = fc.tuple(fc.oneof(answer, fc.json()), fc.nat(), fc.nat(), fc.constantFrom('', '"', '\\', ',', '}', ']', '{', '[', ':', ' ', '\u0000', '\u00e9', '-', '0', '.', 'e', 'u')).map(([text, at, len, insert]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + insert + text.slice(i + (len % 3));
});

describe('topLevelMember', () => {
  it('agrees with parsing the whole body on generated answers', () => {
    const seen = { found: 0, absent: 0, unsure: 0 };
    fc.assert(
      fc.property(answer, (text) => {
        const got = agrees(Buffer.from(text));
        seen[got.found ? 'found' : got.reason]++;
      }),
      { numRuns: 3000 },
    );
    // Most are read by the scan (escaped names are not): the agreement above is not vacuous.
    expect(seen.found).toBeGreaterThan(1500);
    expect(seen.absent).toBeGreaterThan(30);
  });

  it('agrees with parsing the whole body on any JSON and near-JSON text', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), damaged, fc.string({ unit: 'binary' })), (text) => void agrees(Buffer.from(text))), { numRuns: 5000 });
  });

  it('agrees on arbitrary bytes, invalid UTF-8 included', () => {
    const bytes = fc.tuple(answer, fc.uint8Array({ maxLength: 4 }), fc.nat()).map(([text, junk, at]) => {
      const b = Buffer.from(text);
      const i = at % (b.length + 1);
      return Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]);
    });
    fc.assert(fc.property(bytes, (b) => void agrees(b)), { numRuns: 5000 });
  });

  it('is certain on the answers model servers send', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Grüße, "quoted" \\ \u2028 😀' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 200, completion_tokens: 1, total_tokens: 201, prompt_tokens_details: { cached_tokens: 0 } },
      }),
    );
    expect(topLevelMember(body, 'usage')).toEqual({ found: true, text: '{"prompt_tokens":200,"completion_tokens":1,"total_tokens":201,"prompt_tokens_details":{"cached_tokens":0}}' });
    expect(topLevelMember(Buffer.from('{"choices":[],"usage":null}'), 'usage')).toEqual({ found: true, text: 'null' });
    expect(topLevelMember(Buffer.from(' {"choices":[{"usage":{}}]} '), 'usage')).toEqual({ found: false, reason: 'absent' });
    expect(topLevelMember(Buffer.from('{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}'), 'usage')).toEqual({ found: true, text: '{"prompt_tokens":2}' });
  });

  it('leaves what it cannot be sure of to the full parse', () => {
    const unsure = (text: string | Buffer) => expect(topLevelMember(Buffer.from(text), 'usage')).toEqual({ found: false, reason: 'unsure' });
    unsure('{"\\u0075sage":{"prompt_tokens":1}}'); // a name spelled with escapes
    unsure('[{"usage":{"prompt_tokens":1}}]'); // not an object
    unsure('{"usage":{"prompt_tokens":1}');
    unsure('{"usage":{"prompt_tokens":1}} x');
    unsure('\ufeff{"usage":{"prompt_tokens":1}}'); // a byte-order mark: the body parse refuses it
    unsure(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3]), Buffer.from('","usage":{"prompt_tokens":1}}')])); // not UTF-8
    unsure(`{"usage":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`); // deeper than the body parse allows
    unsure('');
  });
});
