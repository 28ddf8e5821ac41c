import { describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels } from '../sdk/testing.js';
import { redact } from './detect.js';
import piiRedact from './index.js';

const opts = { emails: true, phones: true, emailReplacement: '[EMAIL]', phoneReplacement: '[PHONE]' };

describe('pii detection', () => {
  it.each([
    ['mail jane.doe+x@example.co.uk now', 'mail [EMAIL] now'],
    ['call +1 (415) 555-0100 or 020 7946 0958', 'call [PHONE] or [PHONE]'],
    ['phone: 415.555.0100.', 'phone: [PHONE].'],
    ['whatsapp +4915112345678', 'whatsapp [PHONE]'],
    ['(030) 12345678', '[PHONE]'],
    ['tel:+44-20-7946-0958,', 'tel:[PHONE],'],
  ])('redacts %j', (input, expected) => {
    expect(redact(input, opts).text).toBe(expected);
  });

  it.each(['order 123456789', 'on 2024-01-15', 'from 192.168.10.200', 'v1.2.3 costs 12.50', 'room 12 34', 'the year 1999'])('leaves %j alone', (input) => {
    expect(redact(input, opts)).toEqual({ text: input, emails: 0, phones: 0 });
  });

  it('does not count the digits of an e-mail address as a phone number', () => {
    expect(redact('write to 4155550100@sms.example.com', opts)).toEqual({ text: 'write to [EMAIL]', emails: 1, phones: 0 });
  });
});

describe('pii-redact plugin', () => {
  const gateway = (options: Record<string, unknown> = {}) =>
    createTestGateway({ plugins: ['model-router', { plugin: piiRedact, options }], models: exampleModels });

  it('redacts chat messages (string and text parts) before the model sees them, and says how much', async () => {
    const gw = await gateway();
    const res = await gw.request({
      path: '/v1/chat/completions',
      json: {
        model: 'tinylm',
        messages: [
          { role: 'system', content: 'Support desk.' },
          { role: 'user', content: 'I am jane@example.com, call me on +1 415 555 0100' },
          { role: 'user', content: [{ type: 'text', text: 'backup: bob@example.org' }, { type: 'image_url', image_url: { url: 'https://x/a@b.cd' } }] },
        ],
        temperature: 0,
      },
    });
    const sent = res.upstream?.json<{ messages: { content: unknown }[]; temperature: number }>();
    expect(sent?.messages[0]?.content).toBe('Support desk.');
    expect(sent?.messages[1]?.content).toBe('I am [EMAIL], call me on [PHONE]');
    expect(sent?.messages[2]?.content).toEqual([{ type: 'text', text: 'backup: [EMAIL]' }, { type: 'image_url', image_url: { url: 'https://x/a@b.cd' } }]);
    expect(sent?.temperature).toBe(0);
    expect(res.upstream?.headers['content-length']).toBe(String(res.upstream?.body.length));
    expect(res.headers['x-gateway-pii-redacted']).toBe('emails=2,phones=1');
    expect(res.vars.piiRedacted).toEqual({ emails: 2, phones: 1 });
    // The log says how many, never what.
    const line = res.logs.find((l) => l.msg === 'pii redacted from prompt');
    expect(line).toMatchObject({ plugin: 'pii-redact', redacted: { emails: 2, phones: 1 } });
    expect(JSON.stringify(res.logs)).not.toContain('jane@example.com');
  });

  it('redacts completions prompts and embeddings inputs, strings or lists', async () => {
    const gw = await gateway({ phones: false, emailReplacement: '<email>' });
    const completion = await gw.request({ path: '/v1/completions', json: { model: 'tinylm', prompt: ['a@b.io said', 'call 020 7946 0958'] } });
    expect(completion.upstream?.json()).toMatchObject({ prompt: ['<email> said', 'call 020 7946 0958'] });
    const embedding = await gw.request({ path: '/v1/embeddings', json: { model: 'tinylm', input: 'x@y.dev' } });
    expect(embedding.upstream?.json()).toMatchObject({ input: '<email>' });
  });

  it('leaves a clean request byte for byte as the client sent it', async () => {
    const gw = await gateway();
    const raw = '{"model":"tinylm",  "messages":[{"role":"user","content":"hello there"}]}';
    const res = await gw.request({ path: '/v1/chat/completions', body: raw, headers: { 'content-type': 'application/json' } });
    expect(res.upstream?.text).toBe(raw);
    expect(res.headers['x-gateway-pii-redacted']).toBeUndefined();
  });

  it('never runs for other protocols', async () => {
    const gw = await gateway();
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['me@x.io'] }] } });
    expect(res.upstream?.json()).toMatchObject({ inputs: [{ data: ['me@x.io'] }] });
    expect(res.phases).not.toContain('requestBody');
  });

  it('refuses a config that turns everything off', async () => {
    await expect(gateway({ emails: false, phones: false })).rejects.toThrow(/\(pii-redact\)\.options: enable at least one/);
  });
});
