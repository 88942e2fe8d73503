/**
 * Echo actors used only by the benches. Worker hosts import this module (its `behaviors` map)
 * when a bench starts a ThreadsRuntime with `behaviorsModule` pointing here.
 *
 * The pinger keeps `window` requests in flight to its ponger and counts replies; when the run
 * is complete it publishes `bench-done` (which reaches the runtime's `onEvent`).
 */
import type { ActorContext, Behavior } from '../src/runtime/actor.js';
import { makeReply, makeRequest, type BenchReply, type BenchRequest } from './lib/messages.js';

export const BENCH_DONE_TOPIC = 'bench-done';

export interface PingerParams {
  ponger: string;
}

/** Sent by the bench to the pinger to begin a run. `rtt`: one request at a time, each timed. */
export interface StartRun {
  type: 'start';
  run: number;
  total: number;
  window: number;
  rtt: boolean;
}

export interface RunDone {
  run: number;
  received: number;
  elapsedMs: number;
  rttsMs: number[];
}

interface PingerState {
  ponger: string;
  run: number;
  total: number;
  sent: number;
  received: number;
  nextRid: number;
  startedMs: number;
  rtt: boolean;
  sentAtMs: number;
  rttsMs: number[];
  /** Replies that arrive for a finished run (should be none). */
  strays: number;
}

export const pingerBehavior: Behavior<PingerState, PingerParams, StartRun | BenchReply> = {
  name: 'bench-pinger',
  init: (_ctx, params) => ({
    ponger: params.ponger,
    run: -1,
    total: 0,
    sent: 0,
    received: 0,
    nextRid: 0,
    startedMs: 0,
    rtt: false,
    sentAtMs: 0,
    rttsMs: [],
    strays: 0,
  }),
  receive: (state, msg, ctx) => {
    if (msg.type === 'start') {
      const start = msg;
      state.run = start.run;
      state.total = start.total;
      state.sent = 0;
      state.received = 0;
      state.rtt = start.rtt;
      state.rttsMs = [];
      state.startedMs = ctx.now();
      const first = start.rtt ? 1 : Math.min(start.window, start.total);
      for (let i = 0; i < first; i++) sendOne(state, ctx, state.startedMs);
      return;
    }
    if (msg.type !== 'res') return;
    if (state.received >= state.total) {
      state.strays++;
      return;
    }
    state.received++;
    // The clock is read only when needed: the raw baseline does not read it per message either.
    const nowMs = state.rtt || state.received === state.total ? ctx.now() : 0;
    if (state.rtt) state.rttsMs.push(nowMs - state.sentAtMs);
    if (state.received === state.total) {
      const done: RunDone = { run: state.run, received: state.received, elapsedMs: nowMs - state.startedMs, rttsMs: state.rttsMs };
      ctx.publish(BENCH_DONE_TOPIC, done);
      return;
    }
    if (state.sent < state.total) sendOne(state, ctx, nowMs);
  },
  summary: (state) => ({ run: state.run, sent: state.sent, received: state.received, strays: state.strays }),
};

function sendOne(state: PingerState, ctx: ActorContext, nowMs: number): void {
  state.sent++;
  state.sentAtMs = nowMs;
  ctx.send(state.ponger, makeRequest(state.nextRid++));
}

export const pongerBehavior: Behavior<null, unknown, BenchRequest> = {
  name: 'bench-ponger',
  init: () => null,
  receive: (_state, msg, ctx) => {
    if (msg.type === 'req') ctx.reply(makeReply(msg));
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one map holds behaviours of every state, params and inbound union (as src/cluster/behaviors.ts)
export const behaviors = new Map<string, Behavior<any, any, any>>([
  [pingerBehavior.name, pingerBehavior],
  [pongerBehavior.name, pongerBehavior],
]);
