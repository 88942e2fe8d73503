/**
 * One seed of the hybrid-replication learner (src/replication/learner.ts: LearnerFeed at the home
 * replicas, LearnerReplica in the other regions) fed over a network that loses, copies, reorders
 * and replays its messages (test/learner-random.part.ts runs it; test/helpers/core-mutant.ts runs
 * it on a scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * Per seed: one shard whose group is three home replicas (h0-h2), each with its own LearnerFeed as
 * in src/cluster/server.ts, and two learners (l1, l2; LearnerReplica, memory only). Memory bounds
 * of the state machines are the defaults, or (a third of the seeds) 2-6 remembered request ids and
 * finished transactions; one seed in 16 or so has long logs (proposals of 20-50 commands at once:
 * a learner far behind is fed a snapshot, its commands taking more bytes than the small state
 * they lead to; several batches of LEARN_BATCH_MAX until session 65). Per seed, how often the
 * network loses a message (0-30%) and copies one (0-15%), and how often old messages come again.
 * What a run does, in random order:
 * - the chosen log grows by the leader's proposals, as a hybrid primary's reigns: a barrier effect
 *   (seq 0) at each election, then effects of puts, deletes and cas computed on the state the log
 *   leads to (a copy of an earlier request gets its first answer), ops on keys a transaction
 *   locks, prepares, commits and aborts of transactions (chained by term and seq), no-ops;
 * - every replica applies the chosen log at its own pace, and one that believes it leads records
 *   each command it applies in its feed (server.ts onOutput 'applied'); replicas take snapshots,
 *   install a newer snapshot of another replica (a lagging follower, or a leader at election:
 *   multipaxos.ts becomeLeader), crash and restart from their last snapshot with a new, empty
 *   feed (a feed is memory only) and not leading;
 * - leaders change: the new one believes it leads at once (group.isLeader(), before it caught up
 *   with the log), and the old one may go on believing it for a while (a stale leader, feeding
 *   what it applied);
 * - a believing leader's tick: first, now and then, ticks that only count (`advance`, fewer than
 *   `ticksUntilDue`, as the server's lazy ticks), then `tick` with its applied index and state
 *   machine, whose messages go out, and `lagChanges`, as server.ts onTick;
 * - the network delivers any message in flight (learns to learners, acknowledgements back to the
 *   replica that sent the learn, whatever incarnation is there now, as ctx.reply does); it loses
 *   some, copies some, and any message sent earlier may come again at any later step; messages
 *   to a node that is down are lost; a message is copied when sent (structuredClone), as a wire would;
 * - learners crash (messages to them are lost while down) and restart empty, as server.ts init
 *   builds them (a learner keeps no log).
 * Then a quiet phase: every node up, one leader (the others no longer believe), caught up with the
 * log; no losses, copies or new late messages; it ticks and everything in flight is delivered,
 * for at most QUIET_TICKS ticks. In half the seeds, once all is caught up, a learner then
 * restarts while the shard is idle (nothing new to feed it: test/bug-hybrid.test.ts), and a
 * second quiet phase follows.
 *
 * Checked, against the states the chosen log leads to (a reference state machine applying it in
 * order; states compared as whole snapshots, data, remembered requests, locks, transactions):
 * - after each message a learner receives, the index it acknowledges is its state machine's,
 *   at most the log's length, and its state is exactly the state after that prefix of the log
 *   (what a local read there would show: never a state the group never had);
 * - a learner's index never goes back, except to 0 (its empty initial state) when it restarts;
 * - a snapshot a home replica sends is the state of the log at its index (the model's own check);
 * - after each quiet phase every learner has applied the whole log (its state the group's last)
 *   and the leader's feed reports a lag of 0 for each.
 *
 * - after each quiet phase the servers' lag counters (`level:lag:<region>`, what
 *   cluster.replicationLag() and the gauge meridian_replication_lag_commands add up) sum to 0:
 *   a replica that stops leading withdraws what it reported (server.ts onTick), and a restarted
 *   one starts them from 0 (they are levels of an incarnation, src/runtime/stats.ts). Until
 *   2026-12-02 neither was so, and the sum kept an old leader's last lag in all of seeds 1-200.
 */
import { Prng } from '../../src/core/prng.js';
import { MEMORY_LIMITS_DEFAULT, type MemoryLimits } from '../../src/core/limits.js';
import { LEARN_BATCH_MAX, LearnerFeed, LearnerReplica, type LearnMessage } from '../../src/replication/learner.js';
import { executeOn, KvStateMachine, type Command, type Snapshot } from '../../src/replication/state-machine.js';
import type { RequestBody, TxnOp } from '../../src/replication/ops.js';

type Learn = Extract<LearnMessage, { type: 'learn' }>;

const SHARD = 0;
const HOMES = ['h0', 'h1', 'h2'];
const LEARNERS = ['l1', 'l2'];
const KEYS = ['a', 'b', 'c', 'd'];
const STEPS = 700;
/** Ticks of the quiet phase at most: five resend periods (LEARN_RESEND_TICKS, 20; seeds 1-3,000 need 19 at most). */
const QUIET_TICKS = 100;
/** Messages sent that may come again later (the newest). */
const HISTORY_MAX = 400;

export interface LearnerSeedOptions {
  /** The broken variant `learner-out-of-order` (LearnerReplica's unsafeOutOfOrder). */
  unsafeOutOfOrder?: boolean;
}

export interface SeedResult {
  problems: string[];
  /** Commands in the chosen log at the end. */
  commands: number;
  /** Learns of LEARN_BATCH_MAX entries (a learner far behind, fed in several). */
  fullBatches: number;
  /**
   * Learns received whose snapshot took the learner more than LEARN_BATCH_MAX commands ahead (a
   * learner far behind fed a snapshot: behind the feed's window, or its commands took more bytes
   * than the state, see LearnerFeed.snapshotSmaller).
   */
  farSnapshots: number;
  /** Learns received whose snapshot was newer than the learner's state (installed by a correct learner). */
  snapshots: number;
  /** Learns received whose first new entry lay past the learner's next index (a gap: earlier ones lost or late). */
  gaps: number;
  /** Learns received whose entries the learner had applied already (copies, late or resent). */
  duplicates: number;
  /** Learns delivered again from the history (late copies). */
  late: number;
  leaderChanges: number;
  learnerRestarts: number;
  replicaRestarts: number;
  /** Snapshots installed by home replicas (lagging followers, leaders at election). */
  homeInstalls: number;
  /** Learners restarted once everything was caught up, with nothing new to feed them. */
  idleRestarts: number;
  /** Ticks the longest quiet phase took to catch the learners up. */
  quietTicks: number;
  /** After the quiet phase (every learner caught up), the lag the servers' counters add up to. */
  gaugeLag: number;
}

class Stop extends Error {}

/** A state machine's state as text, to compare (a put's undefined answer in `seen` shows as null: no answer is null). */
function show(snapshot: Snapshot): string {
  return JSON.stringify(snapshot);
}

interface Home {
  id: string;
  up: boolean;
  sm: KvStateMachine;
  feed: LearnerFeed;
  /** Believes it leads (core.isLeader()): it records what it applies and ticks its feed. */
  believes: boolean;
  /** Its last snapshot (durable: what it restarts from). */
  snap: Snapshot | undefined;
  /** Its `lag:<learner>` counters (ctx.count; the runtime keeps them across restarts). */
  gauge: Map<string, number>;
}

interface LearnerNode {
  id: string;
  up: boolean;
  replica: LearnerReplica;
  /** The index it acknowledged last (0 after a restart). */
  last: number;
}

type Wire = { to: string; from: string; learn: Learn } | { to: string; from: string; ack: number };

export function runSeed(seed: number, options: LearnerSeedOptions = {}): SeedResult {
  const prng = new Prng(`learner-random:${seed}`);
  // One seed in 16 or so: long logs (proposals of 20-50 commands at once), so a learner falls
  // far behind; their states kept small (it is fed a snapshot: see SeedResult.farSnapshots).
  const bulk = prng.chance(0.06);
  const small = bulk || prng.chance(1 / 3);
  const limits: Readonly<MemoryLimits> = small
    ? { ...MEMORY_LIMITS_DEFAULT, seenRequests: 2 + prng.int(5), finishedTxns: 2 + prng.int(5) }
    : MEMORY_LIMITS_DEFAULT;
  const loss = prng.pick([0, 0.05, 0.15, 0.3]);
  const copy = prng.pick([0, 0.05, 0.15]);
  const lateWeight = prng.pick([0, 1, 3, 6]);
  const result: SeedResult = {
    problems: [],
    commands: 0,
    fullBatches: 0,
    farSnapshots: 0,
    snapshots: 0,
    gaps: 0,
    duplicates: 0,
    late: 0,
    leaderChanges: 0,
    learnerRestarts: 0,
    replicaRestarts: 0,
    homeInstalls: 0,
    idleRestarts: 0,
    quietTicks: 0,
    gaugeLag: 0,
  };
  const problem = (p: string): never => {
    result.problems.push(p);
    throw new Stop(p);
  };

  // The chosen log and the state after each of its prefixes.
  const chosen: Command[] = [];
  const ref = new KvStateMachine(limits);
  const states: string[] = [show(ref.snapshot())];

  const homes: Home[] = HOMES.map((id) => ({
    id,
    up: true,
    sm: new KvStateMachine(limits),
    feed: new LearnerFeed(LEARNERS),
    believes: false,
    snap: undefined,
    gauge: new Map(),
  }));
  const learners: LearnerNode[] = LEARNERS.map((id) => ({ id, up: true, replica: new LearnerReplica(options.unsafeOutOfOrder === true, limits), last: 0 }));
  let leader = homes[0]!;
  leader.believes = true;

  // --- The primary's proposals (hybrid: effects, chained by term and seq). ---
  let round = 0;
  let term = '';
  let seq = 0;
  let localId = 0;
  let txnN = 0;
  const clientN = [0, 0, 0];
  const issued: string[] = [];
  const toAbort: string[] = [];
  const choose = (command: Command): void => {
    chosen.push(command);
    const before = ref.applied;
    ref.apply(command);
    if (ref.applied !== before + 1) problem(`reference: applying log ${chosen.length} moved its index to ${ref.applied}`);
    // A prepare that voted no: its coordinator aborts it later.
    if (command.k === 'prepare' && !ref.openTransactions().includes(command.txn) && !toAbort.includes(command.txn)) toAbort.push(command.txn);
    states.push(show(ref.snapshot()));
  };
  const elect = (h: Home): void => {
    round++;
    term = `${round}.${h.id}`;
    seq = 0;
    choose({ k: 'effect', id: `${h.id}#barrier${localId++}`, writes: [], result: null, term, seq: 0 });
  };
  const txnOps = (): TxnOp[] => {
    const ops: TxnOp[] = [];
    const n = 1 + prng.int(3);
    for (let i = 0; i < n; i++) {
      const key = prng.pick(KEYS);
      switch (prng.int(5)) {
        case 0:
          ops.push({ op: 'put', key, value: prng.int(100) });
          break;
        case 1:
          ops.push({ op: 'append', key, value: prng.int(100) });
          break;
        case 2:
          ops.push({ op: 'get', key });
          break;
        case 3:
          ops.push({ op: 'check', key, value: ref.data.get(key) });
          break;
        default:
          ops.push({ op: 'delete', key });
      }
    }
    return ops;
  };
  const proposeOne = (): void => {
    const r = prng.next();
    const open = ref.openTransactions();
    if (r < 0.06) return choose({ k: 'noop' });
    if (r < 0.16 && open.length < 2) return choose({ k: 'prepare', txn: `r1:i1:${++txnN}`, ops: txnOps(), term, seq: ++seq });
    if (r < 0.26 && open.length > 0) {
      const txn = prng.pick(open);
      return choose({ k: prng.chance(0.6) ? 'commit' : 'abort', txn, term, seq: ++seq });
    }
    if (r < 0.3 && toAbort.length > 0) return choose({ k: 'abort', txn: toAbort.shift()!, term, seq: ++seq });
    // A client request: new, or a copy of an earlier one (a retry, a network copy).
    let rq: string;
    if (issued.length > 0 && prng.chance(0.12)) rq = prng.pick(issued);
    else {
      const c = prng.int(clientN.length);
      rq = `c${c}:${++clientN[c]!}`;
      issued.push(rq);
    }
    const key = prng.pick(KEYS);
    const kind = prng.int(4);
    const body: RequestBody =
      kind === 0
        ? { op: 'delete', key, rq }
        : kind === 1
          ? { op: 'cas', key, expected: prng.chance(0.5) ? ref.data.get(key) : prng.int(100), value: prng.int(100), rq }
          : { op: 'put', key, value: prng.chance(0.2) ? [prng.int(100)] : prng.int(100), rq };
    const id = `${leader.id}#${localId++}`;
    // On a key a prepared transaction holds the primary proposes the op itself (it waits there).
    if (ref.isLocked(key)) return choose({ k: 'op', id, body, term, seq: ++seq });
    const earlier = ref.seen(rq);
    if (earlier === 'forgotten') return; // Answered 'forgotten', nothing proposed.
    if (earlier !== undefined) return choose({ k: 'effect', id, writes: [], result: earlier.value, term, seq: ++seq, rq });
    const run = executeOn(ref.data, body);
    if (!run.ok) return;
    choose({ k: 'effect', id, writes: run.writes, result: run.value, term, seq: ++seq, rq });
  };

  // --- The network. ---
  const inflight: Wire[] = [];
  const history: Wire[] = [];
  // A message is copied once, when sent (as a wire encodes it): the learner shares nothing with
  // the replica that sent it. (Its copies and late deliveries share that copy.)
  const send = (w: Wire): void => {
    const copied = structuredClone(w);
    inflight.push(copied);
    history.push(copied);
    if (history.length > HISTORY_MAX) history.shift();
  };
  const deliver = (wire: Wire): void => {
    if ('ack' in wire) {
      const h = homes.find((x) => x.id === wire.to)!;
      // server.ts: an acknowledgement reaches the feed whether or not the replica leads.
      if (h.up) h.feed.ack(wire.from, wire.ack);
      return;
    }
    const l = learners.find((x) => x.id === wire.to)!;
    if (!l.up) return;
    receive(l, wire.learn, wire.from);
  };
  const receive = (l: LearnerNode, msg: Learn, from: string): void => {
    const before = l.replica.sm.applied;
    if (msg.entries.length === LEARN_BATCH_MAX) result.fullBatches++;
    let next = before;
    if (msg.snapshot !== null && msg.snapshot.applied > before) {
      result.snapshots++;
      if (msg.snapshot.applied - before > LEARN_BATCH_MAX) result.farSnapshots++;
      next = msg.snapshot.applied;
    }
    const fresh = msg.entries.filter(([index]) => index > next);
    if (msg.entries.length > 0 && fresh.length < msg.entries.length) result.duplicates++;
    if (fresh.length > 0 && fresh[0]![0] > next + 1) result.gaps++;
    const acked = l.replica.receive(msg);
    const applied = l.replica.sm.applied;
    const at = `${l.id} after a learn from ${from} (entries ${msg.entries.length > 0 ? `${msg.entries[0]![0]}-${msg.entries[msg.entries.length - 1]![0]}` : 'none'}${msg.snapshot === null ? '' : `, snapshot at ${msg.snapshot.applied}`}; it was at ${before}, log length ${chosen.length})`;
    if (acked !== applied) problem(`${at}: acknowledges ${acked}, its state machine is at ${applied}`);
    if (applied > chosen.length) problem(`${at}: at ${applied}, past the chosen log`);
    if (applied < l.last) problem(`${at}: went back from ${l.last} to ${applied} without a restart`);
    if (show(l.replica.sm.snapshot()) !== states[applied])
      problem(`${at}: its state is not the group's state after ${applied} commands (a state the group never had)`);
    l.last = applied;
    send({ to: from, from: l.id, ack: acked });
  };

  // --- The home replicas. ---
  const applyAt = (h: Home, n: number): void => {
    for (let i = 0; i < n && h.sm.applied < chosen.length; i++) {
      const index = h.sm.applied + 1;
      const command = chosen[index - 1]!;
      h.sm.apply(command);
      if (h.sm.applied !== index) problem(`${h.id}: applying log ${index} moved its index to ${h.sm.applied}`);
      if (h.believes) h.feed.record(index, command);
    }
  };
  const tickFeed = (h: Home, lazy: boolean): void => {
    if (lazy) {
      const due = h.feed.ticksUntilDue(h.sm.applied);
      if (due > 1) h.feed.advance(1 + prng.int(due - 1));
    }
    for (const m of h.feed.tick(SHARD, h.sm.applied, h.sm)) {
      if (m.msg.type !== 'learn') continue;
      if (m.msg.snapshot !== null && show(m.msg.snapshot) !== states[m.msg.snapshot.applied])
        problem(`${h.id}: sent a snapshot at ${m.msg.snapshot.applied} that is not the log's state there (the model's replicas diverged)`);
      send({ to: m.to, from: h.id, learn: m.msg });
    }
    for (const { learner, delta } of h.feed.lagChanges(h.sm.applied)) h.gauge.set(learner, (h.gauge.get(learner) ?? 0) + delta);
  };
  /** server.ts onTick for a replica that does not lead: it takes back the lag it reported. */
  const withdrawLag = (h: Home): void => {
    for (const { learner, delta } of h.feed.withdrawLag()) h.gauge.set(learner, (h.gauge.get(learner) ?? 0) + delta);
  };
  const restartHome = (h: Home): void => {
    h.up = true;
    // A new incarnation: its level counters start from 0.
    h.gauge = new Map();
    h.believes = false;
    h.feed = new LearnerFeed(LEARNERS);
    h.sm = new KvStateMachine(limits);
    if (h.snap !== undefined) h.sm.restore(structuredClone(h.snap));
    result.replicaRestarts++;
  };
  const install = (h: Home): void => {
    const newer = homes.filter((o) => o !== h && o.snap !== undefined && o.snap.applied > h.sm.applied);
    if (newer.length === 0) return;
    h.sm.restore(structuredClone(prng.pick(newer).snap!));
    result.homeInstalls++;
  };

  try {
    elect(leader);
    for (let step = 0; step < STEPS; step++) {
      const r = prng.next() * (100 + lateWeight);
      const upHomes = homes.filter((h) => h.up);
      if (r < 10) {
        if (leader.up && leader.believes) for (let n = bulk ? 20 + prng.int(31) : 1 + prng.int(3); n > 0; n--) proposeOne();
      } else if (r < 24) {
        const h = prng.chance(0.5) ? leader : prng.pick(homes);
        if (h.up) applyAt(h, 1 + prng.int(6));
      } else if (r < 38) {
        for (const h of homes) {
          if (h.up && h.believes) tickFeed(h, prng.chance(0.5));
          else if (h.up) withdrawLag(h);
        }
      } else if (r < 80) {
        if (inflight.length === 0) continue;
        const i = prng.chance(0.5) ? 0 : prng.int(inflight.length);
        const w = inflight[i]!;
        if (!prng.chance(copy)) inflight.splice(i, 1);
        if (!prng.chance(loss)) deliver(w);
      } else if (r < 84) {
        const h = prng.pick(upHomes.length > 0 ? upHomes : homes);
        if (h.up) h.snap = h.sm.snapshot();
      } else if (r < 86.5) {
        const h = prng.pick(homes);
        // A lagging follower, or a leader at its election (its promises' newest snapshot).
        if (h.up && (!h.believes || h === leader)) install(h);
      } else if (r < 88) {
        if (upHomes.length === 0) continue;
        const next = prng.pick(upHomes);
        result.leaderChanges++;
        // The old leader may go on believing it leads for a while (it has not heard of the new one).
        if (leader !== next && prng.chance(0.5)) leader.believes = false;
        leader = next;
        leader.believes = true;
        if (prng.chance(0.3)) install(leader);
        elect(leader);
      } else if (r < 90) {
        for (const h of homes) if (h !== leader && h.believes && prng.chance(0.5)) h.believes = false;
      } else if (r < 91) {
        const h = prng.pick(homes);
        h.up = false;
        h.believes = false;
      } else if (r < 94) {
        const h = prng.pick(homes);
        if (!h.up) restartHome(h);
      } else if (r < 95) {
        const l = prng.pick(learners);
        if (prng.chance(0.5)) l.up = false;
        else {
          l.replica = new LearnerReplica(options.unsafeOutOfOrder === true, limits);
          l.last = 0;
          result.learnerRestarts++;
        }
      } else if (r < 100) {
        const l = prng.pick(learners);
        if (!l.up) {
          l.up = true;
          l.replica = new LearnerReplica(options.unsafeOutOfOrder === true, limits);
          l.last = 0;
          result.learnerRestarts++;
        }
      } else if (history.length > 0) {
        result.late++;
        deliver(prng.pick(history));
      }
    }

    // --- Quiet: every node up, one leader caught up, every message delivered. ---
    for (const h of homes) if (!h.up) restartHome(h);
    for (const l of learners) {
      if (l.up) continue;
      l.up = true;
      l.replica = new LearnerReplica(options.unsafeOutOfOrder === true, limits);
      l.last = 0;
      result.learnerRestarts++;
    }
    if (!leader.believes) {
      result.leaderChanges++;
      leader.believes = true;
      elect(leader);
    }
    for (const h of homes) if (h !== leader) h.believes = false;
    applyAt(leader, chosen.length);
    const caughtUp = (): boolean =>
      learners.every((l) => l.replica.sm.applied === chosen.length) && [...leader.feed.lags(leader.sm.applied).values()].every((lag) => lag === 0);
    const quiet = (what: string): void => {
      for (let ticks = 0; ticks < QUIET_TICKS && !caughtUp(); ticks++) {
        tickFeed(leader, prng.chance(0.5));
        for (const h of homes) if (h !== leader) withdrawLag(h);
        while (inflight.length > 0) deliver(inflight.shift()!);
        result.quietTicks = Math.max(result.quietTicks, ticks + 1);
      }
      if (caughtUp()) return;
      const at = learners.map((l) => `${l.id} at ${l.replica.sm.applied}`).join(', ');
      const lags = [...leader.feed.lags(leader.sm.applied)].map(([l, lag]) => `${l} ${lag}`).join(', ');
      problem(
        `${what}: after ${QUIET_TICKS} quiet ticks the learners are not caught up with the log of ${chosen.length} commands: ${at} (leader ${leader.id}'s feed reports lags ${lags})`,
      );
    };
    quiet('quiet phase');
    // cluster.replicationLag() sums every server's counters: what it reports at the next tick.
    for (const { learner, delta } of leader.feed.lagChanges(leader.sm.applied)) leader.gauge.set(learner, (leader.gauge.get(learner) ?? 0) + delta);
    for (const h of homes) if (h !== leader) withdrawLag(h);
    result.gaugeLag = homes.reduce((n, h) => n + [...h.gauge.values()].reduce((a, b) => a + b, 0), 0);
    if (result.gaugeLag !== 0)
      problem(`quiet phase: every learner caught up, but the servers' lag counters add up to ${result.gaugeLag} (cluster.replicationLag() would report it)`);
    // Now and then, once all is caught up, a learner crashes while the shard is idle (nothing
    // new to feed it): it must be found and fed again all the same.
    if (prng.chance(0.5)) {
      const l = prng.pick(learners);
      l.replica = new LearnerReplica(options.unsafeOutOfOrder === true, limits);
      l.last = 0;
      result.learnerRestarts++;
      result.idleRestarts++;
      quiet(`${l.id} restarted while the shard was idle`);
    }
  } catch (error) {
    if (!(error instanceof Stop)) result.problems.push(`threw: ${(error as Error).message}`);
  }
  result.commands = chosen.length;
  return result;
}
