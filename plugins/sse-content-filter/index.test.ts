import { describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels } from '../sdk/testing.js';
import { wordFilter } from './filter.js';
import sseContentFilter from './index.js';

const gateway = (options: Record<string, unknown>) =>
  createTestGateway({ plugins: ['model-router', { plugin: sseContentFilter, options }], models: exampleModels });

const streamChat = { path: '/v1/chat/completions', json: { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], stream: true } };
const delta = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
const contents = (events: readonly { data: string }[]) =>
  events.filter((e) => e.data !== '[DONE]').map((e) => (JSON.parse(e.data) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content);

describe('word filter', () => {
  it('replaces whole words, longest first, case-insensitively by default', () => {
    const f = wordFilter({ words: ['darn', 'darn it'], replacement: '***', caseSensitive: false, wholeWords: true });
    expect(f('Darn it, darning darn!')).toEqual({ text: '***, darning ***!', hits: 2 });
  });

  it('matches inside words when asked, and treats regex characters literally', () => {
    const f = wordFilter({ words: ['a.b'], replacement: '#', caseSensitive: true, wholeWords: false });
    expect(f('xa.by aXb A.B')).toEqual({ text: 'x#y aXb A.B', hits: 1 });
  });
});

describe('sse-content-filter', () => {
  it('filters each SSE event as it passes: the stream stays streamed, one chunk per event', async () => {
    const gw = await gateway({ words: ['rabbit'] });
    const res = await gw.request(streamChat, { upstream: { sse: [delta('The'), delta(' rabbit'), delta(' ran'), '[DONE]'] } });
    expect(res.modes.responseBody).toBe('STREAMED');
    // ' rabbit' could still become ' rabbits': it waits for the next event to decide.
    expect(contents(res.events)).toEqual(['The', ' ', '*** ran']);
    expect(res.chunks).toHaveLength(4);
    expect(res.events.at(-1)?.data).toBe('[DONE]');
    expect(res.vars.contentFiltered).toBe(1);
  });

  it('catches a word split across events, without catching a longer word that starts the same', async () => {
    const gw = await gateway({ words: ['rabbit', 'white rabbit'] });
    const finish = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
    const split = await gw.request(streamChat, { upstream: { sse: [delta('A wh'), delta('ite rab'), delta('bit'), delta(' and rab'), delta('bits'), delta(' then rab'), finish, '[DONE]'] } });
    expect(contents(split.events).join('')).toBe('A *** and rabbits then rab');
    expect(split.vars.contentFiltered).toBe(1);
    // The finish chunk carries what was still held; nothing is left over.
    expect(contents(split.events).slice(-2)).toEqual([' then ', 'rab']);
    expect(split.logs.some((l) => l.msg?.toString().includes('held-back'))).toBe(false);
  });

  it('filters streamed completions (text) per choice, and logs text a cut-off stream never let out', async () => {
    const gw = await gateway({ words: ['rabbit'] });
    const text = (index: number, t: string, finish_reason: string | null = null) => ({ object: 'text_completion', choices: [{ index, text: t, finish_reason }] });
    const res = await gw.request(
      { path: '/v1/completions', json: { model: 'tinylm', prompt: 'x', stream: true, n: 2 } },
      { upstream: { sse: [text(0, 'a rab'), text(1, 'the ra'), text(0, 'bit', 'stop'), text(1, 'in', 'stop'), '[DONE]'] } },
    );
    const byChoice = [0, 1].map((i) =>
      res.events
        .filter((e) => e.data !== '[DONE]')
        .map((e) => (JSON.parse(e.data) as { choices: { index: number; text: string }[] }).choices[0])
        .filter((c) => c?.index === i)
        .map((c) => c?.text)
        .join(''),
    );
    expect(byChoice).toEqual(['a ***', 'the rain']);

    const cut = await gw.request(streamChat, { upstream: { sse: [delta('a rab')] } });
    expect(contents(cut.events).join('')).toBe('a ');
    expect(cut.logs.some((l) => l.level === 40 && l.msg === 'stream ended without finish_reason: held-back text was not sent')).toBe(true);
  });

  it('passes untouched events byte for byte', async () => {
    const gw = await gateway({ words: ['rabbit'] });
    const sse = [delta('The'), delta(' fox'), '[DONE]'];
    const res = await gw.request(streamChat, { upstream: { sse } });
    expect(res.text).toBe(sse.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join(''));
  });

  it('filters buffered chat and completions responses too, unless told not to buffer', async () => {
    const gw = await gateway({ words: ['rabbit'], replacement: '[x]' });
    const chat = await gw.request({ ...streamChat, json: { ...streamChat.json, stream: false } }, { upstream: { json: { choices: [{ message: { role: 'assistant', content: 'A Rabbit!' } }] } } });
    expect(chat.json()).toEqual({ choices: [{ message: { role: 'assistant', content: 'A [x]!' } }] });
    expect(chat.headers['content-length']).toBe(String(chat.body.length));
    const completion = await gw.request({ path: '/v1/completions', json: { model: 'tinylm', prompt: 'x' } }, { upstream: { json: { choices: [{ text: 'rabbit hole' }] } } });
    expect(completion.json()).toEqual({ choices: [{ text: '[x] hole' }] });

    const streamOnly = await gateway({ words: ['rabbit'], buffered: false });
    const untouched = await streamOnly.request({ path: '/v1/completions', json: { model: 'tinylm', prompt: 'x' } }, { upstream: { json: { choices: [{ text: 'rabbit' }] } } });
    expect(untouched.json()).toEqual({ choices: [{ text: 'rabbit' }] });
    expect(untouched.phases).not.toContain('responseBody');
  });

  it('leaves error responses alone without buffering them', async () => {
    const gw = await gateway({ words: ['rabbit'] });
    const res = await gw.request(streamChat, { upstream: { status: 400, json: { error: { message: 'rabbit not allowed' } } } });
    expect(res.phases).not.toContain('responseBody');
    expect(res.json()).toEqual({ error: { message: 'rabbit not allowed' } });
  });

  it('needs at least one word', async () => {
    await expect(gateway({ words: [] })).rejects.toThrow(/options\.words: list at least one word/);
  });

  it('keeps held-back text for at most 128 choices; choices past that are still filtered, piece by piece', async () => {
    const gw = await gateway({ words: ['rabbit'] });
    // A model server sending a new choice index in every event must not grow per-request state without end.
    const events = Array.from({ length: 300 }, (_, i) => ({ object: 'chat.completion.chunk', choices: [{ index: i, delta: { content: 'a rabbit' } }] }));
    const res = await gw.request(streamChat, { upstream: { sse: [...events, '[DONE]'] } });
    expect(res.vars.contentFilterHeld?.size).toBe(128);
    const texts = res.events.filter((e) => e.data !== '[DONE]').map((e) => (JSON.parse(e.data) as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content);
    expect(texts.every((t) => t === undefined || !t.includes('rabbit'))).toBe(true);
    expect(texts.at(-1)).toBe('a ***');
  });
});
