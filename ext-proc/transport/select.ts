import { availableParallelism } from 'node:os';
import { TRANSPORTS, type ListenAddress, type TransportName } from './types.js';

export const TRANSPORT_ENV = 'GATEWAY_EXT_PROC_TRANSPORT';

/** The transport in force: GATEWAY_EXT_PROC_TRANSPORT when set, else the config's. Envoy's cluster is rendered to match. */
export function selectTransport(configured: TransportName, env: NodeJS.ProcessEnv = process.env): TransportName {
  const override = env[TRANSPORT_ENV];
  if (override === undefined || override === '') return configured;
  if (!(TRANSPORTS as readonly string[]).includes(override)) {
    throw new Error(`${TRANSPORT_ENV} must be one of ${TRANSPORTS.join(', ')}; got ${JSON.stringify(override)}`);
  }
  return override as TransportName;
}

/** Where the gRPC port listens: the config's Unix socket, else host:port. */
export function listenAddress(extProc: { host: string; port: number; socket?: string }): ListenAddress {
  return extProc.socket !== undefined ? { path: extProc.socket } : { host: extProc.host, port: extProc.port };
}

/** Worker processes serving the gRPC port: the config's, else one per core this process may use. */
export function extProcWorkers(config: { extProc: { workers?: number } }): number {
  return config.extProc.workers ?? availableParallelism();
}
