import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { baseConfig, useStack } from '../harness/e2e.js';
import { eventually, hostHealth } from '../harness/faults.js';

// A stream already under way when its ext-proc replica dies: the plugins that read the SSE
// events (openai-usage here) keep its ext_proc stream open, so the replica's death ends the
// response. It must end in a way clients tell from a normal end: Envoy resets it (HTTP/1.1:
// the connection closes before the last chunk), and the official client throws.
const base = baseConfig({ envoy: { extProcHealthCheck: { intervalMs: 250, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 } } });
const stack = useStack(
  { ...base, plugins: [{ type: 'model-router', name: 'router' }, { type: 'openai-usage', options: { forceStreamUsage: true } }] },
  { extProcReplicas: 2 },
);

type Outcome = { threw: string | undefined; chunks: number; finished: boolean };

/** One streamed chat through the official client; `onChunk` runs after each chunk. */
async function stream(onChunk: (n: number) => void): Promise<Outcome> {
  const client = new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const out: Outcome = { threw: undefined, chunks: 0, finished: false };
  try {
    const s = await client.chat.completions.create({ model: 'tinylm', messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 120, stream: true });
    for await (const chunk of s) {
      out.chunks++;
      if (chunk.choices[0]?.finish_reason) out.finished = true;
      onChunk(out.chunks);
    }
  } catch (err) {
    out.threw = String(err);
  }
  return out;
}

describe('a stream under way when its ext-proc replica dies', () => {
  it('ends with an error the official openai client raises, never as a normal (truncated) end; streams on the other replica finish', async () => {
    let killed = false;
    const kill = (n: number) => {
      if (n === 5 && !killed) {
        killed = true;
        stack().extProcs[0]?.child.proc.kill('SIGKILL');
      }
    };
    // Enough concurrent streams that both replicas carry some (least-request spreads them).
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => stream(i === 0 ? kill : () => {})));
    console.log(outcomes.map((o) => (o.threw ? `threw after ${o.chunks}: ${o.threw}` : `ended after ${o.chunks}${o.finished ? ' (finished)' : ''}`)).join('\n'));
    const cut = outcomes.filter((o) => o.threw !== undefined);
    expect(cut.length).toBeGreaterThan(0);
    for (const o of cut) expect(o.finished).toBe(false);
    // Whatever ended without an error ended complete: a finish_reason was seen.
    for (const o of outcomes.filter((x) => x.threw === undefined)) expect(o.finished).toBe(true);

    await stack().startExtProc(0);
    await eventually('both replicas back', async () => [...(await hostHealth(stack().adminUrl, 'ext_proc')).values()].every((f) => f === 'healthy'), 20_000);
  });

  it('over raw HTTP/1.1 the response is cut before its last chunk and before data: [DONE]', async () => {
    const res = await fetch(`${stack().url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 120, stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    let error: string | undefined;
    try {
      for (let n = 1; ; n++) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
        // Kill both replicas: whichever carries this stream dies.
        if (n === 3) for (const e of stack().extProcs) e.child.proc.kill('SIGKILL');
      }
    } catch (err) {
      error = String(err);
    }
    expect(error).toMatch(/terminated/);
    expect(text).not.toContain('[DONE]');
    for (const [i] of stack().extProcs.entries()) await stack().startExtProc(i);
  });
});
