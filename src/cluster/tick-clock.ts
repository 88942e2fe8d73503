/**
 * Lazy replication ticks. An actor that counts time in ticks (a server's Multi-Paxos groups,
 * learner feeds and participants; a coordinator) used to set its tick timer every `tickMs`.
 * Most ticks only count (an idle follower waits out an election timeout of 30..59 ticks, an
 * idle leader heartbeats every 5), so the actor now asks its state how many ticks may pass
 * before one does more than count, and sets the timer for that tick, on the grid it always
 * had (every `tickMs` from its start, on the host's clock, which clock-skew faults leave
 * alone). Before it handles any message it advances its counters by the whole ticks that
 * passed since the last one it carried out (by construction, none of them did more than
 * count); after the step, if something became due sooner than the timer, it sets the timer
 * earlier. The timer's tick is carried out in full, as before.
 *
 * `MERIDIAN_TICKS=eager` (testing only) sets the timer every tick as before, and checks that a
 * tick predicted to only count had no effect: traces are then those of every-tick ticking.
 * `MERIDIAN_TICKS=verify` ticks lazily but carries out each tick caught up in full, checked.
 */

import { ConfigError } from '../core/errors.js';
import type { ActorContext } from '../runtime/actor.js';

/** Ticks an actor with nothing due waits at most before its timer fires anyway. */
export const LAZY_TICKS_MAX = 100;

/** What MERIDIAN_TICKS may say (unset or empty: 'lazy'). */
export const TICKS_MODES = ['lazy', 'eager', 'verify'] as const;

const modeSetting = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['MERIDIAN_TICKS'];
/** The mode MERIDIAN_TICKS names, or undefined when it names none (checkTicksSetting refuses it). */
const modeNamed = modeSetting === undefined || modeSetting === '' ? 'lazy' : TICKS_MODES.find((mode) => mode === modeSetting);
/**
 * Testing only. 'eager': the timer fires every tick (as before lazy ticks) and a tick predicted
 * to only count is checked to have no effect. 'verify': lazy, but the ticks caught up are
 * carried out in full, one by one, and each is checked so (the same trace as 'lazy' if
 * counting them at once is right).
 */
export const TICKS_MODE: (typeof TICKS_MODES)[number] = modeNamed ?? 'lazy';

/**
 * A ConfigError naming MERIDIAN_TICKS when it names no mode. A misspelt one (`eagr`, `Eager`)
 * ran lazy ticks without a word, and a run meant to check the eager ones checked nothing new (an
 * audit, session 66). startCluster and the commands call it before anything runs; a worker
 * thread or host process reads the same environment after them.
 */
export function checkTicksSetting(): void {
  if (modeNamed === undefined)
    throw new ConfigError('MERIDIAN_TICKS', `one of ${TICKS_MODES.join(', ')}, or unset (lazy): a testing setting`, modeSetting, 'environment');
}

/** Where an actor stands on its tick grid: the last tick carried out and the tick the timer is set for. */
export class TickClock {
  /** Host-clock time of the last tick carried out (counted or in full). */
  private last: number;
  /** Host-clock time the tick timer is set for. */
  private armed: number;

  /** The actor started at `now` and set its tick timer `tickMs` ahead. */
  constructor(
    private readonly tickMs: number,
    now: number,
  ) {
    this.last = now;
    this.armed = now + tickMs;
  }

  /**
   * A message other than the tick timer, at `now`: the ticks that passed strictly before it
   * (and before the timer's tick), which the actor only counts. The grid moves past them.
   */
  elapsed(now: number): number {
    const until = now < this.armed ? now : this.armed;
    let n = 0;
    // Repeated addition, as a timer set every tickMs from the last tick computes its instant.
    while (this.last + this.tickMs < until) {
      this.last += this.tickMs;
      n++;
    }
    return n;
  }

  /**
   * The tick timer fired at `now`: the ticks before its tick, which the actor only counts, or
   * -1 if this is a timer message set before the timer was moved earlier (its tick is later:
   * only count the ticks that passed). After a non-negative answer the actor carries out the
   * timer's tick in full. A timer that fired late by a whole tick or more (a busy thread)
   * moves the grid to `now`, as an every-tick timer set from its firing did.
   */
  fired(now: number): number {
    if (now < this.armed - this.tickMs / 2) return -1;
    let n = 0;
    while (this.last + this.tickMs < this.armed) {
      this.last += this.tickMs;
      n++;
    }
    this.last = now - this.armed >= this.tickMs ? now : this.armed;
    return n;
  }

  /**
   * Whether a step that did not use up the timer can move it at all: not when it is set for
   * the next tick already (then the step need not work out its due tick). Eager and verify
   * modes always want it worked out (they check it).
   */
  canMoveEarlier(): boolean {
    return TICKS_MODE !== 'lazy' || this.armed > this.last + this.tickMs;
  }

  /**
   * After a step at `now`: `due` is how many ticks after the last one the next one that does
   * more than count is (at least 1). The delay to set the tick timer to, or undefined if it is
   * set early enough (always a delay after the timer's own tick: it is used up).
   */
  rearm(now: number, due: number, timerUsed: boolean): number | undefined {
    const ahead = TICKS_MODE === 'eager' ? 1 : Math.max(1, Math.min(LAZY_TICKS_MAX, due));
    let target = this.last;
    for (let i = 0; i < ahead; i++) target += this.tickMs;
    if (!timerUsed && target >= this.armed) return undefined;
    this.armed = target;
    // On the grid (the timer's own tick), one tick ahead: the delay an every-tick timer used.
    if (ahead === 1 && now === this.last) return this.tickMs;
    return target > now ? target - now : 0;
  }
}

/** Eager and verify modes' check: `ctx` as it is, but counting the effects (sends, persists, timers, counters...) a tick has. */
export function countingContext(ctx: ActorContext): { ctx: ActorContext; effects: () => number } {
  let effects = 0;
  const counting = Object.create(ctx) as ActorContext;
  for (const name of ['send', 'reply', 'forward', 'persist', 'checkpoint', 'count', 'setTimer', 'cancelTimer', 'publish'] as const) {
    const original = ctx[name] as (...args: unknown[]) => void;
    Object.defineProperty(counting, name, {
      value: (...args: unknown[]) => {
        effects++;
        original.apply(ctx, args);
      },
    });
  }
  return { ctx: counting, effects: () => effects };
}

/**
 * Eager and verify modes' check of a tick the last step predicted (`state.due` > 1) would only
 * count: carried out in full through a counting context, it must have no effect and leave the
 * next due tick exactly one nearer (or still at the LAZY_TICKS_MAX cap). Returns that count.
 */
export function checkedTick<S extends { due: number }>(
  state: S,
  ctx: ActorContext,
  onTick: (state: S, ctx: ActorContext) => void,
  ticksUntilDue: (state: S) => number,
): number {
  const counting = countingContext(ctx);
  const predicted = state.due;
  onTick(state, counting.ctx);
  const effects = counting.effects();
  const after = ticksUntilDue(state);
  if (predicted <= 1 || effects > 0 || (after !== predicted - 1 && predicted < LAZY_TICKS_MAX)) {
    throw new Error(`lazy ticks: ${ctx.self} predicted ${predicted} ticks to the next due one, but this tick had ${effects} effects and left ${after}`);
  }
  return after;
}

/** Verify mode's catch-up: each of `n` ticks carried out in full and checked (checkedTick), the prediction renewed after each. */
export function checkedTicks<S extends { due: number }>(
  state: S,
  n: number,
  ctx: ActorContext,
  onTick: (state: S, ctx: ActorContext) => void,
  ticksUntilDue: (state: S) => number,
): void {
  for (let i = 0; i < n; i++) state.due = checkedTick(state, ctx, onTick, ticksUntilDue);
}
