/**
 * The one import for plugin authors:
 *   import { definePlugin, z, PluginError } from '<gateway>/plugins/sdk/index.js';
 * See docs/plugins.md for the lifecycle and the API reference.
 */
export { z } from 'zod';
export { definePlugin } from './define.js';
export { PluginError, GatewayErrorCodes } from './errors.js';
export { detectProtocol, errorBody } from './protocol.js';
export type * from './types.js';
