import type { LoadedConfig } from './load.js';

/**
 * `--host-map` pairs (`127.0.0.1=demo-models`). A pair without both sides is refused: a
 * silent miss would point Envoy and the plugins at hosts they cannot reach.
 */
export function parseHostMap(pairs: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const from = pair.slice(0, eq).trim();
    const to = pair.slice(eq + 1).trim();
    if (eq === -1 || from === '' || to === '') throw new Error(`--host-map expects from=to (e.g. 127.0.0.1=demo-models), got '${pair}'`);
    map[from] = to;
  }
  return map;
}

/**
 * The config with model endpoints' hosts renamed as this deployment reaches them (docker
 * compose: the demo servers' service name for the example config's 127.0.0.1). Applied to
 * every config the ext-proc loads, so Envoy's clusters it writes and the endpoints plugins
 * dial (metadata reads) agree.
 */
export function withHostMap(loaded: LoadedConfig, map: Readonly<Record<string, string>>): LoadedConfig {
  if (Object.keys(map).length === 0) return loaded;
  const rename = (endpoint: string) => {
    const i = endpoint.lastIndexOf(':');
    const host = map[endpoint.slice(0, i)];
    return host === undefined ? endpoint : `${host}${endpoint.slice(i)}`;
  };
  const models = Object.fromEntries(
    Object.entries(loaded.config.models).map(([name, m]) => [
      name,
      { ...m, versions: Object.fromEntries(Object.entries(m.versions).map(([v, c]) => [v, { ...c, endpoints: c.endpoints.map(rename) }])) },
    ]),
  );
  return { ...loaded, config: { ...loaded.config, models } };
}
