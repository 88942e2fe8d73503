/**
 * A sender's lives as a receiver keeps them, to tell a copy or an overtaken message from a new
 * one: the life (incarnation id) seen last, the number of lives seen but the first, the
 * highest seq seen of that life, and the lives seen before it (the last PAST_LIVES_MAX), each
 * with the highest seq seen of it. A region actor keeps its servers' heartbeats so, a balancer
 * its regions' digests, a server its region actor's down-members notices.
 */
export interface Lives {
  id: string;
  n: number;
  seq: number;
  past: Map<string, number>;
}

/** Incarnation ids of a sender's earlier lives remembered (with their highest seq), to tell a late message from a restart. */
export const PAST_LIVES_MAX = 64;

/**
 * Records message `seq` of `sender`'s life `id` in `lives`: the sender's Lives, or undefined
 * when the seq is not above the highest seen of that life (a copy the network made, or one
 * overtaken by a later one), which the caller drops. A life not seen before is one more
 * restart (`n`). A message of a life seen already, delayed past a later one's (reordered), is
 * not, and still counts: lives are told apart by id only, and ids have no order. A life that
 * died at once can be seen after the one that followed it; dropping the messages of lives seen
 * before the newest id held the running one down for good (`meridian check --seed 821690
 * --shape random --nemesis swarm --mode passive --txn-share 0.2`: r1/0 restarted and lost power
 * at 3,999 ms, restarted at 4,099; the heartbeat of the 0 ms life came 160 ms late under a
 * reorder fault, and every later one was dropped as stale).
 */
export function newInLife(lives: Map<string, Lives>, sender: string, id: string, seq: number): Lives | undefined {
  let l = lives.get(sender);
  const lastSeq = l === undefined ? undefined : l.id === id ? l.seq : l.past.get(id);
  if (lastSeq !== undefined && seq <= lastSeq) return undefined;
  if (l === undefined) lives.set(sender, (l = { id, n: 0, seq, past: new Map() }));
  else if (l.id === id) l.seq = seq;
  else if (lastSeq !== undefined) l.past.set(id, seq);
  else {
    l.past.set(l.id, l.seq);
    if (l.past.size > PAST_LIVES_MAX) l.past.delete(l.past.keys().next().value!);
    l.id = id;
    l.seq = seq;
    l.n++;
  }
  return l;
}

/** The parts taken of a sender's newest message in parts (a digest, a down-members notice): its life, its seq, and the parts' numbers. */
export interface PartsTaken {
  id: string;
  seq: number;
  parts: Set<number>;
}

/**
 * A message of seq `seq` of life `id`, `part` of several or whole (undefined), where `taken`
 * holds the parts taken of the sender's newest message in parts: 'more' if it is another part
 * of that message (recorded in `taken`), 'copy' if one taken already, else 'new' if it is new in
 * its life (newInLife; `taken` then holds it if it is a part, and none if it is whole), else
 * undefined (a copy or overtaken). The first part of a seq to come stands for the message (a
 * heartbeat, a replacement), and each other part brings only what it lists: parts are equal in
 * standing, so a reordered pair loses nothing.
 */
export function newPart(
  lives: Map<string, Lives>,
  taken: Map<string, PartsTaken>,
  sender: string,
  id: string,
  seq: number,
  part: number | undefined,
): 'new' | 'more' | 'copy' | undefined {
  const t = taken.get(sender);
  if (part !== undefined && t !== undefined && t.id === id && t.seq === seq) {
    if (t.parts.has(part)) return 'copy';
    t.parts.add(part);
    return 'more';
  }
  if (newInLife(lives, sender, id, seq) === undefined) return undefined;
  if (part !== undefined) taken.set(sender, { id, seq, parts: new Set([part]) });
  else if (t !== undefined) taken.delete(sender);
  return 'new';
}
