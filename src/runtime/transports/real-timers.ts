import { StoppedError } from '../../core/errors.js';
import type { TimerHandle } from '../env.js';

/** Node's longest setTimeout delay: a longer one fires after 1 ms (with a warning), so set() chains timers past it. */
export const TIMEOUT_MAX_MS = 2 ** 31 - 1;

/**
 * Timers on the real clock, for the real-time runtimes (threads, NATS); clear() cancels them all.
 *
 * A delay of 0 (or less) runs the callback on the next event-loop turn (setImmediate), not
 * through setTimeout: Node runs setTimeout(fn, 0) after 1 ms at the soonest, so a zero-delay
 * timer (a server's flush of a batch, a client's sweep of calls already due) would hold its
 * work a millisecond for nothing. The next turn still lets what is already queued (port
 * messages, I/O) go first, as a timer would. The simulator's timers are not these.
 *
 * clear() also settles every pending `sleep`: it rejects with the reason given (by default a
 * StoppedError), so that nobody awaits a timer that will never fire.
 */
export class RealTimers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  /** The reject of every pending sleep, called by clear(). */
  private readonly sleepers = new Set<(error: Error) => void>();

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
    if (delayMs > TIMEOUT_MAX_MS) {
      let part = this.set(TIMEOUT_MAX_MS, () => {
        part = this.set(delayMs - TIMEOUT_MAX_MS, fn);
      });
      return { cancel: () => part.cancel() };
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
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        handle.cancel();
        reject(error);
      };
      const handle = this.set(ms, () => {
        this.sleepers.delete(fail);
        resolve();
      });
      this.sleepers.add(fail);
    });
  }

  /** Cancel every timer; every pending sleep rejects with `reason`. */
  clear(reason: Error = new StoppedError('the timers were cleared before the sleep ended')): void {
    const sleepers = [...this.sleepers];
    this.sleepers.clear();
    for (const fail of sleepers) fail(reason);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const immediate of this.immediates) clearImmediate(immediate);
    this.immediates.clear();
  }
}
