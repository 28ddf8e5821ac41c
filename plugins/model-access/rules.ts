import type { ModelInfo } from '../sdk/types.js';

/** `*` matches any run of characters, `?` one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** One allow-list entry: `model`, `model@version`, with globs on either side (`sentiment@*`, `*`). */
export interface Rule {
  readonly source: string;
  readonly model: RegExp;
  /** Undefined: every version. */
  readonly version: RegExp | undefined;
}

export function parseRule(entry: string): Rule {
  const at = entry.indexOf('@');
  const model = at === -1 ? entry : entry.slice(0, at);
  const version = at === -1 ? undefined : entry.slice(at + 1);
  return { source: entry, model: globToRegExp(model), version: version === undefined ? undefined : globToRegExp(version) };
}

/**
 * The concrete versions of `model` the rules allow. A version pattern matches a version's own
 * name or the name of an alias that points at it, so `tinylm@stable` allows what `stable`
 * points to today.
 */
export function allowedVersions(rules: readonly Rule[], model: ModelInfo): Set<string> {
  const allowed = new Set<string>();
  for (const rule of rules) {
    if (!rule.model.test(model.name)) continue;
    for (const v of model.versions) if (!rule.version || rule.version.test(v)) allowed.add(v);
    if (!rule.version) continue;
    for (const [alias, target] of Object.entries(model.aliases)) if (rule.version.test(alias)) allowed.add(target);
  }
  return allowed;
}

const MAX_CACHED_MODELS = 1_000;

/**
 * One consumer's allow-list, with the versions it allows of each model worked out once per
 * model (per config: the catalog's models are new objects after every reload). Matching every
 * rule and building the set per request was most of this plugin's cost per request.
 */
export class AllowList {
  private readonly allowed = new Map<ModelInfo, ReadonlySet<string>>();

  constructor(private readonly rules: readonly Rule[]) {}

  versionsOf(model: ModelInfo): ReadonlySet<string> {
    let versions = this.allowed.get(model);
    if (versions === undefined) {
      versions = allowedVersions(this.rules, model);
      // A catalog answers with the same object per model; one that made a new one per lookup must not grow this without end.
      if (this.allowed.size >= MAX_CACHED_MODELS) this.allowed.clear();
      this.allowed.set(model, versions);
    }
    return versions;
  }
}

/** Weighted pick restricted to the allowed versions; falls back to the default or the first allowed. */
export function pickAllowed(model: ModelInfo, allowed: ReadonlySet<string>, roll: number): string | undefined {
  const weights = Object.entries(model.traffic.weights ?? {}).filter(([v, w]) => allowed.has(v) && w > 0);
  const total = weights.reduce((s, [, w]) => s + w, 0);
  if (total > 0) {
    let point = roll * total;
    for (const [v, w] of weights) {
      if (point < w) return v;
      point -= w;
    }
    return weights.at(-1)?.[0];
  }
  if (allowed.has(model.defaultVersion)) return model.defaultVersion;
  return model.versions.find((v) => allowed.has(v));
}
