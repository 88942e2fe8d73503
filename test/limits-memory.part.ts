import test from 'ava';
import { SEEN_CLIENTS_MAX, SEEN_REQUESTS_MAX, SNAPSHOT_EVERY_COMMANDS } from '../src/core/limits.js';
import { KvStateMachine, type Completion } from '../src/replication/state-machine.js';
import { ReplicaLog } from '../src/protocols/multipaxos-log.js';
import { Outbox } from '../src/protocols/types.js';
import type { MultiPaxosDecision, MultiPaxosMessage, MultiPaxosRecord } from '../src/protocols/multipaxos-messages.js';

// The bounds that keep a long-running cluster's memory flat (bench soak).

test(`a state machine remembers at most SEEN_REQUESTS_MAX (${SEEN_REQUESTS_MAX}) request ids, the newest ones`, (t) => {
  const sm = new KvStateMachine();
  const total = SEEN_REQUESTS_MAX + 500;
  for (let i = 0; i < total; i++) {
    const done = sm.apply({ k: 'op', id: `c${i}`, body: { op: 'put', key: `k${i % 10}`, value: i, rq: `client:${i}` } });
    t.true(done.length === 1 && 'ok' in done[0]! && done[0].ok, `put ${i} was applied`);
  }
  const snap = sm.snapshot();
  t.is(snap.seen.length, SEEN_REQUESTS_MAX);
  t.is(sm.seen('client:0'), 'forgotten', 'the oldest id is forgotten, and known to be older than what is remembered');
  t.deepEqual(sm.seen(`client:${total - 1}`), { value: undefined }, 'the newest id is remembered');
  // A duplicate of a remembered request answers without writing again.
  sm.apply({ k: 'op', id: 'dup', body: { op: 'put', key: 'k1', value: 'again', rq: `client:${total - 1}` } });
  t.not(sm.data.get('k1'), 'again');
});

test('a late copy of a request older than the state machine remembers is not executed again (TIMEOUT: unknown outcome), across snapshots and clones', (t) => {
  const sm = new KvStateMachine();
  const put = (id: string, key: string, value: unknown, rq: string): Completion[] => sm.apply({ k: 'op', id, body: { op: 'put', key, value, rq } });
  t.deepEqual(put('first', 'x', 'first', 'c1:1'), [{ id: 'first', ok: true, value: undefined }]);
  // SEEN_REQUESTS_MAX later requests of other keys, then x is written again.
  for (let i = 0; i < SEEN_REQUESTS_MAX; i++) put(`o${i}`, `k${i % 10}`, i, `c2:${i}`);
  put('second', 'x', 'second', 'c1:2');
  // Before, the late copy of c1:1 was applied again and put x back to 'first' (a write lost).
  const late = put('late', 'x', 'first', 'c1:1');
  t.like(late[0], { id: 'late', ok: false, code: 'TIMEOUT' });
  t.is(sm.data.get('x'), 'second');
  // A fresh request of the same client, and another client's, execute.
  t.like(put('fresh', 'x', 'third', 'c1:3')[0], { ok: true });
  t.like(put('other', 'y', 1, 'c3:1')[0], { ok: true });
  // A replica restored from a snapshot, and a passive primary's working copy, answer the same.
  const restored = new KvStateMachine();
  restored.restore(JSON.parse(JSON.stringify(sm.snapshot())));
  t.is(restored.seen('c1:1'), 'forgotten');
  t.is(sm.clone().seen('c2:0'), 'forgotten');
  t.is(restored.seen('c2:99999'), undefined, 'a request numbered past the mark is new');
  // Ids not of the form client:number are only remembered, never marked.
  t.is(restored.seen('no-number'), undefined);
});

test(`the marks of forgotten requests are kept for SEEN_CLIENTS_MAX (${SEEN_CLIENTS_MAX}) clients at most, the newest`, (t) => {
  const sm = new KvStateMachine();
  const clients = SEEN_REQUESTS_MAX + SEEN_CLIENTS_MAX + 100;
  for (let i = 0; i < clients; i++) sm.apply({ k: 'op', id: `o${i}`, body: { op: 'put', key: 'k', value: i, rq: `client${i}:1` } });
  const marks = sm.snapshot().forgotten ?? [];
  t.is(marks.length, SEEN_CLIENTS_MAX);
  t.is(sm.seen('client0:1'), undefined, 'the first client lost its mark (it would be executed again)');
  t.is(sm.seen(`client${clients - SEEN_REQUESTS_MAX - 1}:1`), 'forgotten', 'the newest forgotten client keeps it');
});

test(`a replica's log asks for a snapshot once SNAPSHOT_EVERY_COMMANDS (${SNAPSHOT_EVERY_COMMANDS}) commands were applied, even when snapshotEvery slots are far off`, (t) => {
  const out = new Outbox<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision>();
  const snapshotEverySlots = 1_000;
  const log = new ReplicaLog(out, snapshotEverySlots);
  const ballot = { round: 1, id: 'a' };
  const perSlot = 64;
  const slots = Math.ceil((3 * SNAPSHOT_EVERY_COMMANDS) / perSlot);
  const dueAt: number[] = [];
  for (let index = 1; index <= slots; index++) {
    log.markChosen(
      index,
      ballot,
      Array.from({ length: perSlot }, (_, i) => ({ k: 'noop', n: i })),
    );
    log.advanceCommit();
    for (const d of out.take().decisions) {
      if (d.kind === 'snapshot-due') {
        dueAt.push(d.index);
        t.true(log.compact(d.index, { at: d.index }), `compaction at ${d.index}`);
      }
    }
  }
  t.true(slots < snapshotEverySlots, 'the slot count alone would never have asked');
  t.is(dueAt.length, Math.floor((slots * perSlot) / SNAPSHOT_EVERY_COMMANDS));
  for (let i = 0; i < dueAt.length; i++) {
    const since = dueAt[i]! - (i === 0 ? 0 : dueAt[i - 1]!);
    t.true(since * perSlot <= SNAPSHOT_EVERY_COMMANDS + perSlot, `snapshot ${i} came ${since} slots after the one before`);
  }
  // What the log still holds after the last compaction is below the bound.
  t.true((slots - log.snapshotIndex) * perSlot < SNAPSHOT_EVERY_COMMANDS);
  t.is(log.get(dueAt[0]!), undefined, 'slots at or before a snapshot are dropped');
});
