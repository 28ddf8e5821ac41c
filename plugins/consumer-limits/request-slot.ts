import type { RequestVars } from '../sdk/index.js';

/**
 * One plugin instance's state of each request, kept on the request's `vars` under a symbol of
 * the instance's own: no other plugin can name it, JSON and `Object.keys` do not see it, and it
 * goes with the request. It replaced a WeakMap keyed by `vars`, whose lookups (six per request)
 * showed on the cold path (docs/performance.md).
 */
export class RequestSlot<T> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  get(vars: Readonly<RequestVars>): T | undefined {
    return (vars as Slots<T>)[this.key];
  }

  set(vars: RequestVars, value: T): void {
    (vars as Slots<T>)[this.key] = value;
  }

  /** Cleared, not deleted: a `delete` would turn `vars` into a slower dictionary-mode object for the plugins after this one. */
  clear(vars: RequestVars): void {
    if (this.get(vars) !== undefined) (vars as Slots<T>)[this.key] = undefined;
  }
}

type Slots<T> = { [key: symbol]: T | undefined };
