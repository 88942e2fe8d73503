/**
 * One seed of duelling Multi-Paxos leaders at the level of the cores (test/multipaxos-duel.part.ts
 * runs it; test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so
 * the imports here are relative).
 *
 * Where `chaos` (test/helpers/multipaxos-cluster.ts) spreads its faults over everything, this
 * model aims at what phase 1 of a new leader is there for: a slot that holds two values under two
 * ballots at different acceptors, the newer one chosen, and a next leader whose promises report
 * both. Three replicas, or five in a third of the seeds; a few episodes of three leaders each:
 *
 *   - A leader A (elected by `campaign`, its phase 1 through a lossy network) proposes a command
 *     or two; its accepts reach few acceptors and few of their replies come back, so its values
 *     sit at a minority (and now and then reach a majority: no duel then). Then A crashes, or is
 *     cut off, as it goes.
 *   - A second leader B, elected by whoever's promises arrive first (random order, some lost),
 *     often hears of none of A's values and proposes its own in the same slots; most of its
 *     accepts arrive, half of the replies, and its commit announcements are mostly lost: its
 *     values are chosen but hardly anyone knows. Then B crashes (or is cut off) and A is back.
 *   - A third leader C (anyone up but B) runs phase 1 with a quorum that may mix both: it must
 *     re-propose, per slot, the value of the highest ballot it hears of.
 *   - Then, now and then, a phase without faults settles the log; messages lost on the way are
 *     put back late now and then (refused by acceptors that promised higher); a node ticks now
 *     and then (heartbeats, accept re-sends, check quorum, an election of its own).
 *
 * Checked, with no reference to how the core picks values:
 *   - no core assertion fails, and the hosts' checks (test/helpers/multipaxos-cluster.ts: one
 *     command per log position everywhere, no slot passed over as a no-op where another replica
 *     applied a command, each command at one position) hold;
 *   - one value chosen per slot: from every replica's durable `accept` records (the Net's logs
 *     only grow), a value is chosen for a slot when a majority accepted it at one ballot; no slot
 *     may have two values chosen;
 *   - what is applied was chosen: every command a replica applies (in any incarnation) is the
 *     one at its offset of the slot's chosen value, and no slot is applied that no majority
 *     accepted;
 *   - replicas' states are prefixes of each other at the end.
 */
import { Prng } from '../../src/core/prng.js';
import { compareBallots, formatBallot } from '../../src/protocols/ballot.js';
import type { Ballot } from '../../src/protocols/ballot.js';
import type { MultiPaxosMessage } from '../../src/protocols/multipaxos.js';
import type { InFlight } from '../protocols-net.js';
import { Cluster } from './multipaxos-cluster.js';

const EPISODES = 5;

export interface MultiPaxosDuelResult {
  problems: string[];
  replicas: number;
  /** Slots that ended with two values accepted under two ballots, the higher one's chosen. */
  duels: number;
  /** Episodes whose third leader was elected. */
  episodes: number;
  applied: number;
}

type Msg = InFlight<MultiPaxosMessage>;

export function runSeed(seed: number): MultiPaxosDuelResult {
  const prng = new Prng(`multipaxos-duel:${seed}`);
  const n = prng.chance(1 / 3) ? 5 : 3;
  const majority = Math.floor(n / 2) + 1;
  const c = new Cluster(n, { seed, maxBatch: 2, maxInflight: 3, ...(prng.chance(0.3) ? { snapshotEvery: 3 + prng.int(4) } : {}) });
  const problems: string[] = [];
  /** Messages lost on the way, some of which come back late. */
  const late: Msg[] = [];
  let next = 0;
  let episodes = 0;
  const up = (): string[] => c.ids.filter((id) => !c.net.down.has(id));

  /**
   * Delivers messages in flight in random order, each with the chance `keep` gives it (else lost,
   * and kept aside to come back late now and then), until none is left or `until` holds.
   */
  const drain = (keep: (m: Msg) => number, until: () => boolean = () => false, steps = 400): void => {
    for (let i = 0; i < steps && c.net.queue.length > 0 && !until(); i++) {
      const m = prng.pick(c.net.queue);
      if (prng.chance(keep(m))) {
        if (prng.chance(0.03)) c.net.queue.push({ ...m });
        c.net.deliverWhere((x) => x === m);
      } else {
        c.net.dropWhere((x) => x === m);
        if (prng.chance(0.3)) late.push(m);
      }
      if (prng.chance(0.02)) {
        const id = prng.pick(up());
        c.net.tick(1, [id]);
      }
      if (late.length > 0 && prng.chance(0.02)) c.net.queue.push(late.splice(prng.int(late.length), 1)[0]!);
    }
  };
  /** `id` campaigns through a network that loses `loss` of the messages; true if it leads. */
  const elect = (id: string, loss: number): boolean => {
    for (let attempt = 0; attempt < 3 && !c.net.down.has(id); attempt++) {
      c.net.act(id, (core) => core.campaign());
      drain(
        () => 1 - loss,
        () => c.core(id).isLeader(),
      );
      if (c.core(id).isLeader()) return true;
    }
    return false;
  };
  const propose = (id: string): void => {
    const k = 1 + prng.int(2);
    c.net.act(id, (core) => {
      for (let i = 0; i < k; i++) core.propose(`cmd${next++}`);
    });
  };
  /** A leader goes: crashed (what it sent and is still in flight, lost) or cut off. */
  const leave = (id: string): 'crash' | 'isolate' => {
    if (prng.chance(0.65)) {
      c.net.crash(id);
      c.net.dropWhere((m) => m.from === id);
      return 'crash';
    }
    c.net.isolate(id);
    return 'isolate';
  };
  const bringBack = (id: string, how: 'crash' | 'isolate'): void => {
    if (how === 'crash') c.net.restart(id);
    else c.net.heal();
  };
  const leaderMessage = (m: Msg): boolean => m.msg.type === 'commit' || m.msg.type === 'heartbeat';

  try {
    for (let e = 0; e < EPISODES; e++) {
      // A: its values reach a minority.
      const a = prng.pick(up());
      if (!elect(a, 0.1)) continue;
      drain(() => 0.95);
      propose(a);
      const reachA = 0.1 + 0.3 * prng.next();
      drain((m) => {
        if (m.from === a && m.msg.type === 'accept') return reachA;
        if (m.to === a && m.msg.type === 'accepted') return 0.5;
        if (m.from === a && leaderMessage(m)) return 0.3;
        return 0.9;
      });
      const aGone = leave(a);
      // B: elected by the promises that arrive first; its values mostly chosen, hardly anyone told.
      const b = prng.pick(up().filter((id) => id !== a));
      const bLead = elect(b, 0.1);
      if (bLead) {
        propose(b);
        drain((m) => {
          if (m.from === b && m.msg.type === 'accept') return 0.85;
          if (m.to === b && m.msg.type === 'accepted') return 0.5;
          if (m.from === b && leaderMessage(m)) return 0.15;
          return 0.9;
        });
      }
      const bGone = leave(b);
      bringBack(a, aGone);
      if (bGone === 'isolate') c.net.isolate(b);
      // C: anyone up but B; its quorum may hear both.
      const cands = up().filter((id) => id !== b);
      const cl = prng.pick(cands);
      if (elect(cl, 0.05)) {
        episodes++;
        drain(() => 0.9);
      }
      bringBack(b, bGone);
      if (prng.chance(0.5)) {
        // A phase without faults: everyone up, time passing until the log settles.
        c.net.heal();
        for (const id of c.ids) if (c.net.down.has(id)) c.net.restart(id);
        c.net.run(3 * 3);
      }
    }
    // The end: everyone up, no faults, time passing; a last command to carry the commit index.
    c.net.heal();
    for (const id of c.ids) if (c.net.down.has(id)) c.net.restart(id);
    for (let i = 0; i < 200 && c.leaders().length === 0; i++) c.net.run(1);
    const [leader] = c.leaders();
    if (leader !== undefined) c.net.act(leader, (core) => core.propose(`final`));
    c.net.run(20);
  } catch (error) {
    problems.push(`threw: ${(error as Error).message}`);
  }

  problems.push(...c.violations);

  // Chosen values, from the replicas' durable accept records.
  /** slot|ballot|value -> acceptors. */
  const votes = new Map<string, Set<string>>();
  /** Per slot: ballot and value of every accept record. */
  const accepted = new Map<number, Array<{ ballot: Ballot; value: string }>>();
  for (const id of c.ids) {
    for (const r of c.net.logs.get(id)!) {
      if (r.type !== 'accept') continue;
      const value = JSON.stringify(r.commands);
      const key = `${r.index}|${formatBallot(r.ballot)}|${value}`;
      let who = votes.get(key);
      if (who === undefined) votes.set(key, (who = new Set()));
      who.add(id);
      let list = accepted.get(r.index);
      if (list === undefined) accepted.set(r.index, (list = []));
      list.push({ ballot: r.ballot, value });
    }
  }
  /** Per slot: chosen value -> ballots it was chosen at. */
  const chosen = new Map<number, Map<string, string[]>>();
  for (const [key, who] of votes) {
    if (who.size < majority) continue;
    const [slot, ballot, value] = key.split('|') as [string, string, string];
    let byValue = chosen.get(Number(slot));
    if (byValue === undefined) chosen.set(Number(slot), (byValue = new Map()));
    byValue.set(value, [...(byValue.get(value) ?? []), ballot]);
  }
  for (const [slot, byValue] of chosen) {
    if (byValue.size > 1) problems.push(`slot ${slot}: two values chosen: ${[...byValue].map(([v, bs]) => `${v} at ${bs.join(', ')}`).join('; ')}`);
  }
  let duels = 0;
  for (const [slot, list] of accepted) {
    const byValue = chosen.get(slot);
    if (byValue === undefined || new Set(list.map((x) => x.value)).size < 2) continue;
    // The value of the highest ballot any acceptor accepted at this slot is among the chosen.
    const top = list.reduce((x, y) => (compareBallots(y.ballot, x.ballot) > 0 ? y : x));
    if (byValue.has(top.value)) duels++;
  }
  for (const ev of c.net.events) {
    const d = ev.decision;
    if (d.kind !== 'apply') continue;
    const byValue = chosen.get(d.index);
    if (byValue === undefined) {
      problems.push(`${ev.node} applied ${String(d.command)} at slot ${d.index}, which no majority accepted`);
      continue;
    }
    if (byValue.size !== 1) continue;
    const [value] = [...byValue.keys()] as [string];
    const commands = JSON.parse(value) as unknown[];
    if (commands[d.offset] !== d.command) {
      problems.push(`${ev.node} applied ${String(d.command)} at ${d.index}.${d.offset}; the slot's chosen value is ${value}`);
    }
  }
  const states = c.ids.map((id) => c.state(id));
  for (const s of states) {
    for (const t of states) {
      const k = Math.min(s.length, t.length);
      for (let i = 0; i < k; i++) {
        if (s[i] !== t[i]) {
          problems.push(`states diverge at ${i}: ${s[i]} and ${t[i]}`);
          break;
        }
      }
    }
  }
  return { problems: [...new Set(problems)], replicas: n, duels, episodes, applied: Math.max(...states.map((s) => s.length)) };
}
