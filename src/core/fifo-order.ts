/** Stale keys `addedLive` lets the order hold beyond twice its bound before it compacts. */
const FIFO_ORDER_SLACK = 64;

/**
 * The insertion order of the keys of a bounded set or map, so the oldest key is found without
 * an iterator when the collection outgrows its bound. The collection stays the caller's: this
 * only says which key to drop.
 */
export class FifoOrder<K> {
  private order: K[] = [];
  private oldest = 0;

  constructor(private readonly max: number) {}

  /**
   * `key` was just added to a collection that now holds `size` keys: the key to remove (the
   * oldest), or undefined while the collection is within its bound.
   */
  added(key: K, size: number): K | undefined {
    this.order.push(key);
    if (size <= this.max) return undefined;
    const evicted = this.order[this.oldest++]!;
    if (this.oldest >= this.max) {
      // Drop the consumed prefix now and then, so the array stays within twice the bound.
      this.order = this.order.slice(this.oldest);
      this.oldest = 0;
    }
    return evicted;
  }

  /**
   * As `added`, for a collection whose keys may also leave it by other means (`has` says which
   * are still in): those are skipped, and dropped from the order once they make up most of it,
   * so the order stays within about twice the bound however many keys come and go. (Finding
   * the oldest key with `map.keys().next()` skips the entries deleted from the front of the
   * map's table one by one: 10 us an eviction at 10,000 entries, against 0.25 us here.) A key
   * removed and added again is in the order twice and may be dropped as of its first place.
   */
  addedLive(key: K, size: number, has: (key: K) => boolean): K | undefined {
    this.order.push(key);
    if (this.order.length - this.oldest > 2 * this.max + FIFO_ORDER_SLACK) {
      this.order = this.order.slice(this.oldest).filter(has);
      this.oldest = 0;
    }
    if (size <= this.max) return undefined;
    while (this.oldest < this.order.length) {
      const candidate = this.order[this.oldest++]!;
      if (!has(candidate)) continue;
      if (this.oldest >= this.max) {
        this.order = this.order.slice(this.oldest);
        this.oldest = 0;
      }
      return candidate;
    }
    return undefined;
  }

  /** Start again from `keys`, oldest first (after a restore). */
  reset(keys: Iterable<K>): void {
    this.order = [...keys];
    this.oldest = 0;
  }
}
