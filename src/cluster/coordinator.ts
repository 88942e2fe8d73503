import type { ActorContext, Behavior } from '../runtime/actor.js';
import type { TxnOp } from '../replication/ops.js';
import { createCoordinatorCore, type CommitProtocolName, type CoordinatorCore } from './commit-adapters.js';
import type { ResolvedConfig } from './config.js';
import type { Req, Res } from './messages.js';
import type { ParticipantReply, ParticipantWire } from './participant.js';
import { shardOfKey } from './server.js';
import { coordinatorAddress, groupOf, topologyOf, type Topology } from './topology.js';

/** Transactions one coordinator runs at once; beyond it new ones are refused (UNAVAILABLE). */
export const COORDINATOR_TXNS_MAX = 10_000;
/** Ticks without word from a shard's believed leader before the coordinator tries another replica. */
export const LEADER_SILENCE_TICKS = 50;

export interface CoordinatorParams {
  region: string;
  commit: CommitProtocolName;
  topology: Topology;
  tickMs: number;
  /** Paxos Commit: every region's coordinator is an acceptor (2F+1 = the number of regions). */
  acceptors: string[];
  /** Testing only: the '2pc-commit-on-timeout' variant. */
  unsafeCommitOnTimeout?: boolean;
}

export function coordinatorParams(config: ResolvedConfig, region: string): CoordinatorParams {
  const params: CoordinatorParams = { region, commit: config.commit, topology: topologyOf(config), tickMs: 10, acceptors: config.regions.map((r) => coordinatorAddress(r.name)) };
  if (config.replication.unsafe === '2pc-commit-on-timeout') params.unsafeCommitOnTimeout = true;
  return params;
}

interface CoordinatorState {
  params: CoordinatorParams;
  core: CoordinatorCore;
  pending: Map<string, { to: string; rid: number }>;
  /** Per shard: the replica believed to lead, and ticks since it last answered. */
  leaders: Map<number, { server: string; silentTicks: number; rotation: number }>;
  committed: number;
  aborted: number;
  /** Request ids of transactions begun, so a duplicated request does not run twice. */
  begun: Map<string, string>;
}

/** Transaction request ids remembered against duplicates. */
export const BEGUN_REMEMBERED_MAX = 10_000;

/**
 * A region's transaction coordinator: splits a transaction's operations by shard, runs the
 * configured commit protocol with each shard's replication group as one participant, and
 * answers the client: success at the commit point, AbortedError when it aborts.
 */
export const coordinatorBehavior: Behavior<CoordinatorState, CoordinatorParams> = {
  name: 'coordinator',
  init(ctx, params, recovered) {
    const state: CoordinatorState = {
      params,
      core: createCoordinatorCore(params.commit, ctx.self, recovered, { acceptors: params.acceptors, seed: Math.floor(ctx.random() * 0x100000000), ...(params.unsafeCommitOnTimeout === true ? { unsafeCommitOnTimeout: true } : {}) }),
      pending: new Map(),
      leaders: new Map(),
      committed: 0,
      aborted: 0,
      begun: new Map(),
    };
    drain(state, ctx);
    ctx.setTimer('tick', params.tickMs);
    return state;
  },
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'req':
        begin(state, msg as unknown as Req, ctx);
        return;
      case 'tx-r': {
        const m = msg as unknown as ParticipantReply;
        const leader = state.leaders.get(m.s);
        if (leader !== undefined && leader.server === ctx.sender) leader.silentTicks = 0;
        else state.leaders.set(m.s, { server: ctx.sender, silentTicks: 0, rotation: 0 });
        state.core.step(`shard/${m.s}`, m.m);
        drain(state, ctx);
        return;
      }
      case 'tx-c':
        state.core.step(ctx.sender, (msg as unknown as { m: unknown }).m);
        drain(state, ctx);
        return;
      case 'timer':
        for (const l of state.leaders.values()) l.silentTicks++;
        state.core.tick();
        drain(state, ctx);
        ctx.setTimer('tick', state.params.tickMs);
        return;
      default:
        return;
    }
  },
  summary(state) {
    return { commit: state.params.commit, pending: state.pending.size, committed: state.committed, aborted: state.aborted };
  },
};

function begin(state: CoordinatorState, req: Req, ctx: ActorContext): void {
  const origin = { to: ctx.sender, rid: req.rid };
  const ops = req.body.ops ?? [];
  if (state.pending.size >= COORDINATOR_TXNS_MAX) {
    ctx.reply({ type: 'res', rid: req.rid, ok: false, code: 'UNAVAILABLE', message: `coordinator/${state.params.region} runs ${COORDINATOR_TXNS_MAX} transactions already` } satisfies Res);
    return;
  }
  const byShard = new Map<number, TxnOp[]>();
  for (const op of ops) {
    const s = shardOfKey(op.key, state.params.topology);
    let list = byShard.get(s);
    if (list === undefined) byShard.set(s, (list = []));
    list.push(op);
  }
  const rq = req.body.rq;
  if (rq !== undefined && state.begun.has(rq)) return; // A duplicate: the first one answers.
  const txn = `${state.params.region}:${ctx.nextId()}`;
  if (rq !== undefined) {
    state.begun.set(rq, txn);
    if (state.begun.size > BEGUN_REMEMBERED_MAX) state.begun.delete(state.begun.keys().next().value as string);
  }
  state.pending.set(txn, origin);
  state.core.begin(txn, [...byShard].map(([s, shardOps]) => ({ to: `shard/${s}`, payload: shardOps })));
  drain(state, ctx);
}

function target(state: CoordinatorState, shard: number): string {
  const group = groupOf(shard, state.params.topology);
  let leader = state.leaders.get(shard);
  if (leader === undefined) state.leaders.set(shard, (leader = { server: group[0]!, silentTicks: 0, rotation: 0 }));
  if (leader.silentTicks > LEADER_SILENCE_TICKS) {
    // No answer for a while: try the next replica; it forwards to the leader it knows.
    leader.rotation++;
    leader.server = group[leader.rotation % group.length]!;
    leader.silentTicks = 0;
  }
  return leader.server;
}

function drain(state: CoordinatorState, ctx: ActorContext): void {
  for (let round = 0; round < 4 && state.core.hasReady(); round++) {
    const r = state.core.ready();
    for (const record of r.persist) ctx.persist(record);
    for (const m of r.messages) {
      if (m.to.startsWith('shard/')) {
        const s = Number(m.to.slice(6));
        const wire: ParticipantWire = { type: 'tx', s, m: m.msg as ParticipantWire['m'] };
        ctx.send(target(state, s), wire);
      } else {
        // Another coordinator (Paxos Commit acceptors and leaders): wrapped, so it is not
        // mistaken for a message of the coordinator actor itself.
        ctx.send(m.to, { type: 'tx-c', m: m.msg });
      }
    }
    for (const d of r.decisions) {
      const origin = state.pending.get(d.txn);
      state.pending.delete(d.txn);
      if (d.kind === 'commit') state.committed++;
      else state.aborted++;
      ctx.count(d.kind === 'commit' ? 'txn-commit' : 'txn-abort');
      if (origin === undefined) continue; // Recovered after a restart: nobody waits any more.
      const res: Res = d.kind === 'commit'
        ? { type: 'res', rid: origin.rid, ok: true }
        : { type: 'res', rid: origin.rid, ok: false, code: 'ABORTED', message: `transaction ${d.txn} aborted (${d.reason})` };
      ctx.send(origin.to, res);
    }
  }
}
