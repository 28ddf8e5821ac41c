import type { Logger } from 'pino';
import type { GatewayConfig } from './schema.js';

/**
 * When each model version last served a request, so a reload that removes one still in use
 * can say so: a version deleted by mistake shows up as a warning naming it, not only as 404s.
 */
export class RecentTraffic {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  seen(model: string, version: string): void {
    this.lastSeen.set(`${model}@${version}`, this.now());
  }

  /** A request observer (pipeline/observer.ts), typed by what it reads so config/ imports nothing of the pipeline. */
  observer(): { finished(summary: { readonly route: { readonly model?: string; readonly version?: string } }): void } {
    return {
      finished: (r) => {
        if (r.route.model !== undefined && r.route.version !== undefined) this.seen(r.route.model, r.route.version);
      },
    };
  }

  /** Versions in `previous` and not in `next` (their model gone, or only them) that served traffic within `windowMs`. */
  removedInUse(previous: GatewayConfig, next: GatewayConfig, windowMs = 60_000): { model: string; version: string; lastRequestMsAgo: number }[] {
    const out: { model: string; version: string; lastRequestMsAgo: number }[] = [];
    for (const [model, m] of Object.entries(previous.models)) {
      for (const version of Object.keys(m.versions)) {
        if (next.models[model]?.versions[version] !== undefined) continue;
        const at = this.lastSeen.get(`${model}@${version}`);
        if (at === undefined) continue;
        const ago = this.now() - at;
        if (ago <= windowMs) out.push({ model, version, lastRequestMsAgo: ago });
      }
    }
    return out;
  }

  warnAboutRemovals(previous: GatewayConfig, next: GatewayConfig, log: Logger): void {
    for (const r of this.removedInUse(previous, next)) {
      log.warn(
        { model: r.model, version: r.version, lastRequestMsAgo: r.lastRequestMsAgo },
        `config reload removed ${r.model}@${r.version}, which served traffic ${Math.round(r.lastRequestMsAgo / 1000)} s ago; requests that name it now get 404`,
      );
    }
  }
}
