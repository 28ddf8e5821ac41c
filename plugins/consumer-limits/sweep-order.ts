/** One key's place in the sweep order. */
interface Place<V> {
  readonly key: string;
  readonly value: V;
  prev: Place<V> | undefined;
  next: Place<V> | undefined;
}

/**
 * Keys with their values, in the order the store's sweep visits them: new keys join at the
 * back, the sweep takes the front one and either drops it or sends it to the back. A Map kept
 * in its insertion order did the same with a delete and a set per visit (and an iterator and
 * an entry array), which on every admission showed in the profile; here a visit moves two
 * links. The order is exactly the one that Map's live iteration gave.
 */
export class SweepOrder<V> {
  private readonly places = new Map<string, Place<V>>();
  private head: Place<V> | undefined;
  private tail: Place<V> | undefined;

  get size(): number {
    return this.places.size;
  }

  get(key: string): V | undefined {
    return this.places.get(key)?.value;
  }

  /** A new key joins at the back. */
  add(key: string, value: V): void {
    if (this.places.has(key)) throw new Error(`sweep order: ${key} is there already`);
    const place: Place<V> = { key, value, prev: undefined, next: undefined };
    this.places.set(key, place);
    this.append(place);
  }

  /** The key at the front, if any: the next one the sweep looks at. */
  front(): { key: string; value: V } | undefined {
    return this.head;
  }

  /** The front key leaves (`keep` false) or goes to the back (`keep` true). */
  visitFront(keep: boolean): void {
    const place = this.head;
    if (!place) return;
    this.unlink(place);
    if (keep) this.append(place);
    else this.places.delete(place.key);
  }

  *values(): IterableIterator<V> {
    for (const place of this.places.values()) yield place.value;
  }

  private append(place: Place<V>): void {
    place.prev = this.tail;
    place.next = undefined;
    if (this.tail) this.tail.next = place;
    else this.head = place;
    this.tail = place;
  }

  private unlink(place: Place<V>): void {
    if (place.prev) place.prev.next = place.next;
    else this.head = place.next;
    if (place.next) place.next.prev = place.prev;
    else this.tail = place.prev;
    place.prev = undefined;
    place.next = undefined;
  }
}
