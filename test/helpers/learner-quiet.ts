/**
 * One seed of a hybrid shard's leader feeding its learners (src/replication/learner.ts: the
 * leader's LearnerFeed, a LearnerReplica per learner) where the feed's last messages are lost
 * just as the shard goes quiet (test/learner-quiet.part.ts runs it; test/helpers/core-mutant.ts
 * runs it on a scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * Where test/helpers/learner-random.ts spreads its faults over leader changes, restarts and
 * snapshots, this model aims at one situation: a learner left behind by a lost `learn` (or a
 * lost acknowledgement, or learns reordered so that it skipped a batch) while no new command
 * comes that would make the leader send again. Only the feed's own resending can catch it up.
 *
 * Per seed: one leader (a KvStateMachine applying a chosen log of puts, deletes and cas with
 * values unique to their command) and one to three learners. The leader may have applied a
 * prefix of the log before it began to lead (its feed's window starts after it: learners behind
 * it are fed a snapshot). Per seed, how often the network loses a learn (15-60%) or an
 * acknowledgement (0-40%), copies a message (0-10%), and whether it delivers in order. Then
 * three to six rounds of:
 * - a noisy stretch: the leader applies bursts of commands, recording each in its feed; its
 *   tick (now and then after ticks that only count, `advance` below `ticksUntilDue`, as the
 *   server's lazy ticks) sends learns; the network delivers, loses, copies, reorders them and
 *   the acknowledgements, and now and then delivers an old message again (late); a learner
 *   restarts empty now and then (it keeps no log);
 * - the shard goes quiet: often a last burst of commands whose learns are lost (to some or all
 *   learners), often a partition that loses everything in flight, then no command at all;
 * - a fair stretch: no losses, copies or late messages; the leader ticks and everything in
 *   flight is delivered (in any order) after each tick, for at most QUIET_TICKS ticks (counting
 *   those that only count).
 *
 * Checked, against the states the chosen log leads to (a reference state machine applying it in
 * order; states compared as whole snapshots):
 * - after each learn a learner receives, the index it acknowledges is its state machine's, at
 *   most the leader's, and its state is exactly the log's state after that many commands; its
 *   index goes back only when it restarts (to 0);
 * - a snapshot the leader sends is the log's state at its index;
 * - within QUIET_TICKS ticks of a fair stretch every learner has applied all the leader has
 *   (its state the leader's) and the feed reports a lag of 0 for each.
 * Nothing checked depends on when the feed sends, only that it catches every learner up.
 */
import { Prng } from '../../src/core/prng.js';
import { LEARN_RESEND_TICKS, LearnerFeed, LearnerReplica, type LearnMessage } from '../../src/replication/learner.js';
import { KvStateMachine, type Command, type Snapshot } from '../../src/replication/state-machine.js';

type Learn = Extract<LearnMessage, { type: 'learn' }>;

const SHARD = 0;
const KEYS = ['a', 'b', 'c'];
/**
 * Ticks a fair stretch may take at most: three resend periods (LEARN_RESEND_TICKS, 20). A
 * learner left behind is sent again within one period of the last send; reordered batches may
 * take one more. (Seeds 1-5,000 and 100,000-104,999 need 22 at most, 2026-12-02.)
 */
export const QUIET_TICKS = 3 * LEARN_RESEND_TICKS;
/** Messages sent that may come again later (the newest). */
const HISTORY_MAX = 200;

export interface SeedResult {
  problems: string[];
  learners: number;
  commands: number;
  rounds: number;
  /**
   * Learners that, as a fair stretch began, were behind the leader with no learn to them in
   * flight: left behind by what was lost, only a resend can catch them up.
   */
  stranded: number;
  /** Learns lost by the network. */
  lostLearns: number;
  /** Learns received whose snapshot was newer than the learner's state. */
  snapshots: number;
  /** Learns received whose first new entry lay past the learner's next index. */
  gaps: number;
  learnerRestarts: number;
  /** Ticks the longest fair stretch took to catch the learners up. */
  quietTicks: number;
}

class Stop extends Error {}

function show(snapshot: Snapshot): string {
  return JSON.stringify(snapshot);
}

interface LearnerNode {
  id: string;
  replica: LearnerReplica;
  /** The index it acknowledged last (0 after a restart). */
  last: number;
}

type Wire = { to: string; learn: Learn } | { from: string; ack: number };

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`learner-quiet:${seed}`);
  const problems: string[] = [];
  const result: SeedResult = {
    problems,
    learners: 1 + prng.int(3),
    commands: 0,
    rounds: 3 + prng.int(4),
    stranded: 0,
    lostLearns: 0,
    snapshots: 0,
    gaps: 0,
    learnerRestarts: 0,
    quietTicks: 0,
  };
  const learnLoss = 0.15 + 0.45 * prng.next();
  const ackLoss = prng.chance(0.3) ? 0 : 0.4 * prng.next();
  const copy = prng.chance(0.5) ? 0 : 0.1 * prng.next();
  const inOrder = prng.chance(0.3);
  const lateShare = prng.chance(0.5) ? 0 : 0.05;
  const problem = (what: string): never => {
    problems.push(what);
    throw new Stop();
  };

  // --- The chosen log and the states it leads to. ---
  const reference = new KvStateMachine();
  /** states[i]: the state after i commands of the log. */
  const states: string[] = [show(reference.snapshot())];
  let nextValue = 0;
  const newCommand = (): Command => {
    const key = prng.pick(KEYS);
    const id = `x${nextValue}`;
    const value = `v${nextValue++}`;
    const roll = prng.next();
    if (roll < 0.15) return { k: 'op', id, body: { op: 'delete', key } };
    if (roll < 0.35) {
      const current = reference.data.get(key);
      return { k: 'op', id, body: { op: 'cas', key, expected: prng.chance(0.7) ? current : 'nothing', value } };
    }
    return { k: 'op', id, body: { op: 'put', key, value } };
  };

  const leader = new KvStateMachine();
  /** The leader applies the next command of the log (it is chosen as it applies: one leader). */
  let feed: LearnerFeed | undefined;
  const applyNext = (): void => {
    const command = newCommand();
    reference.apply(command);
    states.push(show(reference.snapshot()));
    leader.apply(structuredClone(command));
    if (leader.applied !== states.length - 1) problem(`the leader's index is ${leader.applied} after ${states.length - 1} commands`);
    feed?.record(leader.applied, structuredClone(command));
  };
  // A prefix applied before it led (as a follower): its feed's window starts after it.
  if (prng.chance(0.5)) for (let n = 1 + prng.int(30); n > 0; n--) applyNext();
  const learnerIds = Array.from({ length: result.learners }, (_, i) => `l${i + 1}`);
  feed = new LearnerFeed(learnerIds);
  const learners: LearnerNode[] = learnerIds.map((id) => ({ id, replica: new LearnerReplica(), last: 0 }));

  // --- The network. ---
  let inflight: Wire[] = [];
  const history: Wire[] = [];
  let fair = false;
  const send = (w: Wire): void => {
    const copyOf = structuredClone(w);
    inflight.push(copyOf);
    if (!fair) {
      history.push(copyOf);
      if (history.length > HISTORY_MAX) history.shift();
    }
  };
  const deliver = (w: Wire): void => {
    if ('ack' in w) {
      feed!.ack(w.from, w.ack);
      return;
    }
    const l = learners.find((x) => x.id === w.to)!;
    const msg = structuredClone(w.learn);
    const before = l.replica.sm.applied;
    if (msg.snapshot !== null && msg.snapshot.applied > before) result.snapshots++;
    const firstNew = msg.entries.find(([index]) => index > before);
    if (firstNew !== undefined && firstNew[0] > before + 1 && (msg.snapshot === null || msg.snapshot.applied <= before)) result.gaps++;
    const acked = l.replica.receive(msg);
    const applied = l.replica.sm.applied;
    const at = `${l.id} after a learn (entries ${msg.entries.length > 0 ? `${msg.entries[0]![0]}-${msg.entries[msg.entries.length - 1]![0]}` : 'none'}${msg.snapshot === null ? '' : `, snapshot at ${msg.snapshot.applied}`}; it was at ${before}, the leader at ${leader.applied})`;
    if (acked !== applied) problem(`${at}: acknowledges ${acked}, its state machine is at ${applied}`);
    if (applied > leader.applied) problem(`${at}: at ${applied}, past the leader`);
    if (applied < l.last) problem(`${at}: went back from ${l.last} to ${applied} without a restart`);
    if (show(l.replica.sm.snapshot()) !== states[applied]) problem(`${at}: its state is not the log's state after ${applied} commands`);
    l.last = applied;
    send({ from: l.id, ack: acked });
  };
  /** The network in a noisy stretch takes one message in flight: delivers, loses or copies it. */
  const noisyDeliver = (): void => {
    if (inflight.length === 0) return;
    const i = inOrder ? 0 : prng.int(inflight.length);
    const w = inflight[i]!;
    if (!prng.chance(copy)) inflight.splice(i, 1);
    if ('ack' in w ? prng.chance(ackLoss) : prng.chance(learnLoss)) {
      if (!('ack' in w)) result.lostLearns++;
      return;
    }
    deliver(w);
  };
  /** The leader's tick (server.ts onTick), after ticks that only count now and then; returns the ticks that passed. */
  const tick = (): number => {
    let passed = 1;
    if (prng.chance(0.5)) {
      const due = feed!.ticksUntilDue(leader.applied);
      if (due > 1) {
        const n = 1 + prng.int(due - 1);
        feed!.advance(n);
        passed += n;
      }
    }
    for (const m of feed!.tick(SHARD, leader.applied, leader)) {
      if (m.msg.type !== 'learn') continue;
      if (m.msg.snapshot !== null && show(m.msg.snapshot) !== states[m.msg.snapshot.applied])
        problem(`the leader sent ${m.to} a snapshot at ${m.msg.snapshot.applied} that is not the log's state there`);
      send({ to: m.to, learn: m.msg });
    }
    feed!.lagChanges(leader.applied);
    return passed;
  };
  const restartLearner = (l: LearnerNode): void => {
    l.replica = new LearnerReplica();
    l.last = 0;
    result.learnerRestarts++;
  };
  const caughtUp = (): boolean =>
    learners.every((l) => l.replica.sm.applied === leader.applied) && [...feed!.lags(leader.applied).values()].every((lag) => lag === 0);

  try {
    for (let round = 1; round <= result.rounds; round++) {
      fair = false;
      // --- Noisy. ---
      for (let steps = 20 + prng.int(60); steps > 0; steps--) {
        const r = prng.next() * (100 + lateShare * 100);
        if (r < 15) for (let n = 1 + prng.int(5); n > 0; n--) applyNext();
        else if (r < 45) tick();
        else if (r < 97) noisyDeliver();
        else if (r < 100) {
          if (prng.chance(0.5)) restartLearner(prng.pick(learners));
        } else if (history.length > 0) deliver(structuredClone(prng.pick(history)));
      }
      // --- The shard goes quiet: the last learns lost, or everything in flight. ---
      if (prng.chance(0.6)) {
        for (let n = 1 + prng.int(4); n > 0; n--) applyNext();
        const before = inflight.length;
        tick();
        const lose = learners.filter(() => prng.chance(0.6)).map((l) => l.id);
        const sent = inflight.splice(before);
        for (const w of sent) {
          if (!('ack' in w) && lose.includes(w.to)) result.lostLearns++;
          else inflight.push(w);
        }
      }
      if (prng.chance(0.5)) {
        result.lostLearns += inflight.filter((w) => !('ack' in w)).length;
        inflight = [];
      }
      // --- Fair: no new command; the leader ticks, everything in flight is delivered. ---
      fair = true;
      for (const l of learners) {
        if (l.replica.sm.applied < leader.applied && !inflight.some((w) => !('ack' in w) && w.to === l.id)) result.stranded++;
      }
      let ticks = 0;
      while (!caughtUp() && ticks < QUIET_TICKS) {
        ticks += tick();
        while (inflight.length > 0) deliver(inflight.splice(inOrder ? 0 : prng.int(inflight.length), 1)[0]!);
      }
      result.quietTicks = Math.max(result.quietTicks, ticks);
      if (!caughtUp()) {
        const at = learners.map((l) => `${l.id} at ${l.replica.sm.applied}`).join(', ');
        const lags = [...feed.lags(leader.applied)].map(([l, lag]) => `${l} ${lag}`).join(', ');
        problem(
          `round ${round}: after ${ticks} fair ticks with no new command (at most ${QUIET_TICKS}) the learners are not caught up with the leader at ${leader.applied}: ${at} (its feed reports lags ${lags})`,
        );
      }
      for (const l of learners) {
        if (show(l.replica.sm.snapshot()) !== show(leader.snapshot())) problem(`round ${round}: ${l.id} caught up, but its state is not the leader's`);
      }
    }
  } catch (error) {
    if (!(error instanceof Stop)) problems.push(`threw: ${(error as Error).message}`);
  }
  result.commands = leader.applied;
  return result;
}
