import { z } from 'zod';

/**
 * The options of the core's routing step. They are set on a `model-router` entry of the
 * global chain (the compatibility plugin, which also marks where in that chain the core
 * routes); without one the defaults apply. See docs/routing.md.
 */
export const RoutingOptions = z
  .object({
    /** Request header that names a version or alias explicitly. */
    versionHeader: z.string().toLowerCase().default('x-model-version'),
    /** Separator between model and version in OpenAI's `model` field: `tinylm@canary`. */
    openaiVersionSeparator: z.string().min(1).max(3).default('@'),
  })
  .strict();

export type RoutingSettings = z.output<typeof RoutingOptions>;

/** The plugin type that marks the routing step's place in the global chain. */
export const ROUTER_TYPE = 'model-router';
