import type { z } from 'zod';
import type { BaseContext, ReadonlyHeaders, RequestBodyContext, Respond } from '../sdk/types.js';
import { isJsonObject } from './json-body.js';

/**
 * HTTP-level checks every protocol validator makes before looking at the payload: method,
 * content type and declared length. Each returns the error response, or undefined when fine.
 */

export function checkMethod(ctx: BaseContext, allowed: readonly string[]): Respond | undefined {
  // Nearly every client sends the method in upper case: answered without a case-folded copy.
  if (allowed.includes(ctx.request.method)) return undefined;
  const method = ctx.request.method.toUpperCase();
  if (allowed.includes(method)) return undefined;
  return ctx.fail(405, `Method ${method} is not allowed on ${ctx.request.pathname}; use ${allowed.join(' or ')}`, {
    code: 'method_not_allowed',
    headers: { allow: allowed.join(', ') },
  });
}

/** JSON, or no content type at all (some V2 clients send none); charset, if given, must be UTF-8. */
export function checkJsonContentType(ctx: BaseContext, headers: ReadonlyHeaders): Respond | undefined {
  const value = headers.get('content-type');
  // What nearly every client sends, answered without splitting it apart (this runs per request).
  if (value === undefined || value === 'application/json') return undefined;
  if (value.trim() === '') return undefined;
  const [type = '', ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  const json = type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (json && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return undefined;
  return ctx.fail(415, `Unsupported content type '${value.slice(0, 100)}'; send application/json (UTF-8)`, { code: 'unsupported_media_type' });
}

/**
 * The request must carry a body, and its declared length, checked before Envoy buffers the
 * body, must fit: too large is a 413 in the client's protocol.
 */
export function checkContentLength(ctx: BaseContext, headers: ReadonlyHeaders, maxBytes: number): Respond | undefined {
  if (!ctx.request.hasBody) return ctx.fail(400, 'A JSON request body is required', { code: 'invalid_json' });
  const value = headers.get('content-length');
  if (value === undefined) return undefined;
  if (!isDecimal(value, 15)) return ctx.fail(400, 'Invalid content-length', { code: 'invalid_request' });
  const length = Number(value);
  if (length === 0) return ctx.fail(400, 'A JSON request body is required', { code: 'invalid_json' });
  if (length > maxBytes) return bodyTooLarge(ctx, length, maxBytes);
  return undefined;
}

/** 1 to `maxDigits` ASCII digits: a loop, not a regular expression, since it runs per request. */
function isDecimal(value: string, maxDigits: number): boolean {
  if (value.length === 0 || value.length > maxDigits) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

export function checkBodySize(ctx: RequestBodyContext, maxBytes: number): Respond | undefined {
  return ctx.body.length > maxBytes ? bodyTooLarge(ctx, ctx.body.length, maxBytes) : undefined;
}

function bodyTooLarge(ctx: BaseContext, length: number, maxBytes: number): Respond {
  return ctx.fail(413, `Request body of ${length} bytes exceeds the limit of ${maxBytes} bytes`, { code: 'request_too_large' });
}

/** Keys that mean something to JavaScript objects; no model API uses them, so they are refused outright. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A container still to walk, and how it was reached (its path is spelled out only for a forbidden key). */
interface Pending {
  readonly v: object;
  readonly parent: Pending | undefined;
  readonly key: string | number;
}

/**
 * Walks a parsed JSON value without recursion (its depth is bounded by the body parser, but
 * its size is not) and returns the path of the first forbidden key. Every request body goes
 * through it, so paths are made only for the answer, not for every key walked.
 */
export function findForbiddenKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stack: Pending[] = [{ v: value, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const at = stack.pop() as Pending;
    const v = at.v;
    if (Array.isArray(v)) {
      // Arrays of numbers are the bulk of tensor payloads: skip them quickly.
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'object' && item !== null) stack.push({ v: item, parent: at, key: i });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return pathOf({ v, parent: at, key });
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push({ v: item, parent: at, key });
    }
  }
  return undefined;
}

/** `messages[0].role`: indexes in brackets, keys joined by dots (the root has no name). */
function pathOf(leaf: Pending): string {
  const keys: (string | number)[] = [];
  for (let p: Pending | undefined = leaf; p?.parent !== undefined; p = p.parent) keys.push(p.key);
  let path = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string | number;
    path = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  }
  return path;
}

/** How a protocol words the two body errors every validator shares. */
export interface BodyWording {
  /** The body parsed but is not a JSON object. */
  notObject: string;
  /** The body has a key JavaScript treats specially (`__proto__`, ...), at `path`. */
  forbiddenKey(path: string): string;
}

export type ObjectBodyCheck = { ok: true; body: Record<string, unknown> } | { ok: false; respond: Respond };

/**
 * The body checks every validator makes before its schema: the real size, valid JSON (a
 * parse error is the body parser's 400), a JSON object and no forbidden keys.
 */
export function checkObjectBody(ctx: RequestBodyContext, maxBytes: number, wording: BodyWording): ObjectBodyCheck {
  const tooLarge = checkBodySize(ctx, maxBytes);
  if (tooLarge) return { ok: false, respond: tooLarge };
  const body = ctx.json();
  if (!isJsonObject(body)) return { ok: false, respond: ctx.fail(400, wording.notObject, { code: 'invalid_request' }) };
  const forbidden = findForbiddenKey(body);
  if (forbidden) return { ok: false, respond: ctx.fail(400, wording.forbiddenKey(forbidden), { code: 'forbidden_key', param: forbidden }) };
  return { ok: true, body };
}

/** `messages[0].role` from a zod issue path. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const part of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

export interface IssueReport {
  /** The field at fault (`messages[0].role`); undefined for the body as a whole. */
  param: string | undefined;
  code: string;
  /** What is wrong with it, without the field name. */
  detail: string;
}

/** The first zod issue as a field, a stable code and a reason; each protocol words the message. */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown): IssueReport {
  const param = issuePath(issue.path) || undefined;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { param: param ? `${param}.${key}` : key, code: 'unknown_parameter', detail: `unrecognized field '${issue.keys.join("', '")}'` };
  }
  const absent = param !== undefined && valueAt(root, issue.path) === undefined;
  if (absent && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return { param, code: 'missing_required_parameter', detail: 'required' };
  }
  return { param, code: issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value', detail: issue.message };
}

/** `field: this key is not allowed`, the V2 / TF Serving wording of a forbidden key. */
export function plainForbiddenKey(path: string): string {
  return `${path}: this key is not allowed`;
}

/** `field: reason`, the V2 / TF Serving wording. */
export function plainMessage(report: IssueReport): string {
  return report.param ? `${report.param}: ${report.detail}` : `request body: ${report.detail}`;
}

/** A 400 naming the first issue of a failed parse, in the V2 / TF Serving wording. */
export function failFirstIssue(ctx: BaseContext, error: z.ZodError, root: unknown): Respond {
  const issue = describeIssue(error.issues[0] as z.core.$ZodIssue, root);
  return ctx.fail(400, plainMessage(issue), { code: issue.code, param: issue.param });
}
