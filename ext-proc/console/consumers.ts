import type { GatewayConfig } from '../config/schema.js';
import { increaseBy, windowStart, type Snapshot } from './rates.js';
import { STATS_WINDOW_MS } from './view.js';

export interface ConsumerView {
  id: string;
  /** Requests over the stats window, and per second. */
  requests: number;
  requestsPerSecond: number;
  /** Requests the gateway refused over the stats window, by reason (auth, limits, …). */
  rejections: Record<string, number>;
  /** OpenAI tokens (prompt + completion) over the last minute. */
  tokensLastMinute: number;
  /** The consumer's own limits from `consumer-limits`, as configured. */
  requestLimit?: { amount: number; unit: string };
  tokenBudget?: { amount: number; unit: string };
}

/** Consumers the config names: `api-key-auth` (and other auth plugins') `consumers[].id` and exact `consumer-limits` keys. */
function configuredConsumers(config: GatewayConfig): string[] {
  const ids: string[] = [];
  for (const p of config.plugins) {
    const o = p.options as { consumers?: unknown } | undefined;
    if (Array.isArray(o?.consumers)) {
      for (const c of o.consumers as { id?: unknown }[]) if (typeof c?.id === 'string') ids.push(c.id);
    } else if (o?.consumers && typeof o.consumers === 'object') {
      ids.push(...Object.keys(o.consumers).filter((k) => !/[*?]/.test(k)));
    }
  }
  return ids;
}

/**
 * A consumer's own configured limits, from the config's limits plugin. Injected by main.ts
 * (which alone wires built-in plugins), so the core reads no plugin's options itself.
 */
export type ConsumerLimitsLookup = (
  plugins: GatewayConfig['plugins'],
) => ((consumer: string) => { requestLimit?: { amount: number; unit: string }; tokenBudget?: { amount: number; unit: string } }) | undefined;

export function consumersView(config: GatewayConfig, history: readonly Snapshot[], limitsLookup?: ConsumerLimitsLookup): ConsumerView[] {
  const now = history.at(-1) as Snapshot;
  const from = windowStart(history, now, STATS_WINDOW_MS);
  const minuteAgo = windowStart(history, now, 60_000);
  const seconds = Math.max((now.at - from.at) / 1000, 1e-9);
  const requests = increaseBy(from, now, 'gateway_requests_total', {}, 'consumer');
  const tokens = increaseBy(minuteAgo, now, 'gateway_tokens_total', {}, 'consumer');
  // '' is requests no auth plugin identified (refused keys among them): listed once there are any.
  const seen = [...requests].filter(([id, n]) => id !== '' || n > 0).map(([id]) => id);
  const ids = [...new Set([...configuredConsumers(config), ...seen])].sort();
  const limitsOf = limitsLookup?.(config.plugins);
  return ids.map((id) => {
    const n = requests.get(id) ?? 0;
    return {
      id,
      requests: n,
      requestsPerSecond: now.at > from.at ? n / seconds : 0,
      rejections: Object.fromEntries(increaseBy(from, now, 'gateway_rejections_total', { consumer: id }, 'reason')),
      tokensLastMinute: tokens.get(id) ?? 0,
      ...limitsOf?.(id),
    };
  });
}
