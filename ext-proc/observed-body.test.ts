import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { definePlugin, z, type PluginHooks } from '../plugins/sdk/index.js';
import { msg, testRuntime } from '../test/harness/hostile-messages.js';
import type { CommonResponse, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from './logger.js';
import { StreamProcessor } from './stream.js';

// PluginHooks.observesResponseBody: when every hook that reads a response's whole body only
// observes it, the processor answers the body first and runs those hooks after (the server runs
// them once the answer is written); otherwise they run before the answer, as always.

function recorder(type: string, seen: string[], hooks: PluginHooks) {
  return definePlugin({ type, options: z.object({}).strict(), setup: () => hooks });
}

async function processor(plugins: { type: string }[], defs: ReturnType<typeof recorder>[]) {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const runtime = await testRuntime(
    { plugins: [{ type: 'model-router' }, ...plugins], models: { tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1'] } } } } },
    { plugins: defs },
  );
  const p = new StreamProcessor(runtime, createLogger('info', sink), {});
  return { p, lines };
}

/** Drives one chat completion up to (not including) the response body. */
async function upToResponseBody(p: StreamProcessor) {
  await p.handle(msg.requestHeaders({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' }));
  await p.handle(msg.requestBody(JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] }), true));
  await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }));
}

const commonOf = (a: ProcessingResponse | undefined): CommonResponse | undefined => {
  const r = a?.response;
  return r && r.$case !== 'immediateResponse' && 'response' in r.value ? r.value.response : undefined;
};

describe('hooks that only observe a response body', () => {
  it('run after the answer, once, and before the end hooks', async () => {
    const seen: string[] = [];
    const observer = recorder('observer', seen, {
      observesResponseBody: true,
      responseBody: (ctx) => void seen.push(`body ${ctx.body.toString()}`),
      responseChunk: (ctx) => void seen.push(`chunk ${ctx.endOfStream}`),
      end: () => void seen.push('end'),
    });
    const { p } = await processor([{ type: 'observer' }], [observer]);
    await upToResponseBody(p);
    const [answer] = await p.handle(msg.responseBody('{"usage":{}}', true));
    expect(answer?.response?.$case).toBe('responseBody');
    expect(commonOf(answer)?.bodyMutation).toBeUndefined();
    expect(seen).toEqual([]);
    expect(p.hasDeferred).toBe(true);
    p.runDeferred();
    p.runDeferred();
    expect(seen).toEqual(['body {"usage":{}}', 'chunk true']);
    await p.end(false);
    expect(seen).toEqual(['body {"usage":{}}', 'chunk true', 'end']);
  });

  it('still run when the stream ends before the server ran them, before the end hooks', async () => {
    const seen: string[] = [];
    const observer = recorder('observer', seen, { observesResponseBody: true, responseBody: () => void seen.push('body'), end: () => void seen.push('end') });
    const { p } = await processor([{ type: 'observer' }], [observer]);
    await upToResponseBody(p);
    await p.handle(msg.responseBody('{}', true));
    await p.end(true);
    expect(seen).toEqual(['body', 'end']);
  });

  it('run before the answer when any reader of the body does not only observe', async () => {
    const seen: string[] = [];
    const observer = recorder('observer', seen, { observesResponseBody: true, responseBody: () => void seen.push('observer') });
    const rewriter = recorder('rewriter', seen, {
      responseBody: (ctx) => {
        seen.push('rewriter');
        ctx.replaceBody('{"rewritten":true}');
      },
    });
    const { p } = await processor([{ type: 'observer' }, { type: 'rewriter' }], [observer, rewriter]);
    await upToResponseBody(p);
    const [answer] = await p.handle(msg.responseBody('{}', true));
    expect(seen).toEqual(['observer', 'rewriter']);
    expect(p.hasDeferred).toBe(false);
    const mutation = commonOf(answer)?.bodyMutation?.mutation;
    expect(mutation?.$case === 'body' && mutation.value.toString()).toBe('{"rewritten":true}');
  });

  it('cannot change the answer: a change is ignored with a warning', async () => {
    const seen: string[] = [];
    const liar = recorder('liar', seen, {
      observesResponseBody: true,
      responseBody: (ctx) => {
        ctx.replaceBody('{"changed":true}');
        ctx.headers.set('x-late', '1');
      },
    });
    const { p, lines } = await processor([{ type: 'liar' }], [liar]);
    await upToResponseBody(p);
    const [answer] = await p.handle(msg.responseBody('{}', true));
    expect(commonOf(answer)?.bodyMutation).toBeUndefined();
    expect(commonOf(answer)?.headerMutation?.setHeaders ?? []).toEqual([]);
    p.runDeferred();
    expect(lines.some((l) => l.includes('declared observesResponseBody but changed the response body or headers after the answer left'))).toBe(true);
  });
});
