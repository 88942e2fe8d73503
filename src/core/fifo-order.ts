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

  /** Start again from `keys`, oldest first (after a restore). */
  reset(keys: Iterable<K>): void {
    this.order = [...keys];
    this.oldest = 0;
  }
}
