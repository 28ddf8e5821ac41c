import { CONSUMER_HEADER } from '../../plugins/shared/consumer.js';

/** The header Envoy's route reads the upstream cluster from (`cluster_header`). Only the gateway sets it. */
export const CLUSTER_HEADER = 'x-gateway-cluster';
/** The cluster Envoy mirrors this request to (`request_mirror_policies[].cluster_header`). Only the gateway sets it. */
export const SHADOW_HEADER = 'x-gateway-shadow';
/** Response header Envoy's route sets from the serving endpoint's metadata: the version that answered. */
export const UPSTREAM_VERSION_HEADER = 'x-gateway-upstream-version';
/** Request headers that steer Envoy: whatever a client sends under these names is dropped. */
export const INTERNAL_REQUEST_HEADERS = [CLUSTER_HEADER, SHADOW_HEADER, CONSUMER_HEADER] as const;
