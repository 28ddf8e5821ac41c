import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { renderEnvoyConfig } from '../../envoy/render.js';
import type { GatewayConfig } from './schema.js';

/**
 * Parts of the config a reload cannot change in this process: the listening sockets are set
 * up once. Everything else (models' traffic, aliases, plugins, their options and sources,
 * log level) takes effect on reload.
 */
const RESTART_ONLY = ['extProc'] as const;

/** Names the changes that a reload accepted but that only a restart (or an Envoy update) applies. */
export function restartOnlyChanges(prev: GatewayConfig, next: GatewayConfig, opts: { envoyDynamic?: boolean } = {}): { process: string[]; envoy: boolean } {
  const process = RESTART_ONLY.filter((key) => !isDeepStrictEqual(prev[key], next[key]));
  // Versions, endpoints, timeouts and fallbacks live in Envoy's config, rendered from this file;
  // with file-based xDS only the bootstrap (listener, ext_proc filter) needs a restart.
  const render = (c: GatewayConfig) => renderEnvoyConfig(c, opts.envoyDynamic ? { xdsDir: '-' } : {});
  const envoy = !isDeepStrictEqual(render(prev), render(next));
  return { process, envoy };
}

export function warnAboutRestartOnlyChanges(prev: GatewayConfig, next: GatewayConfig, log: Logger, opts: { envoyDynamic?: boolean } = {}): void {
  const { process, envoy } = restartOnlyChanges(prev, next, opts);
  if (process.length > 0) {
    log.warn({ fields: process }, `config reload: ${process.join(', ')} changed; these take effect when the ext-proc restarts`);
  }
  if (envoy) {
    log.warn(
      opts.envoyDynamic
        ? 'config reload: the Envoy listener or ext_proc filter settings changed; re-render the bootstrap and restart Envoy to apply them'
        : 'config reload: the Envoy config rendered from this file changed (versions, endpoints, timeouts or fallbacks); ' +
            'run `npm run render:envoy` and restart Envoy to apply it (or run Envoy with file-based xDS, see docs/routing.md)',
    );
  }
}
