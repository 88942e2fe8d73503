/**
 * A shard's transaction participant (src/replication/participant.ts) whose proposal the shard's
 * log refuses while it holds a protocol message: the log's queue is full, or the leader lost its
 * lead between the participant's look and its proposal. The participant drops its core then
 * (the next is rebuilt from the log); the message it was handling went with it, so a prepare's
 * transaction aborted at the coordinator's vote timeout and an outcome waited for the
 * coordinator's retry (found by an audit, session 60). Now the message is held and stepped again
 * into the next core, or handed on to the new leader.
 *
 * On test/helpers/participant-host.ts's shard (three servers, a model of the shard's log, the
 * real KvStateMachine and TwoPcCoordinator), with a fair network and no leader change but the
 * ones a case makes: every tick, every proposal chosen and every message delivered. No seed: the
 * model's generator only picks each transaction's keys, from a fixed seed.
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import type { TwoPcMessage } from '../src/protocols/twopc.js';
import type { Command } from '../src/replication/state-machine.js';
import { ShardModel, type ServerMsg } from './helpers/participant-host.js';

const KEYS = ['k0', 'k1', 'k2', 'k3'];
/** Well above the ticks a transaction takes here (a few), well below the ticks run. */
const VOTE_TIMEOUT_TICKS = 40;
const TICKS = 120;

interface Run {
  model: ShardModel;
  /** The shard's messages to its coordinator, and the coordinator's to the shard. */
  shardSent: TwoPcMessage[];
  toShard: TwoPcMessage[];
  /** Commands the log applied, each with the number of messages the coordinator had sent the shard by then. */
  applied: Command[];
  toShardWhenApplied: number[];
  /** Proposals refused. */
  refused: number;
}

/**
 * A shard whose log refuses the proposals `refuse` picks (it counts them); `start` begins the
 * transactions; then TICKS fair ticks, and the checks of a quiet shard.
 */
function run(refuse: (model: ShardModel, server: string, c: Command) => boolean, start: (model: ShardModel) => void): Run {
  const seen: Omit<Run, 'model'> = { shardSent: [], toShard: [], applied: [], toShardWhenApplied: [], refused: 0 };
  const model = new ShardModel(
    new Prng('participant-refused'),
    {
      finishedTxns: 8,
      voteTimeoutTicks: VOTE_TIMEOUT_TICKS,
      refuse: (server, c) => {
        const no = refuse(model, server, c);
        if (no) seen.refused++;
        return no;
      },
    },
    {
      xPrepare: (txn) => model.xVote(txn, true),
      shardSends: (m) => seen.shardSent.push(m),
      sent: (m) => {
        if (m.to === 'server' && m.from === 'c') seen.toShard.push(m.wire.m as TwoPcMessage);
      },
      applied: (c) => {
        seen.applied.push(c);
        seen.toShardWhenApplied.push(seen.toShard.length);
      },
    },
  );
  model.fair = true;
  // A throw is a problem of the model's (checked by every case).
  model.run(() => {
    model.startTick(0);
    start(model);
    for (let t = 0; t < TICKS; t++) {
      model.startTick(t);
      model.settle();
      model.tick();
    }
    model.startTick(TICKS);
    model.settle();
    model.checkQuiet();
  });
  return { model, ...seen };
}

const count = <T>(list: readonly T[], pick: (x: T) => boolean): number => list.filter(pick).length;
const prepares = (r: Run, txn: string): number => count(r.applied, (c) => c.k === 'prepare' && c.txn === txn);
const yesVotes = (r: Run, txn: string): number => count(r.shardSent, (m) => m.type === 'vote' && m.txn === txn && m.yes);

/** Refuses the first proposal that `pick` names. */
function once(pick: (server: string, c: Command) => boolean, also?: (model: ShardModel) => void): (model: ShardModel, server: string, c: Command) => boolean {
  let done = false;
  return (model, server, c) => {
    if (done || !pick(server, c)) return false;
    done = true;
    also?.(model);
    return true;
  };
}

test('a prepare whose proposal the log refuses once (its queue full) is proposed again: the shard votes yes, the transaction commits', (t) => {
  const r = run(
    once((_, c) => c.k === 'prepare'),
    (model) => model.beginTxn(KEYS, 0.5),
  );
  const txn = 'r1:i1:0';
  t.deepEqual(r.model.problems, []);
  t.is(r.refused, 1, 'the prepare was refused once');
  t.is(yesVotes(r, txn), 1, 'one yes vote from the shard');
  t.is(r.model.coordOutcome.get(txn), 'commit');
  t.is(r.model.shardOutcome.get(txn), 'commit');
});

test('a prepare refused because its leader lost the lead in between goes to the new leader: the shard votes yes, the transaction commits', (t) => {
  const r = run(
    once(
      (server, c) => server === 'a' && c.k === 'prepare',
      (model) => {
        model.log.leader = 'b';
        model.log.caughtUpAt = model.log.now;
      },
    ),
    (model) => model.beginTxn(KEYS, 0.5),
  );
  const txn = 'r1:i1:0';
  t.deepEqual(r.model.problems, []);
  t.is(r.refused, 1, 'the prepare was refused once, at a');
  t.is(r.model.log.leader, 'b');
  t.is(prepares(r, txn), 1, 'b proposed the prepare (a never did)');
  t.is(yesVotes(r, txn), 1);
  t.is(r.model.coordOutcome.get(txn), 'commit');
  t.is(r.model.shardOutcome.get(txn), 'commit');
});

test('a batch of two prepares whose second is refused: both are stepped again, the first, proposed twice, is prepared and voted on once; both commit, their writes applied once', (t) => {
  const r = run(
    once((_, c) => c.k === 'prepare' && c.txn === 'r1:i1:1'),
    (model) => {
      // Both prepares to the shard in one wire, as a coordinator's turn sends them.
      model.beginTxn(['k0', 'k1'], 1);
      model.beginTxn(['k2', 'k3'], 1);
      const wires = model.inflight.filter((m): m is ServerMsg => m.to === 'server');
      model.inflight = model.inflight.filter((m) => m.to !== 'server');
      t.is(wires.length, 2);
      model.deliver({ ...wires[0]!, wire: { ...wires[0]!.wire, more: [wires[1]!.wire.m] } });
    },
  );
  t.deepEqual(r.model.problems, []);
  t.is(r.refused, 1, "the second transaction's prepare was refused once");
  t.is(prepares(r, 'r1:i1:0'), 2, 'the first prepare, proposed before the refusal, was proposed again');
  for (const txn of ['r1:i1:0', 'r1:i1:1']) {
    t.is(yesVotes(r, txn), 1, `one yes vote on ${txn}`);
    t.is(r.model.coordOutcome.get(txn), 'commit', txn);
    t.is(r.model.shardOutcome.get(txn), 'commit', txn);
  }
});

// Without the wire held, the core rebuilt from the log (the transaction voted on, undecided)
// asks its coordinator, which sends the commit again: it was applied only from that second copy.
test('a commit whose proposal the log refuses once is proposed again from the same message: applied once, before the coordinator sent it again, and acknowledged', (t) => {
  const r = run(
    once((_, c) => c.k === 'commit'),
    (model) => model.beginTxn(KEYS, 0.5),
  );
  const txn = 'r1:i1:0';
  t.deepEqual(r.model.problems, []);
  t.is(r.refused, 1, 'the commit was refused once');
  t.is(r.model.shardOutcome.get(txn), 'commit');
  const at = r.applied.findIndex((c) => c.k === 'commit' && c.txn === txn);
  t.is(
    count(r.toShard.slice(0, r.toShardWhenApplied[at]), (m) => m.type === 'commit'),
    1,
    'the commit was applied from the first one the coordinator sent',
  );
  t.is(
    count(r.applied, (c) => c.k === 'commit'),
    1,
    'one commit entry chosen',
  );
  t.true(count(r.shardSent, (m) => m.type === 'ack') >= 1, 'acknowledged');
  t.is(r.model.coordinator.active().length, 0);
});
