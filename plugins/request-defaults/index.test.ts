import { describe, expect, it } from 'vitest';
import { createTestGateway } from '../sdk/testing.js';
import requestDefaults from './index.js';

const gateway = (options: Record<string, unknown>) =>
  createTestGateway({
    plugins: ['model-router'],
    models: {
      tinylm: { protocol: 'openai', plugins: [{ plugin: requestDefaults, options }] },
      other: { protocol: 'openai' },
    },
  });

const chat = (body: Record<string, unknown>, model = 'tinylm') => ({ path: '/v1/chat/completions', json: { model, messages: [{ role: 'user', content: 'hi' }], ...body } });

describe('request-defaults', () => {
  it('fills in parameters the client left out and keeps the ones it sent', async () => {
    const gw = await gateway({ defaults: { temperature: 0.2, max_tokens: 16 } });
    const bare = await gw.request(chat({}));
    expect(bare.upstream?.json()).toMatchObject({ temperature: 0.2, max_tokens: 16 });
    expect(bare.vars.defaultsApplied).toEqual({ params: ['temperature', 'max_tokens'], systemPrompt: false });
    const explicit = await gw.request(chat({ temperature: 1, max_tokens: null }));
    expect(explicit.upstream?.json()).toMatchObject({ temperature: 1, max_tokens: 16 });
  });

  it('forces overrides whatever the client sent', async () => {
    const gw = await gateway({ overrides: { max_tokens: 8, user: 'team-a' } });
    const res = await gw.request(chat({ max_tokens: 4000 }));
    expect(res.upstream?.json()).toMatchObject({ max_tokens: 8, user: 'team-a' });
  });

  it('adds a system prompt when the client sent none, or always with prepend', async () => {
    const ifAbsent = await gateway({ systemPrompt: 'Answer briefly.' });
    expect((await ifAbsent.request(chat({}))).upstream?.json()).toMatchObject({
      messages: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'hi' }],
    });
    const own = chat({ messages: [{ role: 'system', content: 'Mine.' }, { role: 'user', content: 'hi' }] });
    expect((await ifAbsent.request(own)).upstream?.json()).toMatchObject({ messages: [{ content: 'Mine.' }, { content: 'hi' }] });

    const prepend = await gateway({ systemPrompt: 'Policy.', systemPromptMode: 'prepend' });
    expect((await prepend.request(own)).upstream?.json<{ messages: unknown[] }>().messages).toEqual([
      { role: 'system', content: 'Policy.' },
      { role: 'system', content: 'Mine.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('applies only to the model it is configured on; the model name in the body stays as routed', async () => {
    const gw = await gateway({ defaults: { max_tokens: 5 }, systemPrompt: 'S' });
    const other = await gw.request(chat({}, 'other'));
    expect(other.upstream?.json()).toEqual({ model: 'other', messages: [{ role: 'user', content: 'hi' }] });
    const mine = await gw.request(chat({}, 'tinylm@v1'));
    expect(mine.upstream?.json()).toMatchObject({ model: 'tinylm', max_tokens: 5 });
    expect(mine.upstream?.headers['content-length']).toBe(String(mine.upstream?.body.length));
  });

  it('does not add a system prompt to completions; parameters still apply', async () => {
    const gw = await gateway({ defaults: { max_tokens: 3 }, systemPrompt: 'S' });
    const res = await gw.request({ path: '/v1/completions', json: { model: 'tinylm', prompt: 'once upon' } });
    expect(res.upstream?.json()).toEqual({ model: 'tinylm', prompt: 'once upon', max_tokens: 3 });
  });

  it('refuses to default the fields that decide what is asked and where', async () => {
    await expect(gateway({ defaults: { model: 'gpt' } })).rejects.toThrow(/models\.tinylm\.plugins\[0\] \(request-defaults\)\.options\.defaults\.model: "model" cannot be defaulted/);
    await expect(gateway({ overrides: { stream: true } })).rejects.toThrow(/options\.overrides\.stream/);
  });
});
