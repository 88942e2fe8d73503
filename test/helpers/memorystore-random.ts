/**
 * One seed of the simulator's durable store (MemoryDurableStore) against a model of what a disk
 * keeps (test/memorystore-random.part.ts runs it; test/helpers/core-mutant.ts runs it on a
 * scratch copy of dist/ with a bug put in, so the imports here are relative).
 *
 * Three actors' logs; at random: appends of 1-3 records (each record a new plain value, some of
 * them large), time passing, checkpoints (the log replaced by a snapshot record and the last few
 * records), power losses of some actors (the store's write-back window, a torn last record at
 * times, cut at any byte), and restarts, which read the log back. An actor that lost power
 * appends nothing until it restarted, as a real one. `fsync: true` in a quarter of the seeds.
 *
 * The model: every record appended, with the time it was appended; a checkpoint's records count
 * as synced; a power loss keeps what was synced (everything with `fsync: true`, else what is
 * older than the write-back window) and drops the rest. Checked at every restart and at the end:
 * the records read back are the model's, in order, and a torn tail is reported cut
 * (`tornTailsTruncated`) once per tear, the first time the log is read after it.
 */
import { Prng } from '../../src/core/prng.js';
import { MemoryDurableStore } from '../../src/runtime/durable-memory.js';

const ACTORS = ['r1/0', 'r2/0', 'r3/0'];
const STEPS = 220;

export interface MemoryStoreResult {
  problems: string[];
  fsync: boolean;
  powerLosses: number;
  /** Records a power loss dropped, by the model. */
  lost: number;
  tears: number;
  restarts: number;
  checkpoints: number;
}

interface Entry {
  record: unknown;
  /** When it was appended; -Infinity once synced (a checkpoint, or fsync). */
  at: number;
}

export function runSeed(seed: number): MemoryStoreResult {
  const prng = new Prng(`memorystore-random:${seed}`);
  const fsync = prng.chance(0.25);
  const writebackMs = 50 + prng.int(450);
  let now = 0;
  const store = new MemoryDurableStore();
  store.configure({ fsync, clock: () => now, writebackMs });
  const model = new Map<string, Entry[]>(ACTORS.map((a) => [a, []]));
  /** Actors that lost power and have not restarted. */
  const down = new Set<string>();
  const problems: string[] = [];
  const result: MemoryStoreResult = { problems, fsync, powerLosses: 0, lost: 0, tears: 0, restarts: 0, checkpoints: 0 };
  let next = 0;
  const newRecord = (): unknown => {
    const id = next++;
    if (prng.chance(0.1))
      return { s: id % 4, r: { type: 'snapshot', index: id, data: Array.from({ length: 20 + prng.int(200) }, (_, i) => [`k${i}`, `v${id}-${i}`]) } };
    return { s: id % 4, r: { type: prng.pick(['accept', 'promise', 'commit']), index: id, v: prng.chance(0.5) ? `value-${id}` : id } };
  };
  const restart = (actor: string, step: number): void => {
    const before = store.tornTailsTruncated;
    const read = store.load(actor);
    const expected = model.get(actor)!.map((e) => e.record);
    if (JSON.stringify(read) !== JSON.stringify(expected)) {
      problems.push(`step ${step}: ${actor} read back ${read.length} records where the disk keeps ${expected.length}: ${describeDiff(read, expected)}`);
      // Go on from what the store holds, so that one difference is reported once.
      model.set(
        actor,
        read.map((record) => ({ record, at: -Infinity })),
      );
    }
    if (down.delete(actor)) result.restarts++;
    const cut = store.tornTailsTruncated - before;
    const torn = tornBy.get(actor) ?? 0;
    if (cut !== torn) problems.push(`step ${step}: ${actor} had ${torn} torn tail(s) to cut at recovery, the store reports ${cut}`);
    tornBy.delete(actor);
  };
  /** Torn tails per actor, not yet read back. */
  const tornBy = new Map<string, number>();

  for (let step = 0; step < STEPS; step++) {
    const r = prng.next();
    const actor = prng.pick(ACTORS);
    if (r < 0.45) {
      if (down.has(actor)) continue;
      const records = Array.from({ length: 1 + prng.int(3) }, newRecord);
      store.append(actor, records);
      const at = fsync ? -Infinity : now;
      model.get(actor)!.push(...records.map((record) => ({ record, at })));
    } else if (r < 0.65) {
      now += prng.int(prng.chance(0.2) ? 1_000 : 120);
    } else if (r < 0.72) {
      if (down.has(actor)) continue;
      // A checkpoint: a snapshot record and the last few records, written at once, synced.
      const kept = model.get(actor)!.slice(-prng.int(4));
      const records = [newRecord(), ...kept.map((e) => e.record)];
      store.replace(actor, records);
      model.set(
        actor,
        records.map((record) => ({ record, at: -Infinity })),
      );
      result.checkpoints++;
    } else if (r < 0.82) {
      const victims = ACTORS.filter(() => prng.chance(0.5));
      if (victims.length === 0) victims.push(actor);
      const tear = prng.chance(0.5);
      const horizon = now - writebackMs;
      const loss = store.powerLoss(
        (a) => victims.includes(a),
        () => tear,
        (bytes) => 1 + prng.int(Math.max(1, bytes - 1)),
      );
      result.powerLosses++;
      let lost = 0;
      let torn = 0;
      for (const v of victims) {
        const entries = model.get(v)!;
        let keep = entries.length;
        while (keep > 0 && entries[keep - 1]!.at > horizon) keep--;
        if (keep < entries.length) {
          lost += entries.length - keep;
          if (tear) {
            torn++;
            tornBy.set(v, (tornBy.get(v) ?? 0) + 1);
          }
        }
        entries.length = keep;
        down.add(v);
      }
      result.lost += lost;
      result.tears += torn;
      if (loss.lost !== lost) problems.push(`step ${step}: a power loss of ${victims.join(', ')} lost ${loss.lost} records, the disk ${lost}`);
      if (loss.torn !== torn) problems.push(`step ${step}: a power loss of ${victims.join(', ')} tore ${loss.torn} records, the disk ${torn}`);
    } else {
      restart(actor, step);
    }
  }
  for (const actor of ACTORS) restart(actor, STEPS);
  // Read again, untouched since: the same records, nothing more to cut.
  for (const actor of ACTORS) restart(actor, STEPS + 1);
  return result;
}

function describeDiff(read: unknown[], expected: unknown[]): string {
  const n = Math.min(read.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (JSON.stringify(read[i]) !== JSON.stringify(expected[i])) return `first difference at ${i}: ${short(read[i])} against ${short(expected[i])}`;
  }
  return read.length > n ? `extra from ${n}: ${short(read[n])}` : `missing from ${n}: ${short(expected[n])}`;
}

function short(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
