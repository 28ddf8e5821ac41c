import { ChatCompletionRequest, Message } from './schemas.js';

/**
 * A pre-check beside zod for the chat completion nearly every client sends: `model`,
 * `messages` of system/developer/user/assistant turns with string content, the common scalar
 * parameters and `stream_options`. It answers only "certainly valid" (true) or "ask zod" (false): zod stays
 * the contract and writes every error. Why it exists: after an idle gap (200 req/s) zod's
 * safeParse of this schema touches many closures and copies the body, the largest cold cost of
 * the hook (docs/performance.md, session 8). plugins/openai-validation/fast-path.test.ts
 * checks with generated bodies that it never accepts one zod refuses.
 *
 * Any other field the schemas know (the body's, a message's) sends the body to zod, so a field
 * added to a schema is checked there until this learns it. Lengths are counted in UTF-16
 * units: zod counts code points (never more units), so a string within the units' bounds is
 * within zod's.
 */

/** The schemas' fields; those this pre-check does not understand go to zod. */
const CHAT_FIELDS: ReadonlySet<string> = new Set(Object.keys(ChatCompletionRequest.shape));
const MESSAGE_FIELDS: ReadonlySet<string> = new Set(Object.keys(Message.shape));

export function isPlainChatCompletion(body: Record<string, unknown>): boolean {
  let found = 0;
  for (const key of Object.keys(body)) {
    const v = body[key];
    switch (key) {
      case 'model':
        if (typeof v !== 'string' || v.length === 0 || v.length > 256) return false;
        found++;
        break;
      case 'messages':
        if (!plainMessages(v)) return false;
        found++;
        break;
      case 'max_tokens':
      case 'max_completion_tokens':
        if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 1)) return false;
        break;
      case 'n':
        if (v !== null && !(Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 128)) return false;
        break;
      case 'seed':
        if (v !== null && !Number.isSafeInteger(v)) return false;
        break;
      case 'temperature':
        if (v !== null && !within(v, 0, 2)) return false;
        break;
      case 'top_p':
        if (v !== null && !within(v, 0, 1)) return false;
        break;
      case 'presence_penalty':
      case 'frequency_penalty':
        if (v !== null && !within(v, -2, 2)) return false;
        break;
      case 'stream_options':
        // Only with `stream: true`, checked once every key was seen.
        if (v !== null && !plainStreamOptions(v)) return false;
        break;
      case 'stream':
      case 'logprobs':
      case 'parallel_tool_calls':
      case 'store':
        if (v !== null && typeof v !== 'boolean') return false;
        break;
      case 'user':
        if (typeof v !== 'string' || v.length > 512) return false;
        break;
      default:
        if (CHAT_FIELDS.has(key)) return false;
    }
  }
  if (found !== 2) return false;
  const streamOptions = body.stream_options;
  return streamOptions === undefined || streamOptions === null || body.stream === true;
}

function plainStreamOptions(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const includeUsage = (v as { include_usage?: unknown }).include_usage;
  return includeUsage === undefined || includeUsage === null || typeof includeUsage === 'boolean';
}

/** A finite number in [min, max] (JSON's `1e400` parses to Infinity, which zod refuses). */
function within(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && v >= min && v <= max;
}

function plainMessages(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (const m of v as unknown[]) {
    if (typeof m !== 'object' || m === null || Array.isArray(m) || !plainMessage(m as Record<string, unknown>)) return false;
  }
  return true;
}

/** A system, developer, user or assistant turn with string content (a tool turn needs tool_call_id: zod's). */
function plainMessage(m: Record<string, unknown>): boolean {
  let found = 0;
  for (const key of Object.keys(m)) {
    const v = m[key];
    switch (key) {
      case 'role':
        if (v !== 'user' && v !== 'system' && v !== 'assistant' && v !== 'developer') return false;
        found++;
        break;
      case 'content':
        if (typeof v !== 'string') return false;
        found++;
        break;
      case 'name':
        if (typeof v !== 'string' || v.length === 0 || v.length > 256) return false;
        break;
      default:
        if (MESSAGE_FIELDS.has(key)) return false;
    }
  }
  return found === 2;
}
