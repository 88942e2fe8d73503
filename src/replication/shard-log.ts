/**
 * Compaction of a server's durable log, which holds the Multi-Paxos records of every shard
 * group the server belongs to. Only what a restart still needs is kept in memory (see
 * ShardLog); every `checkpointEvery` records (replication.checkpointEvery, default
 * CHECKPOINT_EVERY_RECORDS) the log is replaced by a checkpoint of it.
 */
import { compareBallots, type Ballot } from '../protocols/ballot.js';
import type { MultiPaxosRecord } from '../protocols/multipaxos-messages.js';
import { describe } from '../core/errors.js';

/** Records a server appends before it replaces its log by a checkpoint. */
export const CHECKPOINT_EVERY_RECORDS = 8_000;

/** A persisted record: a Multi-Paxos record of shard `s`. */
export interface ShardRecord {
  s: number;
  r: MultiPaxosRecord;
}

/**
 * The records of one shard's Multi-Paxos log that a restart still needs: the highest ballot
 * promised (explicitly, or implied by an accepted or chosen slot), the last snapshot, and the records
 * of slots after it, in the order written. A snapshot at index i makes every slot record at
 * or below i obsolete.
 */
export interface ShardLog {
  promised: Ballot | undefined;
  records: MultiPaxosRecord[];
}

export function rememberRecord(log: ShardLog, r: MultiPaxosRecord): void {
  switch (r.type) {
    case 'promise':
      log.promised = log.promised === undefined || compareBallots(r.ballot, log.promised) > 0 ? r.ballot : log.promised;
      return;
    case 'accept':
    case 'chosen':
      // A slot's ballot counts as promised, as MultiPaxos's recovery takes it (its
      // constructor): a snapshot that drops the record must not lower the promise
      // the next restart recovers (seed 1712781 of a passive swarm: a chosen record's ballot,
      // folded into a snapshot and checkpointed, left the replica's promise lower after its
      // next restart than after the one before).
      log.promised = log.promised === undefined || compareBallots(r.ballot, log.promised) > 0 ? r.ballot : log.promised;
      log.records.push(r);
      return;
    case 'snapshot':
      // The snapshot goes first: later slot and commit records replay on top of it.
      log.records = [r, ...log.records.filter((x) => x.type !== 'snapshot' && x.type !== 'promise' && x.index > r.index)];
      return;
    default:
      log.records.push(r);
  }
}

export function checkpointOf(logs: ReadonlyMap<number, ShardLog>): ShardRecord[] {
  const out: ShardRecord[] = [];
  for (const [s, log] of logs) {
    if (log.promised !== undefined) out.push({ s, r: { type: 'promise', ballot: log.promised } });
    for (const r of log.records) out.push({ s, r });
  }
  return out;
}

/** Every shard's ShardLog on one server, and when to checkpoint. */
export class ShardLogs {
  private readonly logs = new Map<number, ShardLog>();
  /** Records appended since the last checkpoint. */
  private sinceCheckpoint = 0;
  /** Checkpoints this log has handed out since it was created (this incarnation of the server). */
  checkpoints = 0;
  /** A checkpoint was handed out in the current step (see `beginStep`; the broken variant only). */
  private checkpointedThisStep = false;
  /** `checkpointSoon()` was called and its checkpoint is not taken yet. */
  private asked = false;
  /** `checkpointAtNextStep()` was called and its checkpoint is not taken yet. */
  private askedStep = false;

  /**
   * `dropAfterCheckpoint` (testing only: the 'checkpoint-drops-tail' variant) drops the records
   * appended after a checkpoint in the same step from what is persisted (they stay in memory),
   * as a store that replaced the log after the step's appends once did (fixed in 478d88d).
   */
  constructor(
    private readonly checkpointEvery: number = CHECKPOINT_EVERY_RECORDS,
    private readonly dropAfterCheckpoint = false,
  ) {}

  /**
   * A new actor step begins (the broken variant forgets that the last one checkpointed).
   * Returns the checkpoint to write first when `checkpointAtNextStep` asked for one.
   */
  beginStep(): ShardRecord[] | undefined {
    this.checkpointedThisStep = false;
    if (!this.askedStep) return undefined;
    this.askedStep = false;
    return this.checkpoint();
  }

  /**
   * A simulator's fault site: checkpoint at the next append that holds an accepted slot (the
   * record a leader counts on once acknowledged), before its records, whatever the count
   * (`append` returns it as `before`). A checkpoint stands for the log as of its call, so the
   * records the step appends after it must be kept after it: what a store that got this
   * wrong loses, a restart then misses.
   */
  checkpointSoon(): void {
    this.asked = true;
  }

  /**
   * A simulator's fault site: checkpoint at the start of the server's next step, whatever it
   * handles (a timer tick comes every tick), so that a checkpoint can fall between two of a
   * shard's records that have nothing else written between them (a promise and the first
   * accept of its ballot, say).
   */
  checkpointAtNextStep(): void {
    this.askedStep = true;
  }

  /**
   * Read what a restart recovered: the records of each shard, in the order written. After
   * it, `compactNow()` says whether the log is much longer than what it holds.
   */
  recover(recovered: readonly ShardRecord[]): Map<number, MultiPaxosRecord[]> {
    const byShard = new Map<number, MultiPaxosRecord[]>();
    for (let i = 0; i < recovered.length; i++) {
      const record = recovered[i]!;
      // Its checksum held, but it is not a record of this log: a file written by something
      // else. Named, rather than a TypeError reading `r.type` of it at every restart.
      const shape = record as Partial<ShardRecord> | null;
      if (
        typeof shape !== 'object' ||
        shape === null ||
        !Number.isSafeInteger(shape.s) ||
        typeof shape.r !== 'object' ||
        shape.r === null ||
        typeof shape.r.type !== 'string'
      )
        throw new Error(
          `recovered log record ${i} is not a shard record ({ s: shard, r: { type, ... } }), got ${describe(record)}: the log was written by something else`,
        );
      let list = byShard.get(record.s);
      if (list === undefined) byShard.set(record.s, (list = []));
      list.push(record.r);
      rememberRecord(this.logOf(record.s), record.r);
    }
    return byShard;
  }

  /** After `recover`: a log much longer than what it holds is compacted at once (the restart read it all anyway). */
  compactNow(recovered: number): boolean {
    const kept = [...this.logs.values()].reduce((n, l) => n + l.records.length + 1, 0);
    return recovered > 2 * kept + 100;
  }

  /**
   * Records a shard's group persists: the durable records to append, in order, and the
   * checkpoint to write after them when one is due (and, asked for by `checkpointSoon`, one
   * to write before them).
   */
  append(
    shard: number,
    records: readonly MultiPaxosRecord[],
  ): { before: ShardRecord[] | undefined; append: ShardRecord[]; checkpoint: ShardRecord[] | undefined } {
    let before: ShardRecord[] | undefined;
    if (this.asked && records.some((r) => r.type === 'accept')) {
      this.asked = false;
      this.sinceCheckpoint = 0;
      this.checkpointedThisStep = true;
      before = this.checkpoint();
    }
    const log = this.logOf(shard);
    const append: ShardRecord[] = [];
    // The broken variant: after a checkpoint in this step, records reach memory only.
    const dropped = this.dropAfterCheckpoint && this.checkpointedThisStep;
    for (const r of records) {
      if (!dropped) append.push({ s: shard, r });
      rememberRecord(log, r);
    }
    this.sinceCheckpoint += records.length;
    if (this.sinceCheckpoint < this.checkpointEvery) return { before, append, checkpoint: undefined };
    this.sinceCheckpoint = 0;
    this.checkpointedThisStep = true;
    return { before, append, checkpoint: this.checkpoint() };
  }

  /** Everything a restart needs, as records. */
  checkpoint(): ShardRecord[] {
    this.checkpoints++;
    return checkpointOf(this.logs);
  }

  private logOf(shard: number): ShardLog {
    let log = this.logs.get(shard);
    if (log === undefined) this.logs.set(shard, (log = { promised: undefined, records: [] }));
    return log;
  }
}
