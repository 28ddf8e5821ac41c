import type { Logger } from 'pino';
import type { ProcessingResponse } from '../gen/envoy/service/ext_proc/v3/external_processor.js';
import type { EnvoyRequest } from '../envoy-decode.js';

export { TRANSPORTS, type TransportName } from './names.js';

import { EXT_PROC_SERVICE } from '../../plugins/sdk/wire.js';

export { EXT_PROC_SERVICE };
export const PROCESS_PATH = `/${EXT_PROC_SERVICE}/Process`;

/** Where the gRPC port listens: a TCP address, or a Unix socket path (the sidecar shape). */
export type ListenAddress = { host: string; port: number } | { path: string };

/** PEM files for mTLS: the server's certificate and key, and the CA that signs clients' certificates. */
export interface TlsFiles {
  cert: string;
  key: string;
  clientCa: string;
}

/** What the stream loop may do to one ext_proc stream. Every call after the stream ended is a no-op. */
export interface StreamSink {
  send(msg: ProcessingResponse): void;
  /** Ends the stream with OK. */
  end(): void;
  /** Ends the stream with an error status (code from grpc-status.ts). */
  fail(code: number, message: string): void;
}

/** How a transport reports one ext_proc stream's events, in order. */
export interface StreamHandler {
  message(msg: EnvoyRequest): void;
  /** Envoy sent its last message. */
  halfClose(): void;
  /** The stream is gone before we ended it (reset, cancel, connection lost, bad frame). */
  abort(): void;
}

export interface TransportOptions {
  listen: ListenAddress;
  tls?: TlsFiles;
  /** Largest message accepted or sent, framing included. */
  maxMessageBytes: number;
  log: Logger;
  openStream(sink: StreamSink): StreamHandler;
}

export interface Transport {
  /** The TCP port bound (0 on a Unix socket). */
  readonly port: number;
  /** What grpc.health.v1.Health/Check answers, for '' and the ext_proc service. */
  setServing(serving: boolean): void;
  /** Takes no new stream (GOAWAY on open connections); resolves once every open stream ended. */
  drain(): Promise<void>;
  /** Cuts every remaining stream and connection. */
  close(): void;
  /**
   * Asks the peer to open new connections (GOAWAY; streams in flight finish): after a worker
   * joined, Envoy's next connections spread over all workers again.
   */
  rebalance(): void;
}
