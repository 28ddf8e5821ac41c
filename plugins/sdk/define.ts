import type { z } from 'zod';
import type { PluginDef } from './types.js';

const TYPE_NAME = /^[a-z][a-z0-9-]*(?:\/[a-z][a-z0-9-]*)?$/;

/**
 * Declares a plugin type. The returned definition is what the gateway registers; config
 * instances `{ type, name, options }` refer to it by `type`.
 */
export function definePlugin<O extends z.ZodType>(def: PluginDef<O>): PluginDef<O> {
  if (!TYPE_NAME.test(def.type)) {
    throw new Error(`plugin type "${def.type}" must be lower-case kebab-case (optionally scope/name)`);
  }
  return Object.freeze({ ...def });
}
