import type { GroupOutput, GroupReplica } from '../../src/replication/group.js';
import { passiveReplica } from './groups.js';

/** Three passive replicas of one shard, driven by hand, and the replies they gave, by rid. */
export interface Shard {
  groups: Map<string, GroupReplica>;
  replies: Map<number, Extract<GroupOutput, { kind: 'reply' }>>;
}

const ids = ['a', 'b', 'c'];

export function shard(sync: boolean): Shard {
  return { groups: new Map(ids.map((id) => [id, passiveReplica(id, ids, 0, sync ? {} : { sync: false })])), replies: new Map() };
}

/** Runs the groups until nothing moves; nothing to or from `cut` is delivered, nor any message `lost` picks. Replies are kept by rid. */
export function pump(s: Shard, cut: ReadonlySet<string> = new Set(), lost: (msg: { type: string }) => boolean = () => false): void {
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const [id, g] of s.groups) {
      const r = g.ready();
      for (const m of r.messages) {
        moved = true;
        if (cut.has(id) || cut.has(m.to) || lost(m.msg)) continue;
        s.groups.get(m.to)!.step(id, m.msg);
      }
      for (const out of g.takeOutputs()) {
        moved = true;
        if (out.kind === 'reply') s.replies.set(out.origin.rid, out);
      }
    }
    if (!moved) return;
  }
}

export function elect(s: Shard, id: string, cut?: ReadonlySet<string>): GroupReplica {
  const g = s.groups.get(id)!;
  g.core.campaign();
  pump(s, cut);
  return g;
}

let nextRid = 1;

/** Submits a get or a put (with a request id) at `g`; the rid its reply will carry. */
export function call(g: GroupReplica, op: 'get' | 'put', key: string, value?: unknown): number {
  const rid = nextRid++;
  const body = op === 'put' ? { op, key, value, rq: `c:${rid}` } : { op, key };
  if (!g.submit(body, { to: 'client', rid })) throw new Error(`${g.config.self} did not take the ${op}`);
  return rid;
}

/**
 * A primary (sync: true) has k = 1 chosen and acknowledged, then executes a put of k = 2 whose
 * accepts are all lost, then takes a get of k, confirmed by heartbeats. Returns the replies of
 * the second put and of the get (undefined: none). The get must read 1: the second put is not
 * chosen, and a failover may drop it.
 */
export function readBesideUnchosenWrite(): { second: GroupOutput | undefined; get: GroupOutput | undefined; first: GroupOutput | undefined } {
  const s = shard(true);
  const a = elect(s, 'a');
  const first = call(a, 'put', 'k', 1);
  pump(s);
  const noAccepts = (msg: { type: string }): boolean => msg.type === 'accept';
  const second = call(a, 'put', 'k', 2);
  pump(s, new Set(), noAccepts);
  const get = call(a, 'get', 'k');
  pump(s, new Set(), noAccepts);
  return { first: s.replies.get(first), second: s.replies.get(second), get: s.replies.get(get) };
}
