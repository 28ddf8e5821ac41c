/**
 * Hands a plugin instance's state to the instance of the same name in the next config
 * generation. A reload builds the new chain while requests admitted by the old one are still
 * running (and end on the old instance); with one shared state those requests stay counted,
 * and their release lowers the same counters the new instance reads.
 *
 * A generation is recognised by the `host.models` object, which the gateway builds once per
 * config: a second instance with the same name in the same generation (a global and a model
 * chain may reuse a name) is another limiter, so it gets a state of its own that is not carried.
 */
export class CarryOver<T> {
  private readonly slots = new Map<string, { value: T; generation: object; refs: number }>();

  /** `dispose` runs once the last instance holding the value released it (a store's connection closes). */
  constructor(private readonly dispose: (value: T) => void = () => {}) {}

  claim(name: string, generation: object, make: () => T): { value: T; carried: boolean; shared: boolean; release(): void } {
    const existing = this.slots.get(name);
    if (existing && existing.generation === generation) {
      const value = make();
      let released = false;
      return {
        value,
        carried: false,
        shared: false,
        release: () => {
          if (released) return;
          released = true;
          this.dispose(value);
        },
      };
    }
    const slot = existing ?? { value: make(), generation, refs: 0 };
    slot.generation = generation;
    slot.refs += 1;
    this.slots.set(name, slot);
    let released = false;
    return {
      value: slot.value,
      carried: existing !== undefined,
      shared: true,
      release: () => {
        if (released) return;
        released = true;
        slot.refs -= 1;
        if (slot.refs > 0) return;
        if (this.slots.get(name) === slot) this.slots.delete(name);
        this.dispose(slot.value);
      },
    };
  }
}
