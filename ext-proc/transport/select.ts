import { availableParallelism } from 'node:os';
import { TRANSPORTS, type TransportName } from './names.js';

/** Where the gRPC port listens: a TCP address, or a Unix socket path. */
type ListenAddress = { host: string; port: number } | { path: string };

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

export const WORKERS_ENV = 'GATEWAY_EXT_PROC_WORKERS';

/**
 * Worker processes serving the gRPC port: GATEWAY_EXT_PROC_WORKERS, else the config's, else 1.
 * `auto` is one per core this process may use. Not more by default: plugin state kept in memory
 * (consumer-limits without Redis) is per process, so N workers would grant N times the limits.
 */
export function extProcWorkers(config: { extProc: { workers?: number | 'auto' } }, env: NodeJS.ProcessEnv = process.env): number {
  const override = env[WORKERS_ENV];
  if (override === 'auto') return availableParallelism();
  if (override !== undefined && override !== '') {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${WORKERS_ENV} must be a positive integer; got ${JSON.stringify(override)}`);
    return n;
  }
  const configured = config.extProc.workers ?? 1;
  return configured === 'auto' ? availableParallelism() : configured;
}
