/**
 * One seed of a shard's transaction participant (src/replication/participant.ts) whose
 * transactions stay in doubt (prepared, the shard's yes vote chosen, no outcome yet) across
 * leader changes of the shard (test/participant-indoubt.part.ts runs it; test/helpers/core-mutant.ts
 * runs it on a scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * The shard and its log are test/helpers/participant-host.ts's, as test/helpers/participant-random.ts's
 * (three servers, each with its `Participants`; a model of what Multi-Paxos chooses: the
 * leader's proposals wait unchosen and are chosen in order, a few at a time, or chosen or lost
 * at a leader change; one KvStateMachine applies the chosen log, its outputs handed to every
 * server's participant as server.ts does; the real TwoPcCoordinator). Where that model spreads
 * its faults, this one
 * aims at one situation: a transaction the shard voted yes on waits long for its outcome, the
 * shard's leader changes (maybe several times) meanwhile, each new leader rebuilding its core
 * from what the log holds, and the outcome is often an abort that the first message alone does
 * not bring (lost on the way).
 *
 * Per seed: the coordinator (vote timeout 30-90 ticks, commit retry 20) and a second
 * participant `x` that votes yes in 40-80% of transactions, after a delay of 0-20 ticks or, in
 * half of them, 20-150 (so the coordinator often aborts on its vote timeout while the shard is
 * in doubt); transactions `r1:i1:<n>` append their id to some of six keys at the shard (each
 * 30%, at least one). Three to five rounds of:
 * - a noisy stretch (120-240 ticks): new transactions (4-8 a round); leader changes at any tick
 *   (2-6% a tick: each unchosen proposal chosen or lost, an election of 1-5 ticks or none, the
 *   new leader caught up after 0-3 ticks); messages lost (0-15%; the coordinator's commits and
 *   aborts to the shard 20-60%), copied (0-10%), reordered, sent to a server that is not the
 *   leader, and late copies of earlier messages (0-10% a tick);
 * - a fair stretch of FAIR_TICKS: no new transaction, no leader change, no loss; every message
 *   delivered and every proposal chosen each tick; `x` votes at once.
 * Then a quiet phase (as the fair stretch) until nothing moves, at most QUIET_TICKS.
 *
 * Checked:
 * - at the end of each fair stretch, no transaction is in doubt at the shard (open there, its
 *   yes vote chosen): an outcome the coordinator decided (or decides within its vote timeout)
 *   is applied within FAIR_TICKS of a fair network, below ORPHAN_TICKS: a transaction the shard
 *   voted yes on is settled by asking its coordinator, not by the orphan watch (which is for
 *   transactions no yes vote left the shard for);
 * - the shard never votes no on a transaction after voting yes on it, unless the coordinator
 *   had aborted it already (a yes vote stands until the outcome);
 * - every transaction has one outcome: the coordinator decides once; the shard commits only
 *   what the coordinator committed and finishes a prepared transaction once; once quiet, what
 *   the coordinator committed the shard committed, and what it did not commit the shard did not;
 * - no two transactions are prepared at the shard at once on a common key (a prepared
 *   transaction's locks stand, over any leader changes, until its outcome is applied);
 * - a committed transaction's appends are in the shard's data exactly once, an uncommitted
 *   one's not at all;
 * - once quiet, nothing is prepared at the shard (no key locked) and the coordinator waits on no
 *   transaction; no assertion of the code under test fails (a throw fails the seed).
 * Nothing checked looks at the participant's core, only at the shard's log and the messages.
 */
import { Prng } from '../../src/core/prng.js';
import { ORPHAN_TICKS } from '../../src/replication/participant.js';
import type { TwoPcMessage } from '../../src/protocols/twopc.js';
import { ShardModel, type ShardSeedResult } from './participant-host.js';

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
/**
 * Ticks of a fair stretch: the coordinator's longest vote timeout (90), then two decision
 * retries of the shard's core (30 each), and a few more; below ORPHAN_TICKS (200).
 */
export const FAIR_TICKS = 160;
const QUIET_TICKS = 1_500;

export interface SeedOptions {
  /** The 'forget-prepared' variant (replication `unsafe: 'forget-prepared'`): a rebuilt core forgets in-doubt transactions. */
  forgetPrepared?: boolean;
}

export interface SeedResult extends ShardSeedResult {
  rounds: number;
  /**
   * Transactions in doubt at the shard at a leader change (or election) that the coordinator
   * did not commit: what a rebuilt core must still settle by asking.
   */
  inDoubtAborts: number;
  /** Outcome messages from the coordinator to the shard lost. */
  lostOutcomes: number;
  /** Ticks the longest fair stretch took until nothing was in doubt at the shard. */
  fairTicks: number;
}

export function runSeed(seed: number, options: SeedOptions = {}): SeedResult {
  const prng = new Prng(`participant-indoubt:${seed}`);
  const voteTimeoutTicks = 30 + prng.int(61);
  const xYes = 0.4 + prng.next() * 0.4;
  /** x's vote per transaction, and when it may leave (undefined once sent). */
  const xVotes = new Map<string, { yes: boolean; due: number | undefined }>();
  const rounds = 3 + prng.int(3);
  const dropP = prng.next() * 0.15;
  const outcomeDropP = 0.2 + prng.next() * 0.4;
  const copyP = prng.next() * 0.1;
  const lateP = prng.next() * 0.1;
  const leaderChangeP = 0.02 + prng.next() * 0.04;

  /** Transactions the shard voted yes on (a yes vote left it). */
  const shardYes = new Set<string>();
  const model: ShardModel = new ShardModel(
    prng,
    { finishedTxns: 8, voteTimeoutTicks, forgetPrepared: options.forgetPrepared },
    {
      xPrepare: (txn) => {
        const v = xVotes.get(txn);
        if (v === undefined) {
          const delay = prng.chance(0.5) ? prng.int(21) : 20 + prng.int(131);
          xVotes.set(txn, { yes: prng.chance(xYes), due: model.log.now + delay });
        } else if (v.due === undefined) model.xVote(txn, v.yes); // A copy: the vote again.
      },
      // A vote the shard sends its coordinator.
      shardSends: (m: TwoPcMessage) => {
        if (m.type !== 'vote') return;
        if (m.yes) shardYes.add(m.txn);
        else if (shardYes.has(m.txn) && model.coordOutcome.get(m.txn) !== 'abort')
          model.problem(`the shard voted no on ${m.txn} after voting yes on it (coordinator: ${model.coordOutcome.get(m.txn) ?? 'no outcome yet'})`);
      },
      applied: (c) => {
        if (c.k !== 'prepare') return;
        const holders = new Map<string, string>();
        for (const open of model.log.sm.openTransactions()) {
          for (const op of model.ops.get(open) ?? []) {
            const other = holders.get(op.key);
            if (other !== undefined) model.problem(`${other} and ${open} are prepared at the shard at once, both on ${op.key}`);
            holders.set(op.key, open);
          }
        }
      },
    },
  );
  /** x's votes whose time came (all of them in a fair stretch). */
  const xDue = (): void => {
    for (const [txn, v] of xVotes) {
      if (v.due !== undefined && (model.fair || v.due <= model.log.now)) {
        v.due = undefined;
        model.xVote(txn, v.yes);
      }
    }
  };

  let lostOutcomes = 0;
  let fairTicks = 0;
  let quietTicks = 0;
  let t = 0;
  const ran = model.run(() => {
    for (let round = 1; round <= rounds; round++) {
      // --- Noisy. ---
      model.fair = false;
      const noisyTicks = 120 + prng.int(121);
      const txnsThisRound = 4 + prng.int(5);
      let begunThisRound = 0;
      for (let n = 0; n < noisyTicks; n++, t++) {
        model.startTick(t);
        if (begunThisRound < txnsThisRound && n < noisyTicks - 40 && prng.chance(txnsThisRound / (noisyTicks - 40))) {
          begunThisRound++;
          model.beginTxn(KEYS, 0.3);
        }
        model.noisy({
          leaderChangeP,
          copyP,
          drop: (m) => {
            const outcome = m.to === 'server' && (m.wire.m.type === 'commit' || m.wire.m.type === 'abort');
            if (!prng.chance(outcome ? outcomeDropP : dropP)) return false;
            if (outcome) lostOutcomes++;
            return true;
          },
          lateP,
          late: () => prng.pick(model.history),
        });
        xDue();
        model.tick();
      }
      // --- Fair: no new transaction, no leader change, nothing lost. ---
      model.fair = true;
      let settledAt: number | undefined;
      for (let n = 0; n < FAIR_TICKS; n++, t++) {
        model.startTick(t);
        xDue();
        model.settle();
        if (settledAt === undefined && model.inDoubt().length === 0) settledAt = n;
        model.tick();
      }
      model.startTick(t);
      model.settle();
      const doubt = model.inDoubt();
      if (doubt.length > 0)
        model.problem(
          `round ${round}: after ${FAIR_TICKS} fair ticks (below ORPHAN_TICKS, ${ORPHAN_TICKS}) still in doubt at the shard: ${doubt
            .map((x) => `${x} (coordinator: ${model.coordOutcome.get(x) ?? 'no outcome'})`)
            .join(', ')}`,
        );
      fairTicks = Math.max(fairTicks, settledAt ?? FAIR_TICKS);
    }
    // --- Quiet until nothing moves. ---
    for (let n = 0; n < QUIET_TICKS; n++, t++) {
      model.startTick(t);
      xDue();
      model.settle();
      if (model.isQuiet()) {
        quietTicks = n;
        break;
      }
      model.tick();
    }
  });
  const { committed, aborted, inDoubtAborts } = ran ? model.checkQuiet() : { committed: 0, aborted: 0, inDoubtAborts: 0 };
  return {
    problems: model.problems,
    txns: model.begun,
    committed,
    aborted,
    rounds,
    inDoubtChanges: model.inDoubtChanges,
    inDoubtAborts,
    lostOutcomes,
    fairTicks,
    quietTicks,
  };
}
