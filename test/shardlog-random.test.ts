/**
 * A server's durable log under checkpoints, crashes and power losses, at the level of three
 * real actor Cells hosting two shards' Multi-Paxos groups over one MemoryDurableStore
 * (test/helpers/shardlog-random.ts: what a seed does and what it checks).
 *
 * It is there for the 'checkpoint-drops-tail' variant (ShardLogs' `dropAfterCheckpoint`: a
 * checkpoint taken in the middle of a step loses the records the step persists after it), which
 * `meridian check --unsafe checkpoint-drops-tail` caught in 36 of 100 seeds (2026-12-02), the
 * thinnest margin of the eight variants. Here, seeds 1-100 (2026-12-02): 96 of 100 with every
 * check, 84 of 100 with only what a user sees (what a server reported survives its restart,
 * replicas agree; the recovered log's reading against the records handed over left out).
 *
 * Bugs a store or a checkpoint could plausibly get wrong, put into scratch copies of dist/
 * (proposed for scripts/mutants.mjs), caught in seeds 1-200 (2026-12-02): a checkpoint that
 * keeps the old records before it 199, recovery that does not cut a torn tail 60, appends with
 * fsync false counted as synced 94, a checkpoint not counted as synced 45, a checkpoint without
 * the promise 176, a shard log that keeps the lower promise 139, a snapshot put last in the
 * checkpoint 12, a recovery that does not rebuild the shard log 165, a step's checkpoint that
 * covers the persists made after it 192 (the fsync settings are half the seeds each).
 *
 * It found a bug on its first run of 1,000 seeds (seed 702; 702, 1550, 2201, 2507 and 2789 of
 * seeds 1-3,000 fail without the fix, all the same way): a Multi-Paxos acceptor restarted
 * from its log forgot a promise it had reported. It had accepted a slot at a ballot it never
 * wrote a promise record for (the leader's prepare had not reached it: the accept record
 * implies the promise), and the slot was later folded into a snapshot, also in the log; replay
 * dropped the slot with its ballot, and the constructor raised the promise only from promise
 * records and the slots left. After the restart it would accept an older leader's values. The
 * constructor (src/protocols/multipaxos.ts) now raises the promise from accept records too.
 */
// The learner's randomized test (test/learner-random.part.ts: a hybrid learner fed under loss,
// copies, reordering and restarts) is a part of this file, as a server's log is of a randomized
// test of the replication layer: a file of its own until 2026-12-07 (a process, ~0.7-1 CPU s, and
// the actor cells and Multi-Paxos cores compiled cold again).
import './learner-random.part.js';
import test from 'ava';
import { MultiPaxos } from '../src/protocols/multipaxos.js';
import { ShardLogs } from '../src/replication/shard-log.js';
import { runSeed } from './helpers/shardlog-random.js';
import { requireCaught, sweepSeeds } from './helpers/core-mutant.js';
import { mutantTests } from './helpers/mutant-tests.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its randomized runs (the learner's part's too) run in this thread: V8's inlining budget lowered
// for the whole file, as a pool's seeds get it (test/helpers/inlining.ts).
lowerInliningForThisFile();

test('randomized server log: checkpoints at random points and mid-step, plain crashes, crashes between the write and the send, power losses with torn tails; what was reported survives, the recovered log is a prefix of what was written, replicas agree', (t) => {
  const { seeds, results, sum, noneFailed } = sweepSeeds(t, runSeed, 150);
  noneFailed(
    `fsync seeds ${results.filter((r) => r.fsync).length}; checkpoints ${sum((r) => r.checkpoints)} (mid-step ${sum((r) => r.midStepCheckpoints)}, asked for ${sum((r) => r.askedCheckpoints)}), restarts ${sum((r) => r.restarts)}, crashes after a write ${sum((r) => r.crashesAfterWrite)}, lossy power losses ${sum((r) => r.lossyPowerLosses)}, torn tails ${sum((r) => r.tornTails)}, puts acknowledged ${sum((r) => r.acked)}`,
  );
  if (seeds >= 100) {
    // That what the seeds are for happens (a property of the generator, not of the code).
    const fsyncSeeds = results.filter((r) => r.fsync).length;
    t.true(fsyncSeeds > seeds / 4 && fsyncSeeds < (3 * seeds) / 4, 'both fsync settings');
    t.true(sum((r) => r.midStepCheckpoints) > 3 * seeds && sum((r) => r.askedCheckpoints) > 3 * seeds, 'checkpoints mid-step, asked for');
    t.true(sum((r) => r.restarts) > 10 * seeds && sum((r) => r.crashesAfterWrite) > 2 * seeds, 'restarts, crashes between write and send');
    t.true(sum((r) => r.lossyPowerLosses) > seeds / 2 && sum((r) => r.tornTails) > seeds / 4, 'power losses that lose records, torn tails');
    t.true(sum((r) => r.acked) > 5 * seeds, 'acknowledged puts');
  }
});

test('seeds that found the forgotten promise pass (an acceptor forgot the promise implied by an accept record its snapshot covered); the smallest case of it', (t) => {
  for (const seed of [702, 1550, 2201, 2507, 2789]) t.deepEqual(runSeed(seed).problems, [], `seed ${seed}`);
  const b = (round: number, id: string) => ({ round, id });
  const core = new MultiPaxos({ self: 's2', peers: ['s1', 's2', 's3'], electionTicks: 5, heartbeatTicks: 2, maxBatch: 1, maxInflight: 1 }, [
    { type: 'promise', ballot: b(2, 's1') },
    // Accepted at 3.s1 without a promise record (the prepare of 3.s1 never came), then chosen and compacted.
    { type: 'accept', index: 1, ballot: b(3, 's1'), commands: ['x'] },
    { type: 'commit', index: 1 },
    { type: 'snapshot', index: 1, data: 'state@1' },
  ]);
  t.deepEqual(core.status().promised, b(3, 's1'), 'the promise the accept record implies');
});

test("a chosen record's ballot counts as promised in the shard log's checkpoint and in recovery, so a snapshot that folds its slot does not lower the promise the next restart recovers (passive swarm seed 1712781)", (t) => {
  const b = (round: number, id: string) => ({ round, id });
  const records = [
    { type: 'promise' as const, ballot: b(1, 's2') },
    // Learned chosen at 2.s3 (from the leader's entries), never accepted here.
    { type: 'chosen' as const, index: 1, ballot: b(2, 's3'), commands: ['x'] },
    { type: 'commit' as const, index: 1 },
    { type: 'snapshot' as const, index: 1, data: 'state@1' },
  ];
  const config = { self: 's2', peers: ['s1', 's2', 's3'], electionTicks: 5, heartbeatTicks: 2, maxBatch: 1, maxInflight: 1 };
  t.deepEqual(new MultiPaxos(config, records).status().promised, b(2, 's3'), 'recovered from the records');
  const logs = new ShardLogs();
  logs.recover(records.map((r) => ({ s: 0, r })));
  const checkpoint = logs.checkpoint();
  t.deepEqual(checkpoint[0], { s: 0, r: { type: 'promise', ballot: b(2, 's3') } }, 'the checkpoint keeps it');
  t.deepEqual(
    new MultiPaxos(
      config,
      checkpoint.map((x) => x.r),
    ).status().promised,
    b(2, 's3'),
    'recovered from the checkpoint',
  );
});

// The variant, switched on at this level. Seeds 1-100 (2026-12-02): caught in 96 with every
// check, 84 with only what a user sees; required: about half of that. The window is seeds 1-50
// (1-100 until 2026-12-07, the same shares): the runs stopped at their 45th and 40th catch by
// seeds 47 and 45 (2026-12-07), so half of that comes within the first 50.
test("randomized server log catches the 'checkpoint-drops-tail' variant in at least 23 of seeds 1-50 (45%), and with only what a user sees in at least 20 (40%)", (t) => {
  requireCaught(t, (seed) => runSeed(seed, { dropAfterCheckpoint: true }), { seeds: 50, share: 0.45, label: 'every check: ' });
  requireCaught(t, (seed) => runSeed(seed, { dropAfterCheckpoint: true, imageCheck: false }), { seeds: 50, share: 0.4, label: 'what a user sees: ' });
});

// Six of the bugs above, now in scripts/mutants.mjs (nothing in the project knows them; each
// goes into a scratch copy of dist/). Seeds 1-100 fail (2026-12-02): checkpoint-covers-whole-step
// 96, checkpoint-omits-promise 89, shardlog-keeps-lower-promise 74, recover-forgets-log 83,
// unsynced-counted-synced 46 and recovery-keeps-torn-tail 25 (both only in fsync-false seeds,
// about half); about half required. The window is seeds 1-50 (1-100 until 2026-12-07, the same
// shares): each run over 1-100 reached its share by seed 48 (2026-12-07: by 47, 44, 44, 48, 37
// and 36), so half of it comes within the first 50.
mutantTests('randomized server log', 'test/helpers/shardlog-random.js', 50, [
  { mutant: 'checkpoint-covers-whole-step', share: 0.45 },
  { mutant: 'checkpoint-omits-promise', share: 0.4 },
  { mutant: 'shardlog-keeps-lower-promise', share: 0.35 },
  { mutant: 'recover-forgets-log', share: 0.4 },
  { mutant: 'unsynced-counted-synced', share: 0.2 },
  { mutant: 'recovery-keeps-torn-tail', share: 0.12 },
]);
