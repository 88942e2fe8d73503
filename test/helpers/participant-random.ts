/**
 * One seed of a shard's transaction participant (src/replication/participant.ts) on the shard's
 * replicated log: test/participant-random.part.ts runs it, and test/helpers/core-mutant.ts runs
 * it on a scratch copy of dist/ with a bug put in, so the imports here are relative.
 *
 * The shard (three servers, each with its `Participants`), the model of its log (proposals
 * chosen in order, a few at a time; chosen or lost at a leader change), the coordinator and the
 * network are test/helpers/participant-host.ts's: see there. Per seed: the shard's state machine
 * remembers 1-8 finished transactions; the coordinator's vote timeout is 60-150 ticks; the
 * second participant `x` votes at once, yes in 50-100% of transactions; 10-24 transactions
 * append their id to one to three keys at the shard (each key 50%).
 *
 * Faults, during 500 ticks: leader changes at any tick, 1-4% a tick; messages lost (0-25%),
 * copied (0-15%), reordered, sent to a server that is not the leader (forwarded or held), and
 * late copies of any earlier message (shard-bound prepares favoured). Then a quiet phase: no
 * faults, every message delivered, every proposal chosen, until nothing moves (at most 1,500
 * ticks).
 *
 * Checked (besides what participant-host.ts checks: one outcome per transaction, at the
 * coordinator and at the shard; once quiet, nothing locked, the coordinator waiting on nothing,
 * what the coordinator committed applied at the shard exactly once and nothing else; nothing
 * thrown): a prepare applied after the transaction finished at the shard is never voted yes (a
 * late copy does not prepare a finished transaction again).
 */
import { Prng } from '../../src/core/prng.js';
import { ShardModel, type Msg, type ShardSeedResult } from './participant-host.js';

const KEYS = ['k0', 'k1', 'k2'];
const ACTIVE_TICKS = 500;
const QUIET_TICKS = 1_500;

export interface SeedOptions {
  /** The 'forget-prepared' variant (replication `unsafe: 'forget-prepared'`): a rebuilt core forgets in-doubt transactions. */
  forgetPrepared?: boolean;
  /** Debugging: called with each event that names this transaction (messages, chosen commands, leader changes). */
  trace?: { txn: string; log: (line: string) => void };
}

export interface SeedResult extends ShardSeedResult {
  /** Leader changes to another server. */
  leaderChanges: number;
  /** Proposals lost in leader changes. */
  lost: number;
  /** Late prepare copies handed to the leader of a transaction finished longer ago than the shard remembers finished ones. */
  latePastMemory: number;
}

export function runSeed(seed: number, options: SeedOptions = {}): SeedResult {
  const prng = new Prng(`participant-random:${seed}`);
  const finishedTxns = 1 + prng.int(8);
  const voteTimeoutTicks = 60 + prng.int(90);
  const xVotes = new Map<string, boolean>();
  const xYes = 0.5 + prng.next() * 0.5;
  const txnCount = 10 + prng.int(15);
  const leaderChangeP = 0.01 + prng.next() * 0.03;
  const dropP = prng.next() * 0.25;
  const copyP = prng.next() * 0.15;
  const lateP = prng.next() * 0.2;

  /** Per transaction finished at the shard (any finish), how many had finished before it. */
  const finishedAt = new Map<string, number>();
  const latePrepares: Msg[] = [];
  let latePastMemory = 0;
  const model: ShardModel = new ShardModel(
    prng,
    { finishedTxns, voteTimeoutTicks, forgetPrepared: options.forgetPrepared, trace: options.trace },
    {
      sent: (m) => {
        if (m.to === 'server' && m.wire.m.type === 'prepare' && latePrepares.length < 500) latePrepares.push(m);
      },
      xPrepare: (txn) => {
        let yes = xVotes.get(txn);
        if (yes === undefined) xVotes.set(txn, (yes = prng.chance(xYes)));
        model.xVote(txn, yes);
      },
      toServer: (m) => {
        const txn = m.wire.m.txn;
        if (m.wire.m.type === 'prepare' && model.log.leader === m.server && finishedAt.has(txn) && finishedAt.size - finishedAt.get(txn)! > finishedTxns)
          latePastMemory++;
      },
      voted: (txn, yes) => {
        if (yes && finishedAt.has(txn)) model.problem(`the shard prepared ${txn} again (voted yes) after it finished there`);
      },
      finished: (txn) => {
        if (!finishedAt.has(txn)) finishedAt.set(txn, finishedAt.size);
      },
    },
  );

  let quietTicks = 0;
  const ran = model.run(() => {
    for (let t = 0; t < ACTIVE_TICKS + QUIET_TICKS; t++) {
      model.startTick(t);
      if (t < ACTIVE_TICKS) {
        if (model.begun < txnCount && prng.chance(txnCount / 400)) model.beginTxn(KEYS, 0.5);
        model.noisy({
          leaderChangeP,
          copyP,
          drop: () => prng.chance(dropP),
          lateP,
          late: () => (latePrepares.length > 0 && prng.chance(0.5) ? prng.pick(latePrepares) : prng.pick(model.history)),
        });
      } else {
        model.settle();
        if (model.isQuiet()) {
          quietTicks = t - ACTIVE_TICKS;
          break;
        }
      }
      model.tick();
    }
  });
  const { committed, aborted } = ran ? model.checkQuiet() : { committed: 0, aborted: 0 };
  return {
    problems: model.problems,
    txns: model.begun,
    committed,
    aborted,
    leaderChanges: model.leaderChanges,
    inDoubtChanges: model.inDoubtChanges,
    lost: model.lost,
    latePastMemory,
    quietTicks,
  };
}
