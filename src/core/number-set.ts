import { assert } from './assert.js';

/** A slot no id holds (ids are never negative). */
const EMPTY = -1;
/** The table's first size; it doubles while more than half full, and never shrinks. */
const FIRST_CAPACITY = 16;

/**
 * A set of non-negative integer ids below 2^53, for a set that is added to and deleted from
 * without pause while its size stays bounded: open addressing over one Float64Array (linear
 * probing, deletion by backward shift, so no tombstones), which is allocated again only when
 * the set outgrows half of it. V8's own Set keeps deleted entries until it rebuilds its table,
 * which it does every `size` deletions: a balancer remembering its last 4,096 requests built a
 * 160 KB table every 4,096 requests, each in the large-object space (a balancer stepped by a
 * scratch driver, 2026-12-05: 850–1,000 ns a request against 300 without the set; see
 * RoutedIds). Ids of the form n × 2^32 + m hash by both halves.
 */
export class NumberSet {
  private slots = new Float64Array(FIRST_CAPACITY).fill(EMPTY);
  private mask = FIRST_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const held = slots[i]!;
      // EMPTY first: has(-1) would otherwise find it.
      if (held === EMPTY) return false;
      if (held === id) return true;
    }
  }

  /** Adds `id`; false if it was there already. */
  add(id: number): boolean {
    assert(Number.isSafeInteger(id) && id >= 0, 'NumberSet: an id is an integer from 0 to 2^53 - 1');
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const held = slots[i]!;
      if (held === id) return false;
      if (held === EMPTY) {
        slots[i] = id;
        this.count++;
        return true;
      }
    }
  }

  /** Deletes `id`; false if it was not there. */
  delete(id: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.home(id);
    for (; ; i = (i + 1) & mask) {
      const held = slots[i]!;
      if (held === EMPTY) return false;
      if (held === id) break;
    }
    // Backward shift: each id after the gap in its probe run moves into the gap unless its
    // home lies cyclically after the gap and at or before where it sits (it would be lost).
    for (let j = i; ;) {
      j = (j + 1) & mask;
      const held = slots[j]!;
      if (held === EMPTY) break;
      const home = this.home(held);
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      slots[i] = held;
      i = j;
    }
    slots[i] = EMPTY;
    this.count--;
    return true;
  }

  private home(id: number): number {
    // The low 32 bits (ToInt32 wraps) and the high ones, mixed (murmur3's finaliser constants).
    let h = Math.imul((id | 0) ^ Math.imul((id / 0x100000000) | 0, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.mask;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2).fill(EMPTY);
    this.mask = this.slots.length - 1;
    this.count = 0;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.add(old[i]!);
  }
}
