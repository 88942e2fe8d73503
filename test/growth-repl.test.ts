/**
 * State of the replication and commit-protocol layers that must stay bounded over a long run
 * (a class audit of growing state, session 64): each test runs many operations through the
 * layer that owns the state, with the fault that used to leave something behind every time,
 * and checks what is left.
 */
import test from 'ava';
import type { GroupMode } from '../src/replication/group.js';
import { passiveReplica } from './helpers/groups.js';
import { call, elect, pump, type Shard } from './helpers/passive-reads.js';

/** Leader changes in the group test, each losing one command of the leader deposed. */
const LOST_REIGNS = 40;

for (const mode of ['active', 'passive'] as const satisfies readonly GroupMode[]) {
  test(`${mode}: a leader deposed with a command its successor never chose keeps no waiter for it once its log passes that slot`, (t) => {
    const ids = ['a', 'b', 'c'];
    const s: Shard = { groups: new Map(ids.map((id) => [id, passiveReplica(id, ids, 0, { mode })])), replies: new Map() };
    let leader = elect(s, 'a');
    t.true(leader.isLeader());
    const lost: number[] = [];
    for (let i = 0; i < LOST_REIGNS; i++) {
      // The leader takes a put whose accepts reach no one (it is cut off), and the next replica
      // is elected without it: the slot the put held goes to the new leader's own commands.
      const cut = new Set([leader.config.self]);
      lost.push(call(leader, 'put', `k${i}`, i));
      pump(s, cut);
      const next = s.groups.get(ids[(ids.indexOf(leader.config.self) + 1) % ids.length]!)!;
      elect(s, next.config.self, cut);
      t.true(next.isLeader(), `round ${i}: ${next.config.self} elected`);
      const put = call(next, 'put', `n${i}`, i);
      pump(s, cut);
      t.like(s.replies.get(put), { ok: true }, `round ${i}: the new leader's put is chosen`);
      // Healed: the old leader follows the new one and applies what was chosen in its slot.
      const old = leader;
      for (let k = 0; k < 40 && (old.isLeader() || old.core.status().applied < next.core.status().commitIndex); k++) {
        old.tick();
        next.tick();
        pump(s);
      }
      t.false(old.isLeader(), `round ${i}: ${old.config.self} stepped down`);
      t.true(old.core.status().applied >= next.core.status().commitIndex, `round ${i}: ${old.config.self} caught up`);
      leader = next;
    }
    // Unchanged: the lost puts are not answered by the groups (their callers' deadlines answer them).
    for (const rid of lost) t.false(s.replies.has(rid), `put ${rid} is not answered`);
    const waiters = ids.map((id) => s.groups.get(id)!.status().waiters);
    t.deepEqual(waiters, [0, 0, 0], `waiters left per replica after ${LOST_REIGNS} lost commands`);
  });
}
