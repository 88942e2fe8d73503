import type { Behavior } from '../runtime/actor.js';
import type { Heartbeat, HeartbeatInbound, Load } from './messages.js';

export interface HeartbeatParams {
  server: string;
  /** The region actor that monitors this server. */
  monitor: string;
  intervalMs: number;
}

/**
 * Beats held back after the server said it is not serving (a `not-serving` message): it says
 * so every load interval (one heartbeat interval) while it lasts, so only that many lost in a
 * row let one beat through.
 */
export const NOT_SERVING_QUIET_BEATS = 3;

interface HeartbeatState {
  params: HeartbeatParams;
  seq: number;
  load: Load;
  /** When the server measured `load` (LoadReport.at); -Infinity: no report yet. */
  loadAt: number;
  /** Beats still to hold back (see NOT_SERVING_QUIET_BEATS). */
  quiet: number;
  /** Why the server is not serving, as it said last; undefined once beats go out again. */
  notServing: string | undefined;
  /** When the server said so last (NotServing.at); -Infinity: never. */
  notServingAt: number;
}

/**
 * Beats on behalf of its server. It shares the server's thread (and node), so a crashed
 * server stops beating; it carries the server's latest load to the region actor. A server
 * that could not start (its stand-in runs instead: server.ts) says so, and no beat goes out
 * while it does: the region convicts it as if it had crashed.
 */
export const heartbeatBehavior: Behavior<HeartbeatState, HeartbeatParams, HeartbeatInbound> = {
  name: 'heartbeat',
  init(ctx, params) {
    ctx.setTimer('beat', 0);
    return {
      params,
      seq: 0,
      load: { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 },
      loadAt: Number.NEGATIVE_INFINITY,
      quiet: 0,
      notServing: undefined,
      notServingAt: Number.NEGATIVE_INFINITY,
    };
  },
  receive(state, msg, ctx) {
    if (msg.type === 'load') {
      // A report older than the one held is a copy the network delivered late (the server
      // sends one when its load changed, and the same again only every LOAD_REFRESH_REPORTS):
      // taken, it stood for the server's load until the next report, which from an idle server
      // is up to 10 s away (a class audit, session 64: a busy moment's report, 25 requests in
      // flight, beat for an idle server).
      if (msg.at < state.loadAt) return;
      state.load = msg.load;
      state.loadAt = msg.at;
      // Measured after the server last said it is not serving: a later try started it, and it
      // serves. The beats held back for a late copy of a not-serving (below) go out again.
      if (msg.at > state.notServingAt) state.quiet = 0;
      return;
    }
    if (msg.type === 'not-serving') {
      if (ctx.sender !== state.params.server) return;
      // A copy the network delivered late, older than a load report (the server served after
      // it: a later try started it) or than the not-serving held: it does not say the server is
      // not serving now. Taken, it held back NOT_SERVING_QUIET_BEATS beats of a serving server
      // (a class audit, session 64), and its region could convict it.
      if (msg.at < state.loadAt || msg.at < state.notServingAt) return;
      state.quiet = NOT_SERVING_QUIET_BEATS;
      state.notServing = msg.reason;
      state.notServingAt = msg.at;
      return;
    }
    if (msg.type === 'timer') {
      if (state.quiet > 0) state.quiet--;
      else {
        state.notServing = undefined;
        const beat: Heartbeat = { type: 'hb', node: state.params.server, seq: ++state.seq, incarnation: ctx.incarnation, load: state.load };
        ctx.send(state.params.monitor, beat);
      }
      ctx.setTimer('beat', state.params.intervalMs);
    }
  },
  summary(state) {
    return state.notServing === undefined ? { seq: state.seq } : { seq: state.seq, notServing: state.notServing };
  },
};
