import test from 'ava';
import { runScenario } from '../src/harness/scenario.js';
import { scenarioOptions } from '../src/harness/check-runner.js';
import { KvStateMachine, type Command } from '../src/replication/state-machine.js';

// Passive lost update (found 2026-12-01 by `meridian check --seeds 200 --from 86001 --mode
// passive --clients 48 --keys 8`: seed 86128 not linearizable). A primary proposed a
// transaction's commit (applying it to its working copy: key4 = 400010, the client told the
// transaction committed), then executed put key4 = 4400014 on that copy and proposed its
// effect. The change of primary that followed lost the commit's slot (a no-op took it) but
// kept the effect's; the effect applied, since only effects were numbered in the reign's
// sequence; then the next primary proposed the commit again, and it wrote 400010 over the
// acknowledged 4400014. Now every command a primary applies to its working copy is numbered
// with its effects (Chained in src/replication/state-machine.ts), so the effect is refused.

function put(key: string, value: unknown, term: string, seq: number): Command {
  return { k: 'effect', id: `${term}#${seq}`, writes: [{ key, value }], result: null, term, seq };
}

function fresh(): KvStateMachine {
  const sm = new KvStateMachine();
  sm.apply({ k: 'effect', id: 'T#0', writes: [], result: null, term: 'T', seq: 0 }); // the barrier
  sm.apply({ k: 'prepare', txn: 'X', ops: [{ op: 'put', key: 'key4', value: 400010 }], term: 'T', seq: 1 });
  return sm;
}

test('an effect proposed after a commit applies when the commit is chosen before it', (t) => {
  const sm = fresh();
  sm.apply({ k: 'commit', txn: 'X', term: 'T', seq: 2 });
  const [done] = sm.apply(put('key4', 4400014, 'T', 3));
  t.like(done, { ok: true });
  t.is(sm.data.get('key4'), 4400014);
});

test('an effect proposed after a commit whose slot was lost is refused, and the commit proposed again does not undo a later write', (t) => {
  const sm = fresh();
  sm.apply({ k: 'noop' }); // the commit's slot, lost in the change of primary
  const [refused] = sm.apply(put('key4', 4400014, 'T', 3));
  t.like(refused, { ok: false, code: 'UNAVAILABLE' });
  t.false(sm.data.has('key4'));
  // Later effects of the reign are refused too: the sequence stays broken.
  t.like(sm.apply(put('key5', 1, 'T', 4))[0], { ok: false, code: 'UNAVAILABLE' });
  // The next primary opens its reign and proposes the commit again.
  sm.apply({ k: 'effect', id: 'U#0', writes: [], result: null, term: 'U', seq: 0 });
  sm.apply({ k: 'commit', txn: 'X', term: 'U', seq: 1 });
  t.is(sm.data.get('key4'), 400010);
  t.like(sm.apply(put('key4', 7, 'U', 2))[0], { ok: true });
  t.is(sm.data.get('key4'), 7);
});

test('the passive seed that lost an acknowledged put passes', async (t) => {
  const r = await runScenario(scenarioOptions({ seed: 86128, mode: 'passive', clients: 48, keys: 8 }));
  t.log(`seed 86128: ${r.ok ? 'ok' : 'FAILED'} ${r.check.verdict}${r.failures.length > 0 ? ` (${r.failures.join('; ')})` : ''}`);
  t.true(r.ok, r.failures.join('; '));
});
