/** The ext_proc gRPC server implementations: `http2` (ours, on node:http2) and `grpc-js` (the reference). */
export const TRANSPORTS = ['http2', 'grpc-js'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
