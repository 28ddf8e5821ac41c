/**
 * The helpers the built-in plugins use, for teams' plugins too (no private API): consumer
 * identification and 401s, request contract checks (method, content type, size, JSON object,
 * zod issues in the client's words), JSON bodies, hashed key tables, model metadata polling,
 * tensor signatures.
 *
 *   import { authenticate, checkObjectBody } from '@inference-gateway/sdk/shared';
 */
export * from '../shared/consumer.js';
export * from '../shared/contract.js';
export * from '../shared/elements.js';
export * from '../shared/json-body.js';
export * from './keys.js';
export * from '../shared/metadata.js';
export * from '../shared/signature.js';
