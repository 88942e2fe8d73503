/**
 * What stands in for a cluster actor that cannot start (its durable log is damaged, say:
 * durable.ts refuses it) while its supervisor backs off before the next try (see
 * Behavior.standIn). Without one, the requests that reach it wait in the mailbox of an actor
 * that may never start, until their callers time out (an indefinite outcome). This one refuses
 * each request at once, with an answer its behaviour chooses, and says why (the start's error)
 * in the refusal and in inspect(). It takes part in nothing else: its peers and probes hear
 * nothing from it, as from a crashed node. The server's (server.ts serverStandIn) and the
 * coordinator's (coordinator.ts coordinatorStandIn) are made here.
 */
import type { ActorContext, StandIn, TimerMessage } from '../runtime/actor.js';
import type { Req, Res, ResErr, ResOk } from './messages.js';

/** The longest reason an actor that could not start gives (in its refusals, and to a server's heartbeat actor). */
export const NOT_SERVING_REASON_MAX = 400;

export interface NotServingState<Params> {
  params: Params;
  /** Why the start failed (its error's message, at most NOT_SERVING_REASON_MAX characters). */
  reason: string;
  /** Requests refused. */
  refused: number;
}

/** The answer to a request refused, but for its type and rid (an error, though the type allows any answer). */
export type Refusal = Omit<ResErr, 'type' | 'rid'> | Omit<ResOk, 'type' | 'rid'>;

export interface RefusingStandInSpec<Params> {
  /** The answer to `req`; `message` says who is not serving, and why. */
  refusal(req: Req, message: string): Refusal;
  /** What the stand-in does as it starts (after its state is made). */
  started?(state: NotServingState<Params>, ctx: ActorContext): void;
  /** One of its timers fired. */
  timer?(state: NotServingState<Params>, key: string, ctx: ActorContext): void;
}

const isReq = (msg: { type: string }): msg is Req => msg.type === 'req';
const isTimer = (msg: { type: string }): msg is TimerMessage => msg.type === 'timer';

/** A stand-in that refuses every request (`refusal`) and ignores the rest but its own timers. */
export function refusingStandIn<Params, In extends { type: string }>(spec: RefusingStandInSpec<Params>): StandIn<NotServingState<Params>, Params, In> {
  return {
    init(ctx, params, error) {
      const message = error.message;
      const reason = message.length > NOT_SERVING_REASON_MAX ? `${message.slice(0, NOT_SERVING_REASON_MAX - 3)}...` : message;
      const state: NotServingState<Params> = { params, reason, refused: 0 };
      spec.started?.(state, ctx);
      return state;
    },
    receive(state, msg, ctx) {
      if (isTimer(msg)) {
        spec.timer?.(state, msg.key, ctx);
        return;
      }
      if (!isReq(msg)) return;
      state.refused++;
      const refusal = spec.refusal(msg, `${ctx.self} is not serving: it could not start (${state.reason})`);
      ctx.reply({ type: 'res', rid: msg.rid, ...refusal } satisfies Res);
    },
    summary(state) {
      return { notServing: state.reason, refused: state.refused };
    },
  };
}
