/**
 * An error a plugin throws on purpose. With `expose`, the client sees the message and status
 * in its protocol's error shape; otherwise it gets a 500 with an error id and the details
 * stay in the log.
 */
import { ERROR_CODES, type ErrorCode } from './error-codes.js';

const BRAND = Symbol.for('inference-gateway.PluginError');

export class PluginError extends Error {
  /**
   * True for a PluginError from any copy of the SDK. The gateway checks this rather than
   * `instanceof`: a plugin package may have bundled or linked its own copy.
   */
  static is(value: unknown): value is PluginError {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  readonly [BRAND] = true;
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly param: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { expose?: boolean; param?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'PluginError';
    this.status = status;
    this.code = code;
    this.expose = opts.expose ?? status < 500;
    this.param = opts.param;
    this.headers = opts.headers;
  }
}

/** Stable codes of the errors the gateway's core returns; all codes are in ERROR_CODES (docs/errors.md). */
export const GatewayErrorCodes = {
  invalidJson: 'invalid_json',
  invalidRequest: 'invalid_request',
  modelNotFound: 'model_not_found',
  versionNotFound: 'version_not_found',
  pluginError: 'plugin_error',
  pluginTimeout: 'plugin_timeout',
} as const satisfies Record<string, ErrorCode>;

/** A PluginError whose status and visibility come from the error table. */
export function gatewayError(code: ErrorCode, message: string, opts: { param?: string; headers?: Record<string, string>; cause?: unknown } = {}): PluginError {
  const info = ERROR_CODES[code];
  return new PluginError(info.status, code, message, { ...opts, expose: info.expose });
}
