/**
 * One seed of a shard's transaction participant (src/replication/participant.ts) on the shard's
 * replicated log: test/participant-random.test.ts runs it, and test/helpers/core-mutant.ts runs
 * it on a scratch copy of dist/ with a bug put in, so the imports here are relative.
 *
 * Per seed: one shard (shard 0) of three servers, each with its `Participants`; the shard's log
 * is a model of what Multi-Paxos chooses: the current leader's proposals wait, unchosen, and are
 * chosen in the order proposed, a few at a time; every chosen command is applied by one
 * KvStateMachine (every replica applies the same prefix) with small memory bounds (1-8
 * finished transactions remembered), and its outputs go to every server's participant as
 * server.ts hands them over (onGroupOutput, then afterOutputs). The coordinator is the real
 * TwoPcCoordinator (its records durable, vote timeout 60-150 ticks), with a second participant
 * `x` that follows the protocol (votes yes, in 50-100% of transactions, or no; acknowledges
 * commits). 10-24 transactions `r1:i1:<n>` append their id to one to three keys at the shard.
 *
 * Faults, during 500 ticks: leader changes at any tick, 1-4% a tick (each unchosen proposal of
 * the old leader is chosen or lost, at random; an election with no leader for 1-5 ticks, or
 * none; the new leader, another server or after an election maybe the same one, catches up after
 * 0-3 ticks and rebuilds its core from what the state machine holds; a leader re-elected at once
 * keeps its proposals, which its own acceptor accepted); messages lost (0-25%), copied (0-15%),
 * reordered, sent to a server that is not the leader (forwarded or held), and late copies of any
 * earlier message (shard-bound prepares favoured). Then a quiet phase: no faults, every message
 * delivered, every proposal chosen, until nothing moves (at most 1,500 ticks).
 *
 * Checked:
 * - every transaction has one outcome: the coordinator decides once; the shard applies a commit
 *   only of a transaction the coordinator committed, and finishes a prepared transaction once;
 *   at the end, what the coordinator committed the shard committed, and what it aborted (or
 *   forgot) the shard did not commit;
 * - a committed transaction's appends are in the shard's data exactly once, an uncommitted
 *   one's not at all;
 * - a prepare applied after the transaction finished at the shard is never voted yes (a late
 *   copy does not prepare a finished transaction again);
 * - once quiet, nothing is prepared at the shard (no key locked) and the coordinator waits on no
 *   transaction;
 * - no assertion of the code under test fails (a throw fails the seed).
 */
import { Prng } from '../../src/core/prng.js';
import { TwoPcCoordinator } from '../../src/protocols/twopc.js';
import type { TwoPcMessage } from '../../src/protocols/twopc.js';
import { KvStateMachine, type Command, type Completion } from '../../src/replication/state-machine.js';
import { Participants, participantAddress, type ParticipantEffect } from '../../src/replication/participant.js';
import type { ParticipantReply, ParticipantWire } from '../../src/replication/messages.js';
import type { GroupOutput, GroupReplica } from '../../src/replication/group.js';
import type { TxnOp } from '../../src/replication/ops.js';

const SHARD = 0;
const SHARD_ADDRESS = participantAddress(SHARD);
const SERVERS = ['a', 'b', 'd'];
const KEYS = ['k0', 'k1', 'k2'];
const ACTIVE_TICKS = 500;
const QUIET_TICKS = 1_500;

type Msg = { to: 'server'; server: string; wire: ParticipantWire; from: string } | { to: 'c'; from: string; m: TwoPcMessage } | { to: 'x'; m: TwoPcMessage };

export interface SeedOptions {
  /** The 'forget-prepared' variant (replication `unsafe: 'forget-prepared'`): a rebuilt core forgets in-doubt transactions. */
  forgetPrepared?: boolean;
  /** Debugging: called with each event that names this transaction (messages, chosen commands, leader changes). */
  trace?: { txn: string; log: (line: string) => void };
}

export interface SeedResult {
  problems: string[];
  txns: number;
  committed: number;
  aborted: number;
  /** Leader changes to another server. */
  leaderChanges: number;
  /** Leader changes (or elections) while a transaction was in doubt at the shard (prepared, its vote record chosen). */
  inDoubtChanges: number;
  /** Proposals lost in leader changes. */
  lost: number;
  /** Late prepare copies handed to the leader of a transaction finished longer ago than the shard remembers finished ones. */
  latePastMemory: number;
  /** Ticks the quiet phase took until nothing moved. */
  quietTicks: number;
}

/** The shard's log as Multi-Paxos runs it, seen by every replica alike. */
interface Log {
  sm: KvStateMachine;
  /** The current leader's proposals, not chosen yet, in the order proposed. */
  pending: Command[];
  leader: string | undefined;
  caughtUpAt: number;
  now: number;
}

function fakeGroup(self: string, log: Log): GroupReplica {
  const propose = (c: Command): boolean => {
    if (log.leader !== self) return false;
    log.pending.push(c);
    return true;
  };
  const group = {
    sm: log.sm,
    isLeader: () => log.leader === self,
    leaderCaughtUp: () => log.leader === self && log.now >= log.caughtUpAt,
    leaderHint: () => log.leader,
    proposePrepare: (txn: string, ops: TxnOp[]) => propose({ k: 'prepare', txn, ops }),
    proposeOutcome: (txn: string, outcome: 'commit' | 'abort', records?: unknown[], tag?: string) => {
      const c: Extract<Command, { k: 'commit' | 'abort' }> = records === undefined ? { k: outcome, txn } : { k: outcome, txn, pc: records };
      if (tag !== undefined) c.tag = tag;
      return propose(c);
    },
    proposeRecord: (txn: string, record: unknown) => propose({ k: 'pc', txn, record }),
  };
  return group as unknown as GroupReplica;
}

export function runSeed(seed: number, options: SeedOptions = {}): SeedResult {
  const prng = new Prng(`participant-random:${seed}`);
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < 20) problems.push(p);
  };
  const finishedTxns = 1 + prng.int(8);
  const log: Log = {
    sm: new KvStateMachine({ seenRequests: 8, finishedTxns, begunRequests: 8, routedRequests: 8 }),
    pending: [],
    leader: 'a',
    caughtUpAt: 0,
    now: 0,
  };
  const trace = (what: () => string, txn: string | undefined): void => {
    if (options.trace !== undefined && (txn === undefined || txn === options.trace.txn))
      options.trace.log(`t${log.now} leader ${log.leader ?? '-'}: ${what()}`);
  };
  const groups = new Map(SERVERS.map((s) => [s, fakeGroup(s, log)]));
  const parts = new Map(
    SERVERS.map((s) => [
      s,
      new Participants({
        self: s,
        incarnation: `${s}-life`,
        commit: '2pc',
        acceptors: [],
        groupOf: () => SERVERS,
        groups: new Map([[SHARD, groups.get(s)!]]),
        down: new Set(),
        ...(options.forgetPrepared === true ? { forgetPrepared: true } : {}),
      }),
    ]),
  );
  const coordinator = new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: 60 + prng.int(90), commitRetryTicks: 20 });
  const xVotes = new Map<string, boolean>();
  const xYes = 0.5 + prng.next() * 0.5;

  const result: SeedResult = { problems, txns: 0, committed: 0, aborted: 0, leaderChanges: 0, inDoubtChanges: 0, lost: 0, latePastMemory: 0, quietTicks: 0 };
  const ops = new Map<string, TxnOp[]>();
  const coordOutcome = new Map<string, 'commit' | 'abort'>();
  /** Outcome of a transaction the shard finished while it was prepared there. */
  const shardOutcome = new Map<string, 'commit' | 'abort'>();
  /** Per transaction finished at the shard (any finish), how many had finished before it. */
  const finishedAt = new Map<string, number>();
  let inflight: Msg[] = [];
  const history: Msg[] = [];
  const latePrepares: Msg[] = [];
  let quiet = false;

  const send = (m: Msg): void => {
    inflight.push(m);
    if (history.length < 2_000) history.push(m);
    if (m.to === 'server' && m.wire.m.type === 'prepare' && latePrepares.length < 500) latePrepares.push(m);
  };
  const toShard = (m: TwoPcMessage, from: string): void => {
    const server = log.leader !== undefined && prng.chance(0.85) ? log.leader : prng.pick(SERVERS);
    send({ to: 'server', server, wire: { type: 'tx', s: SHARD, m: m as ParticipantWire['m'] }, from });
  };

  const flushCoordinator = (): void => {
    if (!coordinator.hasReady()) return;
    const r = coordinator.ready();
    for (const d of r.decisions) {
      const before = coordOutcome.get(d.txn);
      if (before !== undefined && before !== d.kind) problem(`coordinator decided ${d.kind} of ${d.txn} after ${before}`);
      coordOutcome.set(d.txn, d.kind);
      if (d.kind === 'abort' && shardOutcome.get(d.txn) === 'commit') problem(`coordinator aborted ${d.txn}, which the shard committed`);
    }
    for (const { to, msg } of r.messages) {
      if (to === SHARD_ADDRESS) toShard(msg, 'c');
      else send({ to: 'x', m: msg });
    }
  };

  const carryOut = (server: string, effects: ParticipantEffect[], from: string): void => {
    for (const e of effects) {
      if (e.kind === 'send') {
        const reply = e.msg as ParticipantReply;
        trace(() => `${server} sends ${JSON.stringify(reply)}`, (reply.m as { txn?: string }).txn);
        if (e.to !== 'c') {
          problem(`participant sent to ${e.to}`);
          continue;
        }
        send({ to: 'c', from: SHARD_ADDRESS, m: reply.m as TwoPcMessage });
        for (const more of reply.more ?? []) send({ to: 'c', from: SHARD_ADDRESS, m: more.m as TwoPcMessage });
      } else if (e.kind === 'drain') {
        trace(() => `${server} drains: pending ${JSON.stringify(log.pending)}`, undefined);
      } else if (e.kind === 'forward') {
        send({ to: 'server', server: e.to, wire: e.msg as ParticipantWire, from: e.from ?? from });
      }
      // 'drain': the proposals are in the log's pending list already; 'reply': no reads queries here.
    }
  };

  /** Commands chosen (in order): applied, their outputs handed to every server's participant. */
  const apply = (commands: Command[]): void => {
    if (commands.length === 0) return;
    const outputs: GroupOutput[] = [];
    for (const c of commands) {
      trace(() => `chosen ${JSON.stringify(c)}`, 'txn' in c ? c.txn : undefined);
      const txn = c.k === 'prepare' || c.k === 'commit' || c.k === 'abort' ? c.txn : undefined;
      const wasOpen = txn !== undefined && log.sm.openTransactions().includes(txn);
      const completions: Completion[] = log.sm.apply(c);
      for (const comp of completions) {
        if ('vote' in comp) {
          if (comp.vote && finishedAt.has(comp.txn)) problem(`the shard prepared ${comp.txn} again (voted yes) after it finished there`);
          outputs.push(
            comp.reason === undefined
              ? { kind: 'vote', txn: comp.txn, vote: comp.vote }
              : { kind: 'vote', txn: comp.txn, vote: comp.vote, reason: comp.reason },
          );
        } else if ('done' in comp) {
          if (comp.txn === txn) {
            if (!finishedAt.has(comp.txn)) finishedAt.set(comp.txn, finishedAt.size);
            if (wasOpen) {
              const before = shardOutcome.get(comp.txn);
              if (before !== undefined) problem(`the shard finished ${comp.txn} twice (${before}, then ${comp.done})`);
              shardOutcome.set(comp.txn, comp.done);
              if (comp.done === 'commit' && coordOutcome.get(comp.txn) !== 'commit')
                problem(`the shard committed ${comp.txn}, which the coordinator has not committed`);
            }
          }
          outputs.push({ kind: 'txn-done', txn: comp.txn, outcome: comp.done });
        }
      }
      outputs.push({ kind: 'applied', index: log.sm.applied, command: c });
    }
    for (const s of SERVERS) {
      const p = parts.get(s)!;
      for (const out of outputs) {
        if (out.kind === 'applied' && !(out.command.k === 'pc' || ((out.command.k === 'commit' || out.command.k === 'abort') && out.command.tag !== undefined)))
          continue;
        carryOut(s, p.onGroupOutput(SHARD, out), s);
      }
      carryOut(s, p.afterOutputs(SHARD), s);
    }
  };

  const deliver = (m: Msg): void => {
    trace(() => `deliver ${JSON.stringify(m)}`, m.to === 'server' ? m.wire.m.txn : m.m.txn);
    if (m.to === 'c') {
      coordinator.step(m.from, m.m);
      flushCoordinator();
    } else if (m.to === 'x') {
      if (m.m.type === 'prepare') {
        let yes = xVotes.get(m.m.txn);
        if (yes === undefined) xVotes.set(m.m.txn, (yes = prng.chance(xYes)));
        send({ to: 'c', from: 'x', m: { type: 'vote', txn: m.m.txn, yes } });
      } else if (m.m.type === 'commit') send({ to: 'c', from: 'x', m: { type: 'ack', txn: m.m.txn } });
    } else {
      const txn = m.wire.m.txn;
      if (m.wire.m.type === 'prepare' && log.leader === m.server && finishedAt.has(txn) && finishedAt.size - finishedAt.get(txn)! > finishedTxns)
        result.latePastMemory++;
      carryOut(m.server, parts.get(m.server)!.receive(m.wire, m.from), m.from);
    }
  };

  let electionEnds = -1;
  let nextLeader = 'a';
  let lastLeader = 'a';
  const changeLeader = (): void => {
    nextLeader = prng.pick(SERVERS);
    if (nextLeader === log.leader && prng.chance(0.5)) {
      // Re-elected at once at a higher ballot: its own acceptor accepted its proposals, so its
      // phase 1 finds them and they are all chosen in the end (none is lost; nothing changes here).
      return;
    }
    const open = new Set(log.sm.openTransactions());
    if ([...log.sm.pc.keys()].some((t) => open.has(t))) result.inDoubtChanges++;
    const chosen: Command[] = [];
    for (const c of log.pending) {
      if (prng.chance(0.5)) chosen.push(c);
      else result.lost++;
    }
    trace(() => `leader change: chosen ${chosen.length}, lost ${log.pending.length - chosen.length}`, undefined);
    log.pending = [];
    if (nextLeader !== log.leader && prng.chance(0.5)) {
      log.leader = nextLeader;
      log.caughtUpAt = log.now + prng.int(4);
      if (lastLeader !== nextLeader) result.leaderChanges++;
    } else {
      log.leader = undefined;
      electionEnds = log.now + 1 + prng.int(5);
    }
    apply(chosen);
  };

  const tick = (): void => {
    coordinator.tick();
    flushCoordinator();
    for (const s of SERVERS) {
      const p = parts.get(s)!;
      for (const h of p.takeHeld()) carryOut(s, p.receive(h.wire, h.from, h.ticks), h.from);
      carryOut(s, p.tickShard(SHARD), s);
    }
  };

  const txnCount = 10 + prng.int(15);
  const leaderChangeP = 0.01 + prng.next() * 0.03;
  const dropP = prng.next() * 0.25;
  const copyP = prng.next() * 0.15;
  const lateP = prng.next() * 0.2;
  let begun = 0;
  try {
    for (let t = 0; t < ACTIVE_TICKS + QUIET_TICKS; t++) {
      log.now = t;
      quiet = t >= ACTIVE_TICKS;
      if (log.leader === undefined && t >= electionEnds) {
        log.leader = nextLeader;
        log.caughtUpAt = t + prng.int(4);
        if (nextLeader !== lastLeader) result.leaderChanges++;
      }
      if (log.leader !== undefined) lastLeader = log.leader;
      if (!quiet) {
        if (begun < txnCount && prng.chance(txnCount / 400)) {
          const txn = `r1:i1:${begun++}`;
          const keys = KEYS.filter(() => prng.chance(0.5));
          if (keys.length === 0) keys.push(prng.pick(KEYS));
          const txnOps: TxnOp[] = keys.map((key) => ({ op: 'append', key, value: txn }));
          ops.set(txn, txnOps);
          coordinator.begin(txn, [
            { to: SHARD_ADDRESS, payload: txnOps },
            { to: 'x', payload: null },
          ]);
          flushCoordinator();
        }
        if (prng.chance(leaderChangeP)) changeLeader();
        if (log.pending.length > 0 && prng.chance(0.5)) apply(log.pending.splice(0, 1 + prng.int(3)));
        for (let i = prng.int(6); i > 0 && inflight.length > 0; i--) {
          const m = inflight.splice(prng.int(inflight.length), 1)[0]!;
          if (prng.chance(copyP)) inflight.push(m);
          if (prng.chance(dropP)) continue;
          deliver(m);
        }
        if (prng.chance(lateP) && history.length > 0) deliver(latePrepares.length > 0 && prng.chance(0.5) ? prng.pick(latePrepares) : prng.pick(history));
      } else {
        while (log.pending.length > 0) apply(log.pending.splice(0, log.pending.length));
        const now = inflight;
        inflight = [];
        for (const m of now) deliver(m);
        while (log.pending.length > 0) apply(log.pending.splice(0, log.pending.length));
        if (
          inflight.length === 0 &&
          log.pending.length === 0 &&
          !log.sm.hasOpenTransactions() &&
          coordinator.active().length === 0 &&
          log.leader !== undefined &&
          parts.get(log.leader)!.ticksUntilDue() > 1
        ) {
          result.quietTicks = t - ACTIVE_TICKS;
          break;
        }
      }
      tick();
    }
  } catch (error) {
    problem(`threw: ${(error as Error).message}`);
    return { ...result, txns: begun };
  }
  result.txns = begun;

  // Once quiet.
  for (const txn of log.sm.openTransactions())
    problem(`${txn} is still prepared at the shard (its keys locked) once quiet (coordinator: ${coordOutcome.get(txn) ?? 'no outcome'})`);
  for (const { txn, phase } of coordinator.active()) problem(`the coordinator still waits on ${txn} (${phase}) once quiet`);
  for (const [txn, txnOps] of ops) {
    const c = coordOutcome.get(txn);
    const s = shardOutcome.get(txn);
    if (c === 'commit') result.committed++;
    else result.aborted++;
    if (c === 'commit' && s !== 'commit') problem(`${txn} committed at the coordinator, ${s ?? 'not finished'} at the shard`);
    if (c !== 'commit' && s === 'commit') problem(`${txn} committed at the shard, ${c ?? 'not decided'} at the coordinator`);
    for (const op of txnOps) {
      const list = log.sm.data.get(op.key);
      const n = Array.isArray(list) ? list.filter((v) => v === txn).length : 0;
      const want = c === 'commit' ? 1 : 0;
      if (n !== want) problem(`${txn} (${c ?? 'no outcome'}) is in ${op.key} ${n} times, not ${want}`);
    }
  }
  return result;
}
