import { createHash } from 'node:crypto';
import type { ModelInfo, RequestVars, ReadonlyHeaders, RouteHints } from '../../plugins/sdk/types.js';

/**
 * A key's fixed point in [0, 1). The same key always lands on the same point, so a version
 * owns a key for as long as the key's point stays inside that version's share.
 */
export function bucketOf(salt: string, key: string): number {
  const digest = createHash('sha256').update(salt).update('\0').update(key).digest();
  // 48 bits are plenty of resolution and stay exact in a double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The version whose share of [0, 1) holds `point`. Shares are laid out in the order versions
 * are listed in the config, so moving weight between neighbours (the canary case) moves only
 * the keys in the slice that changed hands. A version with weight 0 owns nothing (rollback).
 */
export function versionAt(order: readonly string[], weights: Readonly<Record<string, number>>, point: number): string | undefined {
  // Two passes over the versions, no arrays: this runs for every request the policy places.
  let total = 0;
  for (const v of order) total += positive(weights[v]);
  if (total <= 0) return undefined;
  const target = point * total;
  let edge = 0;
  let last: string | undefined;
  for (const version of order) {
    const weight = positive(weights[version]);
    if (weight === 0) continue;
    edge += weight;
    last = version;
    if (target < edge) return version;
  }
  return last;
}

const positive = (w: number | undefined): number => (w !== undefined && w > 0 ? w : 0);

export type Assignment = Required<Pick<RouteHints, 'version' | 'reason'>> & Pick<RouteHints, 'variant' | 'experiment' | 'shadow' | 'fallback'>;

/** The key a sticky policy hashes, or undefined when this request carries none. */
export function stickyValue(model: ModelInfo, headers: ReadonlyHeaders, vars: RequestVars): string | undefined {
  const sticky = model.traffic.stickyKey;
  if (!sticky) return undefined;
  const value = 'header' in sticky ? headers.get(sticky.header) : vars.consumer?.id;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Picks the version for a request that named none: the sticky key's bucket when there is one,
 * a fresh random point otherwise, the default version when no weights are set. Shadow and
 * fallback ride along only on requests the policy assigned.
 */
export function assignVersion(model: ModelInfo, sticky: string | undefined, random: () => number = Math.random): Assignment {
  const traffic = model.traffic;
  const weights = traffic.weights;
  const point = sticky !== undefined ? bucketOf(traffic.experiment ?? model.name, sticky) : random();
  const picked = weights ? versionAt(model.versions, weights, point) : undefined;
  const out: Assignment =
    picked === undefined
      ? { version: model.defaultVersion, reason: 'default' }
      : { version: picked, reason: sticky !== undefined ? 'sticky' : 'split', variant: traffic.variants?.[picked] ?? picked, experiment: traffic.experiment };
  // Shadow and fallback ride along on the one object: no per-request extras to spread.
  const { shadow, fallback } = traffic;
  // percent 100 must mirror every request: random() < 1 always holds.
  if (shadow && shadow.version !== out.version && random() * 100 < shadow.percent) out.shadow = shadow.version;
  if (fallback !== undefined && fallback !== out.version) out.fallback = fallback;
  return out;
}

/** The traffic policy's placement of a request that named no version (sticky key read from the request). */
export function placeByPolicy(model: ModelInfo, headers: ReadonlyHeaders, vars: RequestVars): Assignment {
  return assignVersion(model, stickyValue(model, headers, vars));
}
