import type { GatewayConfig } from '../ext-proc/config/schema.js';
import type { RenderOptions } from './render.js';

/** Where the Pod's shared emptyDir holds the model clusters and routes the ext-proc writes. */
export const KUBERNETES_XDS_DIR = '/var/lib/gateway/xds';
/** Where the `envoy-runtime` ConfigMap is mounted: cluster-wide runtime values (the shadow kill switch). */
export const KUBERNETES_RUNTIME_DIR = '/etc/envoy-runtime';

/**
 * How the Kubernetes Pod (deploy/kubernetes/base) wires Envoy: the listener and admin on the
 * Pod's interfaces (the Service and the kubelet's probes reach them there), the ext-proc in the
 * same Pod on loopback, and the model clusters and routes from files in a volume both
 * containers mount, kept current by the ext-proc, so a ConfigMap edit never restarts Envoy;
 * runtime values (the shadow kill switch) from a ConfigMap too, so one edit reaches every Pod.
 */
export function kubernetesRender(config: GatewayConfig): RenderOptions {
  return {
    bindAddress: '0.0.0.0',
    extProcAddresses: [`127.0.0.1:${config.extProc.port}`],
    xdsDir: KUBERNETES_XDS_DIR,
    runtimeDir: KUBERNETES_RUNTIME_DIR,
  };
}
