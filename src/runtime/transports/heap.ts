import type { Envelope } from '../../core/codec.js';
import type { TimerTarget } from '../env.js';

/** What a cancelled callback event holds instead of its callback (never called). */
const CANCELLED = (): void => undefined;

/**
 * One simulator event, ordered by (at, seq): time first, then scheduling order. It is one of
 * three things, so that the common ones need no closure: a message delivery (`envelope`), an
 * actor's timer (`target` and `key`), or a plain callback (`fn`). It is also the handle that
 * cancels it. Deliveries and actor timers, whose handles nobody keeps once they ran, are
 * recycled by the simulator (see SimWorld.recycle).
 */
export class SimEvent {
  cancelled = false;

  constructor(
    public at: number,
    public seq: number,
    public fn: (() => void) | undefined,
    public envelope: Envelope | undefined,
    public target: TimerTarget | undefined,
    public key: string,
  ) {}

  /**
   * Marks it skipped when its time comes, and lets go of what it would have run: it stays in
   * the heap until then, and with 0 ms messages (the default network) a run's virtual time may
   * never get there. A client's sweep timer, cancelled as each call settles and as the client
   * closes, kept every client closed on a long-lived simulated cluster (about 2 KB each at
   * virtual time 0; found by an audit of what a long-lived process accumulates, session 69).
   * A callback event's `fn` becomes CANCELLED, not undefined: its handle is still out in the
   * world, so it is never recycled (see SimWorld.recycle).
   */
  cancel(): void {
    this.cancelled = true;
    if (this.fn !== undefined) this.fn = CANCELLED;
    this.target = undefined;
  }
}

/** A binary min-heap of events ordered by (at, seq). */
export class EventHeap {
  private readonly items: SimEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): SimEvent | undefined {
    return this.items[0];
  }

  push(event: SimEvent): void {
    const items = this.items;
    let i = items.length;
    items.push(event);
    // Sift up with a hole: move parents down, write the event once.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!less(event, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = event;
  }

  pop(): SimEvent | undefined {
    const items = this.items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    const size = n - 1;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        let m = l;
        let child = items[l]!;
        const r = l + 1;
        if (r < size) {
          const rc = items[r]!;
          if (less(rc, child)) {
            m = r;
            child = rc;
          }
        }
        if (!less(child, last)) break;
        items[i] = child;
        i = m;
      }
      items[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
