/**
 * Per-request entries of a long-lived table (streams in flight), by integer id: added when a
 * request starts, deleted when it ends, thousands of times a second. Not a Map (nor a Set):
 * when V8 rehashes a Map or Set, the old hash table keeps a link to the new one and its entries
 * as they were (for iterators still walking it). A table that reached the old generation is
 * garbage V8 only finds at its next full GC; until then each young generation collection
 * treats it as live, and through its link every later table and every request those tables
 * held. Under load, whole finished requests were copied out of the young generation and into
 * the old one (~0.6-0.8 MB a scavenge at saturation), costing copies and full GCs. A
 * dictionary object keeps no such link (docs/performance.md, "Session 6").
 */
export class ChurnTable<V> {
  private byId: Record<number, V> = Object.create(null) as Record<number, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    return this.byId[id];
  }

  set(id: number, value: V): void {
    if (this.byId[id] === undefined) this.count++;
    this.byId[id] = value;
  }

  delete(id: number): boolean {
    if (this.byId[id] === undefined) return false;
    delete this.byId[id];
    this.count--;
    return true;
  }

  /** In ascending id order: for ids handed out in increasing order (HTTP/2 streams), the order they were added. */
  values(): V[] {
    return Object.values(this.byId);
  }

  ids(): number[] {
    return Object.keys(this.byId).map(Number);
  }
}
