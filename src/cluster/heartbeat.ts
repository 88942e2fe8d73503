import type { Behavior } from '../runtime/actor.js';
import type { Heartbeat, HeartbeatInbound, Load } from './messages.js';

export interface HeartbeatParams {
  server: string;
  /** The region actor that monitors this server. */
  monitor: string;
  intervalMs: number;
}

interface HeartbeatState {
  params: HeartbeatParams;
  seq: number;
  load: Load;
}

/**
 * Beats on behalf of its server. It shares the server's thread (and node), so a crashed
 * server stops beating; it carries the server's latest load to the region actor.
 */
export const heartbeatBehavior: Behavior<HeartbeatState, HeartbeatParams, HeartbeatInbound> = {
  name: 'heartbeat',
  init(ctx, params) {
    ctx.setTimer('beat', 0);
    return { params, seq: 0, load: { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 } };
  },
  receive(state, msg, ctx) {
    if (msg.type === 'load') {
      state.load = msg.load;
      return;
    }
    if (msg.type === 'timer') {
      const beat: Heartbeat = { type: 'hb', node: state.params.server, seq: ++state.seq, incarnation: ctx.incarnation, load: state.load };
      ctx.send(state.params.monitor, beat);
      ctx.setTimer('beat', state.params.intervalMs);
    }
  },
  summary(state) {
    return { seq: state.seq };
  },
};
