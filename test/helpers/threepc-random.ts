/**
 * One seed of the randomized 3PC test (test/threepc-random.part.ts), in a module of its own so
 * that the test can also run it from a scratch copy of dist/ with a mutant in it
 * (test/helpers/core-mutant.ts). Relative imports only, for that copy.
 *
 * The model is 3PC's own (see the header of src/protocols/threepc.ts), and no weaker:
 *   - Synchrony. Time is a global step; at the end of every step each live node ticks once.
 *     Every message is delivered, in any order, at a random step at most DELAY_MAX ticks after
 *     it was sent (a duplicate too, within the same bound: the header does not rule them out,
 *     and the cores take them). Every timeout is well above the longest silence a live node
 *     can cause under that bound (see the constants), so a node that times out on another is
 *     right: the other crashed.
 *   - Crash-stop. Any node may crash at any point, coordinator included, and never comes back.
 *     Each crash dooms another node to crash soon after (CASCADE_STEPS). A crash may come in
 *     the middle of an action: a random subset of the messages it sent never leaves (a
 *     broadcast cut short); its records stay, its decisions go (a host acts on decisions only
 *     once it has sent). Messages to a crashed node are lost with it; no other is lost.
 *   - No restarts, although participants force records and the constructor takes them back: the
 *     header promises safety only if a node that stops answering is gone for good. A participant
 *     that came back would find the others decided without it (they presumed it crashed), and a
 *     pre-committed one back after everyone else aborted and crashed would terminate alone and
 *     commit. No partitions either (split brain, scripted in protocols-threepc.part.ts).
 */
import { Prng } from '../../src/core/prng.js';
import { ThreePcCoordinator, ThreePcParticipant } from '../../src/protocols/threepc.js';
import type { ThreePcCoordinatorDecision, ThreePcMessage, ThreePcParticipantDecision, ThreePcRecord } from '../../src/protocols/threepc.js';
import { Net, roundTrip } from '../protocols-net.js';
import type { InFlight } from '../protocols-net.js';

type Node = ThreePcCoordinator | ThreePcParticipant;
type Dec = ThreePcCoordinatorDecision | ThreePcParticipantDecision;
type Msg = InFlight<ThreePcMessage>;

/** Every message is delivered at most this many ticks after it is sent. */
export const DELAY_MAX = 3;
/** The coordinator aborts if the votes are not all in after this many ticks (a round trip is at most 2 x DELAY_MAX = 6). */
export const VOTE_TIMEOUT = 10;
/** The coordinator commits anyway after this many ticks without every ack (> 6). */
export const ACK_TIMEOUT = 10;
/** A participant aborts if its host has not voted this many ticks after can-commit (hosts are late at times). */
export const HOST_VOTE_TIMEOUT = 8;
/** A termination coordinator waits this long for the reports, then for the acks (> 6). */
export const TERMINATION_TICKS = 10;
/**
 * A participant suspects whoever it waits on after this many silent ticks. The longest silence
 * a live coordinator leaves is VOTE_TIMEOUT + DELAY_MAX = 13 (vote to pre-commit or abort) or
 * ACK_TIMEOUT + DELAY_MAX = 13 (pre-commit to do-commit); a live termination coordinator,
 * 2 x TERMINATION_TICKS + DELAY_MAX = 23 (state request to the outcome); a candidate asked
 * for help answers within 2 x DELAY_MAX = 6. 40 leaves a wide margin above all of them.
 */
export const COORDINATOR_TIMEOUT = 40;
/** Steps with transactions and crashes, then at most FINAL_STEPS without crashes until nothing moves. */
export const STEPS = 160;
export const FINAL_STEPS = 600;
export const TXNS = 10;
/** Chance that a node crashes during an action that sends messages (the coordinator's are fewer, and the most telling). */
export const CRASH_COORDINATOR = 0.1;
export const CRASH_PARTICIPANT = 0.03;
/** Chance that a node crashes during an action that sends nothing (most are ticks). */
export const CRASH_IDLE = 0.0005;
/**
 * Each crash dooms another live node (if the seed's crash budget allows) to crash within this
 * many steps: 3PC's hard cases take two crashes, a coordinator's and then a participant's
 * before the others terminate (COORDINATOR_TIMEOUT later).
 */
export const CASCADE_STEPS = 20;

/** What a seed went through, so the test can show that the interesting paths ran. */
export interface Coverage {
  crashes: number;
  /** Crashes in the middle of an action that sent messages (some of them never left). */
  cutShort: number;
  /** Termination runs seen on the wire (distinct transaction and epoch of a state request to another node). */
  terminations: number;
  /** Those that pre-committed the uncertain participants before committing. */
  terminationPreCommits: number;
  duplicates: number;
}

/** One seed: what went wrong (empty: nothing), how many transactions committed, and what it went through. */
export function runSeed(seed: number): { problems: string[]; committed: number; coverage: Coverage } {
  const prng = new Prng(`threepc-random:${seed}`);
  const participants = Array.from({ length: 3 + prng.int(2) }, (_, i) => `p${i + 1}`);
  const nodes = ['c', ...participants];
  const problems: string[] = [];
  /** Each transaction's participants. */
  const cohorts = new Map<string, string[]>();
  /** `txn/p` for each participant asked to vote (its host got `prepare`), and for each no vote. */
  const asked = new Set<string>();
  const noVotes = new Set<string>();
  /** Votes the hosts will cast, each from its step on (a host takes a few steps, at times more than HOST_VOTE_TIMEOUT). */
  const votes: Array<{ id: string; txn: string; due: number; yes: boolean }> = [];
  let now = 0;
  const net = new Net<ThreePcMessage, ThreePcRecord, Dec, Node>({
    ids: nodes,
    make: (id, recovered) =>
      id === 'c'
        ? new ThreePcCoordinator({ self: 'c', voteTimeoutTicks: VOTE_TIMEOUT, ackTimeoutTicks: ACK_TIMEOUT })
        : new ThreePcParticipant(
            { self: id, voteTimeoutTicks: HOST_VOTE_TIMEOUT, coordinatorTimeoutTicks: COORDINATOR_TIMEOUT, terminationTicks: TERMINATION_TICKS },
            recovered,
          ),
    onDecision: (id, _core, d) => {
      if (d.kind !== 'prepare') return;
      asked.add(`${d.txn}/${id}`);
      votes.push({ id, txn: d.txn, due: now + (prng.chance(0.1) ? 6 + prng.int(9) : prng.int(3)), yes: prng.chance(0.85) });
    },
  });

  // Delivery window of each message in flight: from `due` on, by `deadline` at the latest.
  const windows = new WeakMap<Msg, { due: number; deadline: number }>();
  /** Gives each message that has none yet a delivery window; `ticking`: sent by a tick, after this step's deliveries. */
  const stamp = (ticking: boolean): void => {
    const from = ticking ? now + 1 : now;
    const deadline = now + DELAY_MAX;
    for (const m of net.queue) if (!windows.has(m)) windows.set(m, { due: from + prng.int(deadline - from + 1), deadline });
  };
  // The coordinator may crash; so may up to all participants but one (fewer, on most seeds).
  const participantCrashesMax = prng.int(participants.length);
  const coverage: Coverage = { crashes: 0, cutShort: 0, terminations: 0, terminationPreCommits: 0, duplicates: 0 };
  const runs = new Set<string>();
  const preCommitRuns = new Set<string>();
  let participantCrashes = 0;
  const doomed = new Map<string, number>();
  let faults = true;
  const mayCrash = (id: string): boolean => faults && !net.down.has(id) && (id === 'c' || participantCrashes < participantCrashesMax);
  /**
   * One action of node `id`; it may crash during it (before every message the action sent has
   * left: those that never leave are a random subset of them).
   */
  const act = (id: string, action: () => void, ticking = false): void => {
    const decided = net.events.length;
    action();
    const sent = net.queue.filter((m) => !windows.has(m));
    const due = doomed.get(id);
    const chance = sent.length === 0 ? CRASH_IDLE : id === 'c' ? CRASH_COORDINATOR : CRASH_PARTICIPANT;
    if (mayCrash(id) && ((due !== undefined && due <= now) || prng.chance(chance))) {
      coverage.crashes++;
      if (id !== 'c') participantCrashes++;
      net.crash(id);
      doomed.delete(id);
      const next = live(nodes).filter((x) => !doomed.has(x));
      if (next.length > 0) doomed.set(prng.pick(next), now + prng.int(CASCADE_STEPS));
      const lost = new Set(sent.filter(() => prng.chance(0.5)));
      if (lost.size > 0) {
        // Cut short. A host sends before it acts on decisions (src/protocols/types.ts): this
        // action's decisions were never acted on.
        coverage.cutShort++;
        net.queue = net.queue.filter((m) => !lost.has(m));
        net.events.splice(decided);
      }
    }
    for (const m of sent) {
      if (!net.queue.includes(m)) continue;
      if (m.msg.type === 'state-request') runs.add(`${m.msg.txn}/${m.msg.epoch}`);
      if (m.msg.type === 'pre-commit' && m.msg.epoch > 0) preCommitRuns.add(`${m.msg.txn}/${m.msg.epoch}`);
    }
    stamp(ticking);
  };
  const live = (ids: string[]): string[] => ids.filter((id) => !net.down.has(id));
  const shuffled = <T>(items: T[]): T[] => {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  /** Nothing in flight, no host vote to come, no live node with an open transaction. */
  const quiet = (): boolean =>
    net.queue.length === 0 &&
    !votes.some((v) => !net.down.has(v.id)) &&
    live(nodes).every((id) => [...cohorts.keys()].every((txn) => net.core(id).phaseOf(txn) === undefined || isDecided(net.core(id), txn)));

  let begun = 0;
  try {
    for (now = 0; now < STEPS + FINAL_STEPS; now++) {
      if (now === STEPS) faults = false;
      if (!faults && quiet()) break;
      if (faults && begun < TXNS && !net.down.has('c') && prng.chance(0.1)) {
        const txn = `t${begun++}`;
        const chosen = participants.filter(() => prng.chance(0.7));
        const cohort = chosen.length > 0 ? chosen : [prng.pick(participants)];
        cohorts.set(txn, cohort);
        act('c', () =>
          net.act('c', (c) =>
            (c as ThreePcCoordinator).begin(
              txn,
              cohort.map((p) => ({ to: p, payload: `w@${p}` })),
            ),
          ),
        );
      }
      // Hosts cast the votes that are due (a crashed host's are lost with it).
      for (const v of shuffled(votes.filter((x) => x.due <= now))) {
        votes.splice(votes.indexOf(v), 1);
        if (net.down.has(v.id)) continue;
        if (!v.yes) noVotes.add(`${v.txn}/${v.id}`);
        act(v.id, () => net.act(v.id, (p) => (p as ThreePcParticipant).vote(v.txn, v.yes)));
      }
      // Deliver, in random order, every message whose window has opened (what that sends too,
      // if its window opens now); a delivered message may stay in flight as a duplicate.
      for (;;) {
        const ready = net.queue.filter((m) => windows.get(m)!.due <= now);
        if (ready.length === 0) break;
        const m = prng.pick(ready);
        const w = windows.get(m)!;
        if (prng.chance(0.05)) {
          const copy: Msg = { ...m, msg: roundTrip(m.msg) };
          coverage.duplicates++;
          net.queue.push(copy);
          windows.set(copy, { due: now + prng.int(w.deadline - now + 1), deadline: w.deadline });
        }
        act(m.to, () => net.deliverWhere((x) => x === m));
      }
      // Every live node ticks once, in random order.
      for (const id of shuffled(live(nodes))) act(id, () => net.tick(1, [id]), true);
      for (const m of net.queue) {
        if (windows.get(m)!.deadline <= now) throw new Error(`model: ${m.msg.type} ${m.from}>${m.to} missed its deadline`);
      }
    }
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
    return { problems, committed: 0, coverage };
  }
  coverage.terminations = runs.size;
  coverage.terminationPreCommits = preCommitRuns.size;
  if (!quiet()) problems.push(`still moving after ${FINAL_STEPS} steps without faults`);

  let committed = 0;
  for (const [txn, cohort] of cohorts) {
    const by = new Map<string, string[]>([
      ['commit', []],
      ['abort', []],
    ]);
    for (const id of nodes) {
      const outcomes = net.decisionsOf(id).filter((d) => d.txn === txn && d.kind !== 'prepare');
      if (outcomes.length > 1) problems.push(`${id} decided ${txn} ${outcomes.length} times: ${outcomes.map((d) => d.kind).join(', ')}`);
      for (const d of outcomes) by.get(d.kind)!.push(net.down.has(id) ? `${id} (crashed)` : id);
    }
    const commits = by.get('commit')!;
    const aborts = by.get('abort')!;
    if (commits.length > 0 && aborts.length > 0) problems.push(`${txn} committed at ${commits.join(', ')} and aborted at ${aborts.join(', ')}`);
    if (commits.length > 0) {
      committed++;
      const notYes = cohort.filter((p) => noVotes.has(`${txn}/${p}`) || !net.logs.get(p)!.some((r) => r.type === 'voted' && r.txn === txn));
      if (notYes.length > 0) problems.push(`${txn} committed without a yes vote of ${notYes.join(', ')}`);
    }
    // Non-blocking: with no restarts, a live participant is never blocked (it suspects each
    // silent candidate in turn, down to itself, and terminates with whoever answers).
    for (const p of live(cohort)) {
      if (asked.has(`${txn}/${p}`) && !net.decisionsOf(p).some((d) => d.txn === txn && d.kind !== 'prepare')) {
        problems.push(`live ${p} undecided about ${txn} (${(net.core(p) as ThreePcParticipant).stateOf(txn)}) after the steps without faults`);
      }
    }
    if (!net.down.has('c') && !net.decisionsOf('c').some((d) => d.txn === txn)) problems.push(`live coordinator undecided about ${txn}`);
  }
  return { problems, committed, coverage };
}

function isDecided(core: Node, txn: string): boolean {
  const phase = core.phaseOf(txn);
  return phase === 'committed' || phase === 'aborted';
}
