import test from 'ava';
import { createPackr } from '../src/core/codec.js';
import { KvStateMachine, type Command, type Completion, type Snapshot } from '../src/replication/state-machine.js';
import { LearnerReplica } from '../src/replication/learner.js';

// Issue 8, item 4: a snapshot carries all replicated state, including the operations waiting
// behind a transaction's locks and the transactions already finished.

const op = (n: number, body: Extract<Command, { k: 'op' }>['body']): Command => ({ k: 'op', id: `o${n}`, body: { ...body, rq: `rq${n}` } });

/** Transactions and single-key operations interleaved: operations wait behind locks, a late duplicate prepare arrives. */
const COMMANDS: Command[] = [
  op(1, { op: 'put', key: 'x', value: 0 }),
  {
    k: 'prepare',
    txn: 'T1',
    ops: [
      { op: 'put', key: 'a', value: 1 },
      { op: 'put', key: 'b', value: 1 },
    ],
  },
  { k: 'pc', txn: 'T1', record: { kind: 'voted', yes: true } },
  op(2, { op: 'put', key: 'a', value: 2 }), // waits for T1
  op(3, { op: 'cas', key: 'b', expected: 1, value: 3 }), // waits for T1
  op(4, { op: 'put', key: 'c', value: 5 }),
  { k: 'prepare', txn: 'T2', ops: [{ op: 'put', key: 'a', value: 9 }] }, // votes no: a is locked
  op(5, { op: 'get', key: 'a' }), // waits for T1
  { k: 'commit', txn: 'T1', pc: [{ kind: 'decided' }] }, // releases a, b: the waiting operations run
  { k: 'abort', txn: 'T2' },
  {
    k: 'prepare',
    txn: 'T1',
    ops: [
      { op: 'put', key: 'a', value: 1 },
      { op: 'put', key: 'b', value: 1 },
    ],
  }, // late duplicate
  op(6, { op: 'put', key: 'a', value: 4 }), // runs at once unless the duplicate locked a
  {
    k: 'prepare',
    txn: 'T3',
    ops: [
      { op: 'check', key: 'a', value: 4 },
      { op: 'put', key: 'c', value: 7 },
    ],
  },
  op(7, { op: 'get', key: 'c' }), // waits for T3
  op(8, { op: 'put', key: 'c', value: 8 }), // waits for T3, after the get
  { k: 'noop' },
  { k: 'commit', txn: 'T3' },
  op(9, { op: 'get', key: 'b' }),
];

const packr = createPackr();
/** What persistence and the network do to a snapshot: encode and decode it. */
const wire = (s: Snapshot): Snapshot => packr.unpack(packr.pack(s)) as Snapshot;

function run(sm: KvStateMachine, commands: Command[]): Completion[] {
  return commands.flatMap((c) => sm.apply(c));
}

const reference = new KvStateMachine();
const referenceOut = COMMANDS.map((c) => reference.apply(c));

test('the reference run exercises what snapshots must carry', (t) => {
  t.deepEqual(referenceOut[6], [{ txn: 'T2', vote: false, reason: 'key "a" is locked by another transaction' }]);
  t.deepEqual(referenceOut[10], [{ txn: 'T1', vote: false, reason: 'already finished' }], 'a late duplicate prepare is refused');
  t.deepEqual(
    referenceOut[8]!.slice(1),
    [
      { id: 'o2', ok: true, value: undefined },
      { id: 'o5', ok: true, value: 2 },
      { id: 'o3', ok: true, value: true },
    ],
    'waiting operations run when T1 commits, in log order per key',
  );
  t.deepEqual(Object.fromEntries(reference.data), { x: 0, a: 4, b: 3, c: 8 });
});

/** Restore at every point of the run (each a snapshot interval of one command), by `restore`. */
function everyCut(t: import('ava').ExecutionContext, restore: (snapshot: Snapshot) => KvStateMachine): void {
  for (let cut = 0; cut <= COMMANDS.length; cut++) {
    const before = new KvStateMachine();
    run(before, COMMANDS.slice(0, cut));
    const restored = restore(before.snapshot());
    t.is(restored.applied, cut);
    const out = COMMANDS.slice(cut).map((c) => restored.apply(c));
    t.deepEqual(out, referenceOut.slice(cut), `completions after a restore at ${cut}`);
    t.deepEqual(Object.fromEntries(restored.data), Object.fromEntries(reference.data), `data after a restore at ${cut}`);
    t.deepEqual(restored.openTransactions(), [], `no lock left after a restore at ${cut}`);
    t.deepEqual(wire(restored.snapshot()), wire(reference.snapshot()), `whole state after a restore at ${cut}`);
  }
}

test('restart or catch-up: restored from an encoded snapshot at any point, a replica goes on like the others', (t) => {
  everyCut(t, (snapshot) => {
    const sm = new KvStateMachine();
    sm.restore(wire(snapshot));
    return sm;
  });
});

test('passive primary: its working copy (clone) goes on like the committed state', (t) => {
  everyCut(t, (snapshot) => {
    const sm = new KvStateMachine();
    sm.restore(snapshot);
    return sm.clone();
  });
});

test('hybrid learner: given a snapshot by the leader, it goes on like the leader', (t) => {
  for (let cut = 1; cut <= COMMANDS.length; cut++) {
    const leader = new KvStateMachine();
    run(leader, COMMANDS.slice(0, cut));
    const learner = new LearnerReplica();
    t.is(learner.receive({ type: 'learn', s: 0, entries: [], snapshot: wire(leader.snapshot()) }), cut);
    const entries = COMMANDS.slice(cut).map((c, i) => [cut + i + 1, c] as [number, Command]);
    t.is(learner.receive({ type: 'learn', s: 0, entries, snapshot: null }), COMMANDS.length);
    t.deepEqual(wire(learner.sm.snapshot()), wire(reference.snapshot()), `learner state after a snapshot at ${cut}`);
  }
});

test('a clone does not share the participant records it appends to', (t) => {
  const sm = new KvStateMachine();
  sm.apply({ k: 'prepare', txn: 'T', ops: [{ op: 'put', key: 'k', value: 1 }] });
  sm.apply({ k: 'pc', txn: 'T', record: 'r1' });
  const copy = sm.clone();
  copy.apply({ k: 'pc', txn: 'T', record: 'r2' });
  t.deepEqual(sm.pc.get('T'), ['r1']);
  t.deepEqual(copy.pc.get('T'), ['r1', 'r2']);
});
