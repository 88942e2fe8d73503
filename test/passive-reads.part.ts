import test, { type ExecutionContext } from 'ava';
import type { GroupReplica } from '../src/replication/group.js';
import { withMutant } from './helpers/core-mutant.js';
import { call, elect, pump, readBesideUnchosenWrite, shard, type Shard } from './helpers/passive-reads.js';

// A passive (or hybrid) primary with sync: true answers a linearizable read from its chosen
// state at its core's read index, as an active leader does: no log slot. With sync: false it
// acknowledges writes before they are chosen, so its reads stay effects in the log.

/** A shard whose primary `a` has k = 1 chosen and acknowledged. */
function primaryWithK1(t: ExecutionContext, sync = true): { s: Shard; a: GroupReplica } {
  const s = shard(sync);
  const a = elect(s, 'a');
  const put = call(a, 'put', 'k', 1);
  pump(s);
  t.like(s.replies.get(put), { ok: true }, 'the put is acknowledged once chosen');
  return { s, a };
}

test('passive, sync: true: a read takes no log slot and sees every write acknowledged before it', (t) => {
  const { s, a } = primaryWithK1(t);
  t.true(a.leaderCaughtUp(), 'a leads, its barrier applied');
  const before = a.core.status().lastIndex;
  const get = call(a, 'get', 'k');
  pump(s);
  t.like(s.replies.get(get), { ok: true, value: 1 });
  t.is(a.core.status().lastIndex, before, 'no slot for the read');
});

test('passive, sync: true: a read is answered from the chosen state, not from a write the primary executed and has yet to get chosen', async (t) => {
  const r = readBesideUnchosenWrite();
  t.like(r.first, { ok: true });
  t.is(r.second, undefined, 'the second put, its accepts lost, is not acknowledged');
  t.like(r.get, { ok: true, value: 1 }, 'confirmed by heartbeats, answered from what was chosen');
  // The mutant read-speculative (scripts/mutants.mjs) answers from the primary's working copy.
  const mutant = { mutant: 'read-speculative' };
  await withMutant(mutant.mutant, 'test/helpers/passive-reads.js', (exports) => {
    const m = (exports['readBesideUnchosenWrite'] as typeof readBesideUnchosenWrite)();
    t.like(m.get, { ok: true, value: 2 }, `${mutant.mutant} reads the write that is not chosen`);
  });
});

test('passive, sync: false: a read is an effect in the log', (t) => {
  const { s, a } = primaryWithK1(t, false);
  const before = a.core.status().lastIndex;
  const get = call(a, 'get', 'k');
  pump(s);
  t.like(s.replies.get(get), { ok: true, value: 1 });
  t.is(a.core.status().lastIndex, before + 1, 'the read took a slot');
});

test('passive, sync: true: a deposed primary that still leads in its own view answers no read; it hands it back when it steps down', (t) => {
  const { s, a } = primaryWithK1(t);
  // a is cut off; b is elected and writes a newer value.
  const cut = new Set(['a']);
  const b = elect(s, 'b', cut);
  t.true(b.leaderCaughtUp(), 'b leads');
  t.true(a.isLeader(), 'a still believes it leads');
  const newer = call(b, 'put', 'k', 2);
  pump(s, cut);
  t.like(s.replies.get(newer), { ok: true });
  const stale = call(a, 'get', 'k');
  pump(s, cut);
  t.false(s.replies.has(stale), 'no answer: no majority confirms that a still leads');
  // a's quorum check runs out: it steps down and refuses the read (a read changes nothing: definite).
  for (let i = 0; i < 30 && a.isLeader(); i++) {
    a.tick();
    pump(s, cut);
  }
  t.false(a.isLeader());
  t.like(s.replies.get(stale), { ok: false, code: 'UNAVAILABLE' });
});

test('passive, sync: true: a read of a key a prepared transaction holds waits in the log behind the lock', (t) => {
  const s = shard(true);
  const a = elect(s, 'a');
  t.true(a.proposePrepare('T', [{ op: 'put', key: 'k', value: 7 }]));
  pump(s);
  t.true(a.sm.isLocked('k'), 'T holds k');
  const before = a.core.status().lastIndex;
  const get = call(a, 'get', 'k');
  pump(s);
  t.false(s.replies.has(get), 'the read waits for T');
  t.true(a.core.status().lastIndex > before, 'in the log');
  t.true(a.proposeOutcome('T', 'commit'));
  pump(s);
  t.like(s.replies.get(get), { ok: true, value: 7 }, "it reads T's write");
});

test('passive, sync: true: a read that arrives while a new primary awaits its barrier is answered with what was chosen before it', (t) => {
  const { s } = primaryWithK1(t);
  const b = s.groups.get('b')!;
  b.core.campaign();
  // Elected within this step, its barrier not yet proposed or applied: the read is taken.
  const messages = b.ready().messages;
  for (const m of messages) s.groups.get(m.to)!.step('b', m.msg);
  for (const id of ['a', 'c']) for (const m of s.groups.get(id)!.ready().messages) if (m.to === 'b') b.step(id, m.msg);
  t.true(b.isLeader(), 'b won');
  const write = call(b, 'put', 'j', 2);
  t.is(b.status().held, 1, 'its barrier is not applied yet: a write waits for it');
  const get = call(b, 'get', 'k');
  t.is(b.status().held, 1, 'the read does not wait with the writes: it waits for its read index');
  pump(s);
  t.like(s.replies.get(get), { ok: true, value: 1 });
  t.like(s.replies.get(write), { ok: true });
});

test('passive, sync: true: a read confirmed after a transaction locked its key meanwhile waits in the log behind the lock', (t) => {
  const { s, a } = primaryWithK1(t);
  const get = call(a, 'get', 'k');
  // T's prepare is proposed in the same flush as the read's round: chosen and applied before
  // the round is confirmed, so the read finds k locked when it would be answered.
  t.true(a.proposePrepare('T', [{ op: 'put', key: 'k', value: 7 }]));
  pump(s);
  t.true(a.sm.isLocked('k'), 'T holds k');
  t.false(s.replies.has(get), 'the read waits for T');
  t.is(a.status().waiters, 1, 'as an operation in the log');
  t.true(a.proposeOutcome('T', 'commit'));
  pump(s);
  t.like(s.replies.get(get), { ok: true, value: 7 }, "it reads T's write");
});
