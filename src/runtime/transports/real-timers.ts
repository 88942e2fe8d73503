import type { TimerHandle } from '../env.js';

/**
 * Timers on the real clock, for the real-time runtimes (threads, NATS); clear() cancels them all.
 *
 * A delay of 0 (or less) runs the callback on the next event-loop turn (setImmediate), not
 * through setTimeout: Node runs setTimeout(fn, 0) after 1 ms at the soonest, so a zero-delay
 * timer (a server's flush of a batch, a client's sweep of calls already due) would hold its
 * work a millisecond for nothing. The next turn still lets what is already queued (port
 * messages, I/O) go first, as a timer would. The simulator's timers are not these.
 */
export class RealTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();

  set(delayMs: number, fn: () => void): TimerHandle {
    if (delayMs <= 0) {
      const immediate = setImmediate(() => {
        this.immediates.delete(immediate);
        fn();
      });
      this.immediates.add(immediate);
      return {
        cancel: () => {
          clearImmediate(immediate);
          this.immediates.delete(immediate);
        },
      };
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
    return {
      cancel: () => {
        clearTimeout(timer);
        this.timers.delete(timer);
      },
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.set(ms, resolve));
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const immediate of this.immediates) clearImmediate(immediate);
    this.immediates.clear();
  }
}
