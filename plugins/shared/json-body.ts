import type { RequestBodyContext } from '../sdk/types.js';

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The body as a JSON object, or undefined when it is anything else. For plugins that only
 * rewrite what they understand: a body that is not JSON has already been answered 400 by
 * the router, so there is nothing to do here.
 */
export function jsonObjectOrUndefined(ctx: RequestBodyContext): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = ctx.json();
  } catch {
    return undefined;
  }
  return isJsonObject(body) ? body : undefined;
}
