import { describe, expect, it } from 'vitest';
import { BodyMode } from '../../ext-proc/envoy-messages.js';
import type { RequestSummary } from '../../ext-proc/stream.js';
import { drive, msg, testRuntime } from '../../test/harness/drive-processor.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';

function config(usageOptions: Record<string, unknown> = {}): GatewayConfigInput {
  return {
    plugins: [{ type: 'model-router' }, { type: 'openai-usage', options: usageOptions }],
    models: {
      tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1'] } } },
      sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] } } },
    },
  };
}

const chatHeaders = { ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', 'x-request-id': 'r1' };
const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const chunk = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }], usage: null });
const usageChunk = { object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };

async function run(cfg: GatewayConfigInput, messages: Parameters<typeof drive>[1]) {
  let summary: RequestSummary | undefined;
  const answers = await drive(await testRuntime(cfg), messages, { observer: { finished: (s) => (summary = s) } });
  return { answers, summary: summary as RequestSummary };
}

/** The body each streamed answer sends on: the replacement, or the original chunk. */
function streamedBody(answers: Awaited<ReturnType<typeof drive>>, sent: string[]): string {
  return answers
    .slice(-sent.length)
    .map((a, i) => {
      const mutation = (a.response?.value as { response?: { bodyMutation?: { mutation?: { value: Buffer } } } }).response?.bodyMutation;
      return mutation?.mutation ? mutation.mutation.value.toString() : sent[i];
    })
    .join('');
}

describe('openai-usage', () => {
  it('reads usage from a buffered JSON response (and asks Envoy for the body)', async () => {
    const { answers, summary } = await run(config(), [
      msg.requestHeaders(chatHeaders),
      msg.requestBody(JSON.stringify({ model: 'tinylm', messages: [] })),
      msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }),
      msg.responseBody(JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 32, total_tokens: 37 } })),
    ]);
    expect(answers[2]?.modeOverride?.responseBodyMode).toBe(BodyMode.BUFFERED);
    expect(summary.vars.usage).toEqual({ prompt: 5, completion: 32 });
  });

  it('reads the usage chunk of an SSE stream split at arbitrary points', async () => {
    const stream = sse(chunk('Hello')) + sse(chunk(' world')) + sse(usageChunk) + 'data: [DONE]\n\n';
    const parts = [stream.slice(0, 17), stream.slice(17, stream.length - 40), stream.slice(stream.length - 40)];
    const { answers, summary } = await run(config(), [
      msg.requestHeaders(chatHeaders),
      msg.requestBody(JSON.stringify({ model: 'tinylm', stream: true, stream_options: { include_usage: true } })),
      msg.responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }),
      msg.responseBody(parts[0] as string, false),
      msg.responseBody(parts[1] as string, false),
      msg.responseBody(parts[2] as string, true),
    ]);
    expect(answers[2]?.modeOverride?.responseBodyMode).toBe(BodyMode.STREAMED);
    expect(summary.vars.usage).toEqual({ prompt: 7, completion: 3 });
    // The client asked for usage: its stream is untouched.
    expect(streamedBody(answers, parts as string[])).toBe(stream);
    expect(summary.firstChunkMs).toBeGreaterThan(0);
  });

  it('does not touch other protocols', async () => {
    const { answers, summary } = await run(config(), [
      msg.requestHeaders({ ':method': 'POST', ':path': '/v2/models/sentiment/infer' }),
      // No requestBody: nothing in this chain reads a V2 body, so Envoy is told not to send it.
      msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }),
    ]);
    expect(answers.at(-1)?.modeOverride).toBeUndefined();
    expect(summary.vars.usage).toBeUndefined();
  });

  it('with forceStreamUsage asks every stream for usage and hides the extra chunk from clients that did not', async () => {
    const stream = sse(chunk('Hi')) + sse(usageChunk) + 'data: [DONE]\n\n';
    const { answers, summary } = await run(config({ forceStreamUsage: true }), [
      msg.requestHeaders(chatHeaders),
      msg.requestBody(JSON.stringify({ model: 'tinylm', stream: true, messages: [] })),
      msg.responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }),
      msg.responseBody(stream, true),
    ]);
    const sentUpstream = (answers[1]?.response?.value as { response?: { bodyMutation?: { mutation?: { value: Buffer } } } }).response?.bodyMutation?.mutation?.value;
    expect(JSON.parse(String(sentUpstream))).toMatchObject({ model: 'tinylm', stream: true, stream_options: { include_usage: true } });
    expect(summary.vars.usage).toEqual({ prompt: 7, completion: 3 });
    expect(streamedBody(answers, [stream])).toBe(sse(chunk('Hi')) + 'data: [DONE]\n\n');
  });
});
