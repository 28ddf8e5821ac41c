import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { renderEnvoyConfig } from '../../envoy/render.js';
import type { GatewayConfig } from './schema.js';

/**
 * Parts of the config a reload cannot change in this process: listening sockets and plugin
 * sources are set up once. Everything else (models' traffic, aliases, plugins and their
 * options, log level) takes effect on reload.
 */
const RESTART_ONLY = ['extProc', 'pluginSources'] as const;

/** Names the changes that a reload accepted but that only a restart (or an Envoy update) applies. */
export function restartOnlyChanges(prev: GatewayConfig, next: GatewayConfig): { process: string[]; envoy: boolean } {
  const process = RESTART_ONLY.filter((key) => !isDeepStrictEqual(prev[key], next[key]));
  // Versions, endpoints, timeouts and fallbacks live in Envoy's config, rendered from this file.
  const envoy = !isDeepStrictEqual(renderEnvoyConfig(prev), renderEnvoyConfig(next));
  return { process, envoy };
}

export function warnAboutRestartOnlyChanges(prev: GatewayConfig, next: GatewayConfig, log: Logger): void {
  const { process, envoy } = restartOnlyChanges(prev, next);
  if (process.length > 0) {
    log.warn({ fields: process }, `config reload: ${process.join(', ')} changed; these take effect when the ext-proc restarts`);
  }
  if (envoy) {
    log.warn(
      'config reload: the Envoy config rendered from this file changed (versions, endpoints, timeouts or fallbacks); ' +
        'run `npm run render:envoy` and restart Envoy to apply it',
    );
  }
}
