/** What a client saw of a streamed response: the text, when each read arrived, the SSE events. */
export interface StreamRead {
  text: string;
  /** `performance.now()` of each read that carried bytes. */
  arrivals: number[];
  /** Milliseconds between the first and the last read. */
  spreadMs: number;
  /** The SSE events, raw (`data: ...`), split on blank lines. */
  events: string[];
}

/** Reads a response body to the end, timing each read: streamed bodies arrive in many reads, spread out. */
export async function readStream(res: Response): Promise<StreamRead> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const arrivals: number[] = [];
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    arrivals.push(performance.now());
    text += Buffer.from(value).toString('utf8');
  }
  const spreadMs = arrivals.length === 0 ? 0 : (arrivals.at(-1) as number) - (arrivals[0] as number);
  return { text, arrivals, spreadMs, events: text.split('\n\n').filter(Boolean) };
}
