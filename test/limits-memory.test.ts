import test from 'ava';
import { SEEN_REQUESTS_MAX, SNAPSHOT_EVERY_COMMANDS } from '../src/core/limits.js';
import { KvStateMachine } from '../src/replication/state-machine.js';
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
  t.is(sm.seen('client:0'), undefined, 'the oldest id is forgotten');
  t.deepEqual(sm.seen(`client:${total - 1}`), { value: undefined }, 'the newest id is remembered');
  // A duplicate of a remembered request answers without writing again.
  sm.apply({ k: 'op', id: 'dup', body: { op: 'put', key: 'k1', value: 'again', rq: `client:${total - 1}` } });
  t.not(sm.data.get('k1'), 'again');
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
