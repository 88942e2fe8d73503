/**
 * One seed of passive replication's effects (src/replication/state-machine.ts: a primary's
 * `effect` commands, numbered in its reign by `term` and `seq`) where an earlier effect of a reign
 * is lost and later ones of the same reign are chosen (test/effect-sequence.part.ts runs it;
 * test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so the
 * imports here are relative).
 *
 * Where test/helpers/statemachine-random.ts loses only the last few slots of a reign (in half its
 * seeds: the other half are active), this model aims at a hole: a change of primary that loses a
 * slot in the middle of a reign (a no-op fills it, or a value an older reign proposed for that
 * slot and nobody chose then) while the reign's later slots were chosen, as a pipelining leader's
 * can be.
 *
 * Per seed: three replicas, three to seven reigns. A reign's barrier (seq 0) is chosen; its
 * primary (one of the replicas, caught up to the barrier) computes each operation on a working
 * copy of its data (a plain map here, executeOn and the writes applied by the model): puts of
 * values unique to the operation, deletes, cas (matching or not), gets, and now and then a
 * record in the reign's sequence that changes no data (a `pc` command of no transaction),
 * numbering them 1, 2, ... The primary's states, after each prefix of its reign, are what the
 * checks compare with. When the reign ends, most often one slot in the middle is lost (and
 * others now and then); otherwise some of its last slots; a lost slot is a no-op or an older
 * reign's value for it; when the lost slots are the reign's last, the next barrier may take the
 * first of them. Replicas apply the log at their own pace, take snapshots, restart from their
 * last one (or empty) and install another's newer one.
 *
 * Checked, after every command a replica applies (and after every restore):
 * - its data is the data of its reign's primary after some prefix of the reign (the reign of the
 *   last barrier before its index; at a barrier, the reign before): never a state no primary
 *   had, as an effect applied on a state it was not computed for makes;
 * - replicas at the same index hold the same data;
 * - no assertion fails.
 * Nothing checked says which effects are refused, only which states may be reached.
 */
import { Prng } from '../../src/core/prng.js';
import { executeOn, KvStateMachine, type Command, type Snapshot, type Write } from '../../src/replication/state-machine.js';
import type { RequestBody } from '../../src/replication/ops.js';

type EffectCommand = Extract<Command, { k: 'effect' }>;
type ReignCommand = EffectCommand | Extract<Command, { k: 'pc' }>;

const REPLICAS = 3;
const KEYS = ['a', 'b', 'c', 'd', 'e'];
/** Of a reign whose lost slots are at its end, the last this many may be lost. */
const TAIL_MAX = 4;

export interface SeedResult {
  problems: string[];
  reigns: number;
  commands: number;
  /**
   * Reigns in which a command that changed the primary's state was lost and a later one of the
   * reign that changed it too was chosen (what an out-of-sequence effect needs to show).
   */
  holes: number;
  /** Slots lost to an older reign's value. */
  staleValues: number;
  restores: number;
}

class Stop extends Error {}

function showData(data: Map<string, unknown>): string {
  return JSON.stringify(
    [...data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    (_k, x: unknown) => (x === undefined ? '<undefined>' : x),
  );
}

function write(data: Map<string, unknown>, writes: Write[]): void {
  for (const w of writes) {
    if (w.del === true) data.delete(w.key);
    else data.set(w.key, w.value);
  }
}

interface Replica {
  sm: KvStateMachine;
  snap: Snapshot | undefined;
}

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`effect-sequence:${seed}`);
  const problems: string[] = [];
  const result: SeedResult = { problems, reigns: 3 + prng.int(5), commands: 0, holes: 0, staleValues: 0, restores: 0 };
  const problem = (what: string): never => {
    problems.push(what);
    throw new Stop();
  };

  const log: Command[] = [];
  /** By log index (1-based; 0: nothing applied), the reign of the last barrier before it. */
  const reignAt: number[] = [0];
  /** By reign (0: before the first barrier), its primary's states after each prefix. */
  const reignStates: Array<Set<string>> = [new Set([showData(new Map())])];
  /** By log index, the data of the first replica that reached it. */
  const dataAt: string[] = [showData(new Map())];
  const replicas: Replica[] = Array.from({ length: REPLICAS }, () => ({ sm: new KvStateMachine(), snap: undefined }));

  const check = (i: number, how: string): void => {
    const sm = replicas[i]!.sm;
    const at = sm.applied;
    const data = showData(sm.data);
    const reign = reignAt[at]!;
    const where = `replica ${i} at ${at} (${how}; reign ${reign})`;
    if (!reignStates[reign]!.has(data)) problem(`${where}: its data ${data} is not its reign's primary's after any prefix of the reign`);
    if (dataAt[at] === undefined) dataAt[at] = data;
    else if (dataAt[at] !== data) problem(`${where}: its data ${data} is not ${dataAt[at]}, another replica's at that index`);
  };
  const catchUp = (i: number, upTo: number): void => {
    const r = replicas[i]!;
    while (r.sm.applied < upTo) {
      const index = r.sm.applied + 1;
      const command = log[index - 1]!;
      r.sm.apply(structuredClone(command));
      if (r.sm.applied !== index) problem(`replica ${i}: applying log ${index} moved its index to ${r.sm.applied}`);
      check(i, `after ${command.k === 'effect' ? `effect ${command.term}/${command.seq}` : command.k}`);
    }
  };
  const replicaEvents = (): void => {
    const i = prng.int(REPLICAS);
    const r = replicas[i]!;
    const roll = prng.next();
    if (roll < 0.5) catchUp(i, Math.min(log.length, r.sm.applied + 1 + prng.int(8)));
    else if (roll < 0.7) r.snap = r.sm.snapshot();
    else if (roll < 0.85) {
      r.sm = new KvStateMachine();
      if (r.snap !== undefined) r.sm.restore(structuredClone(r.snap));
      result.restores++;
      check(i, 'restarted');
    } else {
      const newer = replicas.filter((o) => o.snap !== undefined && o.snap.applied > r.sm.applied);
      if (newer.length === 0) return;
      r.sm.restore(structuredClone(prng.pick(newer).snap!));
      result.restores++;
      check(i, 'installed a snapshot');
    }
  };

  let nextId = 0;
  const request = (data: Map<string, unknown>): RequestBody => {
    const key = prng.pick(KEYS);
    const roll = prng.next();
    if (roll < 0.55) return { op: 'put', key, value: `v${nextId}` };
    if (roll < 0.7) return { op: 'delete', key };
    if (roll < 0.88) return { op: 'cas', key, expected: prng.chance(0.7) ? data.get(key) : 'nothing', value: `v${nextId}` };
    return { op: 'get', key };
  };

  try {
    /** Values proposed for a slot and never chosen there, by log index. */
    const stale = new Map<number, ReignCommand[]>();
    for (let round = 1; round <= result.reigns; round++) {
      const primary = prng.int(REPLICAS);
      const term = `${round}.r${primary}`;
      log.push({ k: 'effect', id: `barrier${round}`, writes: [], result: null, term, seq: 0 });
      // The barrier changes no data: there, a replica holds what the previous reign left.
      reignAt.push(round - 1);
      catchUp(primary, log.length);
      const work = new Map(replicas[primary]!.sm.data);
      const states = [showData(work)];
      const reign: ReignCommand[] = [];
      for (let seq = 1, n = 2 + prng.int(10); seq <= n; seq++) {
        if (prng.chance(0.08)) {
          reign.push({ k: 'pc', txn: '', record: null, term, seq });
          states.push(showData(work));
          continue;
        }
        const body = request(work);
        const id = `x${nextId++}`;
        const r = executeOn(work, body);
        if (!r.ok) throw new Error(`executeOn refused ${JSON.stringify(body)}: ${r.message}`);
        write(work, r.writes);
        states.push(showData(work));
        reign.push({ k: 'effect', id, writes: r.writes, result: r.value, term, seq });
      }
      reignStates.push(new Set(states));

      // The reign ends: which of its slots were not chosen.
      const lost = reign.map(() => false);
      let keep = reign.length;
      if (prng.chance(0.75)) {
        // A hole: a slot in the middle lost, later ones chosen; others lost now and then.
        lost[prng.int(reign.length - 1)] = true;
        for (let j = 0; j < reign.length; j++) if (prng.chance(0.12)) lost[j] = true;
        // And now and then its last stretch (the next barrier may take it: older values come back).
        if (prng.chance(0.4)) for (let j = reign.length - 1 - prng.int(3); j < reign.length; j++) if (j >= 0) lost[j] = true;
      } else {
        const tail = Math.min(reign.length, prng.int(TAIL_MAX + 1));
        for (let j = reign.length - tail; j < reign.length; j++) lost[j] = prng.chance(0.5);
      }
      // The next primary may not have seen a lost last stretch: its barrier takes the first of those slots.
      if (prng.chance(0.7)) while (keep > 0 && lost[keep - 1]) keep--;
      // A hole that shows: a lost command that changed the state, a later chosen one that changed it too.
      const changes = (j: number): boolean => states[j + 1] !== states[j];
      const firstLost = lost.findIndex((x, j) => x && changes(j));
      if (firstLost >= 0 && lost.some((x, j) => !x && j > firstLost && j < keep && changes(j))) result.holes++;
      const start = log.length + 1; // The index of the reign's first slot after its barrier.
      for (let j = 0; j < keep; j++) {
        const slot = start + j;
        const older = stale.get(slot) ?? [];
        if (lost[j]) stale.set(slot, [...older, reign[j]!]);
        if (!lost[j]) log.push(reign[j]!);
        else if (older.length > 0 && prng.chance(0.6)) {
          log.push(structuredClone(prng.pick(older)));
          result.staleValues++;
        } else log.push({ k: 'noop' });
        reignAt.push(round);
      }
      for (let j = keep; j < reign.length; j++) {
        const slot = start + j;
        stale.set(slot, [...(stale.get(slot) ?? []), reign[j]!]);
      }
      for (let e = 1 + prng.int(5); e > 0; e--) replicaEvents();
    }
    for (let i = 0; i < REPLICAS; i++) catchUp(i, log.length);
  } catch (error) {
    if (!(error instanceof Stop)) problems.push(`threw: ${(error as Error).message}`);
  }
  result.commands = log.length;
  return result;
}
