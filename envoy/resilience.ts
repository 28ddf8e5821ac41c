import type { VersionConfig } from '../ext-proc/config/schema.js';

// Maps a version's load-balancing and fault-tolerance settings onto its Envoy cluster and route.

type Json = Record<string, unknown>;

export const seconds = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;

const LB_POLICY = {
  'least-request': 'LEAST_REQUEST',
  'round-robin': 'ROUND_ROBIN',
  'ring-hash': 'RING_HASH',
  maglev: 'MAGLEV',
} as const;

/**
 * Only failures that cannot have reached a model are retried: connect failure, a reset or
 * refused stream before any response byte, and the configured status codes (a draining
 * server's 503). A per-try timeout counts as a reset. Anything the model may have acted on
 * (a 500, a response already streaming) goes back to the client as is.
 */
const RETRY_ON = 'connect-failure,reset,refused-stream,retriable-status-codes';

/** Cluster fields: load-balancing policy, circuit breakers with the retry budget, outlier detection. */
export function clusterResilience(v: VersionConfig): Json {
  const { loadBalancing: lb, limits, retries, outlierDetection: od } = v;
  return {
    lb_policy: LB_POLICY[lb.policy],
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: limits.maxConnections,
          max_pending_requests: limits.maxPendingRequests,
          max_requests: limits.maxRequests,
          // Bounds retries to a share of live traffic, so a broken version can't be hammered by its own retries.
          retry_budget: {
            budget_percent: { value: retries.budgetPercent },
            min_retry_concurrency: retries.minRetryConcurrency,
          },
          track_remaining: true,
        },
      ],
    },
    outlier_detection: {
      consecutive_5xx: od.consecutive5xx > 0 ? od.consecutive5xx : undefined,
      enforcing_consecutive_5xx: od.consecutive5xx > 0 ? 100 : 0,
      // Envoy enforces gateway-failure ejection at 0 % unless told otherwise.
      consecutive_gateway_failure: od.consecutiveGatewayFailure > 0 ? od.consecutiveGatewayFailure : undefined,
      enforcing_consecutive_gateway_failure: od.consecutiveGatewayFailure > 0 ? 100 : 0,
      // Success-rate ejection needs volumes a single version rarely has; consecutive failures are the signal.
      enforcing_success_rate: 0,
      interval: seconds(od.intervalMs),
      base_ejection_time: seconds(od.baseEjectionMs),
      max_ejection_time: seconds(Math.max(od.baseEjectionMs * 10, 300_000)),
      max_ejection_percent: od.maxEjectionPercent,
      // Envoy's default lets the next passing health check end an ejection: an instance whose
      // readiness endpoint is fine but whose inference fails would be back every interval.
      successful_active_health_check_uneject_host: false,
    },
  };
}

/** Route action fields: overall and idle timeouts, the retry policy, and the hash policy for affinity. */
export function routeResilience(v: VersionConfig): Json {
  const { retries, loadBalancing: lb } = v;
  const route: Json = {
    // 0 disables the whole-request timeout: a long SSE stream is then bounded by idle_timeout instead.
    timeout: seconds(v.timeoutMs),
  };
  if (v.idleTimeoutMs !== undefined) route.idle_timeout = seconds(v.idleTimeoutMs);
  if (retries.attempts > 0) {
    route.retry_policy = {
      retry_on: RETRY_ON,
      num_retries: retries.attempts,
      retriable_status_codes: retries.retriableStatusCodes,
      ...(retries.perTryTimeoutMs > 0 ? { per_try_timeout: seconds(retries.perTryTimeoutMs) } : {}),
      ...(retries.perTryIdleTimeoutMs > 0 ? { per_try_idle_timeout: seconds(retries.perTryIdleTimeoutMs) } : {}),
      // Each retry goes to an instance not yet tried for this request.
      retry_host_predicate: [
        {
          name: 'envoy.retry_host_predicates.previous_hosts',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
        },
      ],
      host_selection_retry_max_attempts: 5,
      retry_back_off: { base_interval: seconds(retries.backoffBaseMs), max_interval: seconds(retries.backoffMaxMs) },
    };
  }
  if (lb.hashHeader !== undefined) route.hash_policy = [{ header: { header_name: lb.hashHeader } }];
  return route;
}
