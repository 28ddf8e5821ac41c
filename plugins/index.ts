import type { PluginDef } from './sdk/types.js';
import modelRouter from './model-router/index.js';
import openaiUsage from './openai-usage/index.js';

/** Every plugin type that ships with the gateway. */
export const builtinPlugins: readonly PluginDef[] = [modelRouter, openaiUsage];
