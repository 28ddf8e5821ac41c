/**
 * The one import for plugin authors:
 *   import { definePlugin, z, PluginError } from '@inference-gateway/sdk';
 * (built-ins inside this repo import '../sdk/index.js'). The test harness is
 * '@inference-gateway/sdk/testing'. See docs/plugins.md for the lifecycle and the API reference.
 */
export { z } from 'zod';
export { definePlugin } from './define.js';
export { PluginError, GatewayErrorCodes, gatewayError } from './errors.js';
export { ERROR_CODES, categoryOf, isErrorCode, type ErrorCategory, type ErrorCode, type ErrorCodeInfo } from './error-codes.js';
export { detectProtocol, errorBody } from './protocol.js';
export { parseTarget, type PathTarget } from './paths.js';
export type * from './types.js';
