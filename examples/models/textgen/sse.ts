// Server-sent events as the OpenAI streaming API uses them: `data: <json>\n\n` per event,
// terminated by `data: [DONE]`. Each event is written immediately so clients see tokens
// as they are produced, not when the response ends.
import type { ServerResponse } from 'node:http';

export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // Stops buffering proxies (nginx and friends) from batching the events.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
}

export function sendEvent(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

export function endSse(res: ServerResponse): void {
  res.end('data: [DONE]\n\n');
}
