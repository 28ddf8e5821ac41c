/** The ext_proc gRPC server implementations: `h2` (ours: HTTP/2 framing on node:net, the default), `http2` (ours, on node:http2) and `grpc-js` (the reference). */
export const TRANSPORTS = ['h2', 'http2', 'grpc-js'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
