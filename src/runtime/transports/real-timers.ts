import type { TimerHandle } from '../env.js';

/** Timers on the real clock, for the real-time runtimes (threads, NATS); stop() clears them all. */
export class RealTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  set(delayMs: number, fn: () => void): TimerHandle {
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
  }
}
