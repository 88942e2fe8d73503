/**
 * A tiny in-memory network for scripting protocol cores, etcd-raft style: deliver, drop,
 * duplicate, isolate, partition, crash and restart (recreate a core from its persisted
 * records), tick, stabilize. Every message and record goes through msgpack and must come back
 * equal, so codec-unsafe data (classes, Map, Set, functions) fails the test that sends it.
 *
 * Delivery is explicit. `round()` delivers every message in flight, and whatever they cause is
 * delivered by the next round, so the round in which a decision happens is its message delay.
 * Messages a core sends to itself are delivered at once (same address: no network hop) and are
 * not counted as messages.
 */
import { pack, unpack } from 'msgpackr';
import { isDeepStrictEqual } from 'node:util';
import type { Prng } from '../src/core/prng.js';
import type { Core } from '../src/protocols/types.js';

export interface InFlight<M> {
  from: string;
  to: string;
  msg: M;
}

export interface DecisionEvent<D> {
  node: string;
  decision: D;
  /** The delivery round during which it was decided (0: before any delivery). */
  round: number;
  /** How many times the node had been restarted when it decided. */
  incarnation: number;
}

export interface NetOptions<M, R, D, C extends Core<M, R, D>> {
  ids: string[];
  make: (id: string, recovered: R[] | undefined) => C;
  /** The host's reaction to a decision (for example, voting); runs before the outbox is drained again. */
  onDecision?: (id: string, core: C, decision: D) => void;
}

/** Bounds the self-delivery loop: a core that keeps messaging itself is a bug. */
const LOCAL_STEPS_MAX = 100_000;

export function roundTrip<T>(value: T): T {
  const copy = unpack(pack(value)) as T;
  if (!isDeepStrictEqual(copy, value)) {
    throw new Error(`not codec-safe: ${JSON.stringify(value)} came back as ${JSON.stringify(copy)}`);
  }
  return copy;
}

export class Net<M extends { type: string }, R, D, C extends Core<M, R, D>> {
  readonly cores = new Map<string, C>();
  readonly logs = new Map<string, R[]>();
  readonly events: DecisionEvent<D>[] = [];
  readonly down = new Set<string>();
  readonly incarnations = new Map<string, number>();
  queue: InFlight<M>[] = [];
  round = 0;
  /** Messages sent between distinct addresses, by type. */
  readonly sentByType: Record<string, number> = {};
  remoteSent = 0;
  persisted = 0;
  dropped = 0;
  private readonly blocked = new Set<string>();
  private readonly opts: NetOptions<M, R, D, C>;

  constructor(opts: NetOptions<M, R, D, C>) {
    this.opts = opts;
    for (const id of opts.ids) {
      this.logs.set(id, []);
      this.incarnations.set(id, 0);
      this.cores.set(id, opts.make(id, undefined));
    }
    for (const id of opts.ids) this.pump(id);
  }

  core(id: string): C {
    const core = this.cores.get(id);
    if (core === undefined) throw new Error(`no node ${id}`);
    return core;
  }

  /** Runs `fn` against a live node's core, then drains its outbox. */
  act(id: string, fn: (core: C) => void): void {
    if (this.down.has(id)) throw new Error(`${id} is down`);
    fn(this.core(id));
    this.pump(id);
  }

  decisionsOf(id: string): D[] {
    return this.events.filter((e) => e.node === id).map((e) => e.decision);
  }

  /** Drains a node's outbox: persist, then send, then decide; self-messages are stepped at once. */
  pump(id: string): void {
    const local: M[] = [];
    for (let steps = 0; ; steps++) {
      if (steps > LOCAL_STEPS_MAX) throw new Error(`${id}: self-delivery does not converge`);
      const core = this.core(id);
      if (core.hasReady()) {
        const ready = core.ready();
        const log = this.logs.get(id)!;
        for (const record of ready.persist) {
          log.push(roundTrip(record));
          this.persisted++;
        }
        for (const env of ready.messages) {
          const msg = roundTrip(env.msg);
          if (env.to === id) {
            local.push(msg);
            continue;
          }
          this.remoteSent++;
          this.sentByType[msg.type] = (this.sentByType[msg.type] ?? 0) + 1;
          this.queue.push({ from: id, to: env.to, msg });
        }
        for (const decision of ready.decisions) {
          this.events.push({ node: id, decision: roundTrip(decision), round: this.round, incarnation: this.incarnations.get(id)! });
          this.opts.onDecision?.(id, core, decision);
        }
        continue;
      }
      const next = local.shift();
      if (next === undefined) return;
      core.step(id, next);
    }
  }

  private deliver(m: InFlight<M>): void {
    if (this.down.has(m.to) || !this.cores.has(m.to) || this.blocked.has(`${m.from}>${m.to}`)) {
      this.dropped++;
      return;
    }
    this.core(m.to).step(m.from, m.msg);
    this.pump(m.to);
  }

  /** Delivers every message in flight now; what they cause waits for the next round. */
  deliverRound(): number {
    const batch = this.queue;
    this.queue = [];
    this.round++;
    for (const m of batch) this.deliver(m);
    return batch.length;
  }

  /** Rounds until nothing is in flight; returns how many rounds it took. */
  stabilize(maxRounds = 10_000): number {
    let rounds = 0;
    while (this.queue.length > 0) {
      if (++rounds > maxRounds) throw new Error('network does not stabilize');
      this.deliverRound();
    }
    return rounds;
  }

  /** Delivers (in order) and removes the messages in flight that match. */
  deliverWhere(pred: (m: InFlight<M>) => boolean): number {
    const hit = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    for (const m of hit) this.deliver(m);
    return hit.length;
  }

  /** Removes the messages in flight that match; returns how many. */
  dropWhere(pred: (m: InFlight<M>) => boolean): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((m) => !pred(m));
    this.dropped += before - this.queue.length;
    return before - this.queue.length;
  }

  /** Ticks every live node (or the given ones) `n` times, draining outboxes after each tick. */
  tick(n = 1, ids: string[] = this.opts.ids): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) {
        if (this.down.has(id)) continue;
        this.core(id).tick();
        this.pump(id);
      }
    }
  }

  /** Ticks and stabilizes `n` times: time passing on a network without faults. */
  run(n: number, ids?: string[]): void {
    for (let i = 0; i < n; i++) {
      this.tick(1, ids);
      this.stabilize();
    }
  }

  crash(id: string): void {
    this.down.add(id);
  }

  /** Recreates the node's core from its persisted records only. */
  restart(id: string): void {
    this.down.delete(id);
    this.incarnations.set(id, this.incarnations.get(id)! + 1);
    this.cores.set(id, this.opts.make(id, structuredClone(this.logs.get(id)!)));
    this.pump(id);
  }

  /** Blocks both directions between `id` and every other node. */
  isolate(id: string): void {
    for (const other of this.opts.ids) {
      if (other === id) continue;
      this.blocked.add(`${id}>${other}`);
      this.blocked.add(`${other}>${id}`);
    }
  }

  /** Blocks what every other node (or those of `from`) sends to `id` (one way: what `id` sends still arrives). */
  cutInto(id: string, from: readonly string[] = this.opts.ids): void {
    for (const other of from) if (other !== id) this.blocked.add(`${other}>${id}`);
  }

  /** Blocks every pair of nodes that are in different groups. Nodes in no group are untouched. */
  partition(groups: string[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(`${x}>${y}`);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /**
   * One random network event: deliver a random message in flight, possibly dropping or
   * duplicating it. Returns false if nothing was in flight.
   */
  randomDeliver(prng: Prng, faults: { drop: number; duplicate: number }): boolean {
    if (this.queue.length === 0) return false;
    const i = prng.int(this.queue.length);
    const m = this.queue[i]!;
    if (prng.chance(faults.duplicate)) {
      this.queue.push({ ...m, msg: roundTrip(m.msg) });
    } else {
      this.queue.splice(i, 1);
    }
    if (prng.chance(faults.drop)) {
      this.dropped++;
      return true;
    }
    this.deliver(m);
    return true;
  }
}

/**
 * Every message sent on a Net so far, a copy of each as it entered the network: `replay` puts a
 * random one back in flight, however late (a retransmission, a copy held in a queue). Call
 * `remember` once per step, before the step.
 */
export class SentHistory<M extends { type: string }> {
  private readonly sent: InFlight<M>[] = [];
  private readonly seen = new WeakSet<object>();

  constructor(private readonly net: { queue: InFlight<M>[] }) {}

  remember(): void {
    for (const m of this.net.queue) {
      if (this.seen.has(m)) continue;
      this.seen.add(m);
      this.sent.push({ ...m });
    }
  }

  /** Puts a copy of a random message sent earlier in flight; false if none was sent yet. */
  replay(prng: Prng): boolean {
    if (this.sent.length === 0) return false;
    this.net.queue.push({ ...prng.pick(this.sent) });
    return true;
  }
}
