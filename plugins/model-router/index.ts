import { definePlugin } from '../sdk/index.js';
import { RoutingOptions, ROUTER_TYPE } from '../sdk/routing-options.js';

/**
 * Compatibility: routing is a core stage (ext-proc/routing/). A `model-router` entry in the
 * global chain marks where that stage runs (by default: after the global chain) and carries
 * its options (`versionHeader`, `openaiVersionSeparator`); the plugin itself does nothing.
 * Configs written when it was the router keep loading and behaving the same.
 */
export default definePlugin({
  type: ROUTER_TYPE,
  description: 'Marks where in the global chain the core routes, and sets its options (routing is core)',
  options: RoutingOptions,
  setup: () => ({}),
});
