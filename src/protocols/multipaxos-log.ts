/**
 * The replicated log of one Multi-Paxos replica: accepted and chosen slots, the commit index
 * (every slot up to it is chosen and its value held), the applied index, and the snapshot that
 * replaced the compacted prefix. It writes its own records and apply decisions to the outbox it
 * is given, so the Ready rule covers them.
 */
import { assert } from '../core/assert.js';
import { SNAPSHOT_EVERY_COMMANDS } from '../core/limits.js';
import { ballotEquals } from './ballot.js';
import type { Ballot } from './ballot.js';
import type { Outbox } from './types.js';
import type { MultiPaxosDecision, MultiPaxosMessage, MultiPaxosRecord, MultiPaxosSlot, MultiPaxosSnapshot } from './multipaxos-messages.js';

interface Slot {
  ballot: Ballot;
  commands: unknown[];
  chosen: boolean;
}

type MultiPaxosOutbox = Outbox<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision>;

export class ReplicaLog {
  private readonly slots = new Map<number, Slot>();
  private readonly out: MultiPaxosOutbox;
  private readonly snapshotEvery: number | undefined;
  private snapshot: MultiPaxosSnapshot = { index: 0, data: null };
  /** Every slot up to here is chosen and its value is held (or folded into the snapshot). */
  commitIndex = 0;
  /** Every slot up to here was reported to the host as applied. */
  applied = 0;
  /** The highest slot this replica holds anything for. */
  lastIndex = 0;
  private lastSnapshotDue = 0;
  /** Commands applied since the last snapshot was due: with batching, a slot holds many. */
  private commandsSinceSnapshotDue = 0;

  constructor(out: MultiPaxosOutbox, snapshotEvery: number | undefined) {
    this.out = out;
    this.snapshotEvery = snapshotEvery;
  }

  get snapshotIndex(): number {
    return this.snapshot.index;
  }

  currentSnapshot(): MultiPaxosSnapshot {
    return this.snapshot;
  }

  /** Rebuilds state from one durable record (no output). */
  replay(record: MultiPaxosRecord): void {
    switch (record.type) {
      case 'promise':
        return;
      case 'accept':
        if (record.index <= this.commitIndex || this.slots.get(record.index)?.chosen === true) return;
        this.put(record.index, { ballot: record.ballot, commands: record.commands, chosen: false });
        return;
      case 'chosen':
        if (record.index <= this.snapshot.index) return;
        this.put(record.index, { ballot: record.ballot, commands: record.commands, chosen: true });
        return;
      case 'commit':
        for (let i = Math.max(this.commitIndex, this.snapshot.index) + 1; i <= record.index; i++) {
          const slot = this.slots.get(i);
          assert(slot !== undefined, `multipaxos: commit record ${record.index} covers missing slot ${i}`);
          slot.chosen = true;
        }
        this.commitIndex = Math.max(this.commitIndex, record.index);
        return;
      case 'snapshot':
        this.dropThrough(record.index);
        this.snapshot = { index: record.index, data: record.data };
        this.commitIndex = Math.max(this.commitIndex, record.index);
        this.lastIndex = Math.max(this.lastIndex, record.index);
        return;
    }
  }

  /** After replay: hand the host its last snapshot, then re-apply the committed slots after it. */
  resume(): void {
    this.applied = this.snapshot.index;
    this.lastSnapshotDue = this.snapshot.index;
    this.commandsSinceSnapshotDue = 0;
    if (this.snapshot.index > 0) {
      this.out.decide({ kind: 'snapshot', index: this.snapshot.index, snapshot: this.snapshot.data });
    }
    this.applyCommitted();
  }

  get(index: number): Slot | undefined {
    return this.slots.get(index);
  }

  isChosen(index: number): boolean {
    return index <= this.commitIndex || this.slots.get(index)?.chosen === true;
  }

  /** Phase 2b: hold `commands` as accepted at `ballot`. A chosen slot keeps its value. */
  accept(index: number, ballot: Ballot, commands: unknown[]): void {
    if (this.isChosen(index)) return;
    const slot = this.slots.get(index);
    if (slot !== undefined && ballotEquals(slot.ballot, ballot)) return; // A duplicate.
    this.put(index, { ballot, commands, chosen: false });
    this.out.persist({ type: 'accept', index, ballot, commands });
  }

  /** `commands`, accepted at `ballot`, is chosen at `index`. */
  markChosen(index: number, ballot: Ballot, commands: unknown[]): void {
    if (this.isChosen(index)) return;
    const slot = this.slots.get(index);
    if (slot !== undefined && ballotEquals(slot.ballot, ballot)) {
      // The held value is the chosen one: a ballot proposes one value per slot.
      slot.chosen = true;
      return;
    }
    this.put(index, { ballot, commands, chosen: true });
    this.out.persist({ type: 'chosen', index, ballot, commands });
  }

  /**
   * The leader of `ballot` says every slot up to `leaderCommit` is chosen. Slots this replica
   * accepted at that same ballot hold the chosen value; others (older ballots, gaps) do not
   * and must be fetched.
   */
  learnCommit(ballot: Ballot, leaderCommit: number): void {
    const end = Math.min(leaderCommit, this.lastIndex);
    for (let i = this.commitIndex + 1; i <= end; i++) {
      const slot = this.slots.get(i);
      if (slot !== undefined && !slot.chosen && ballotEquals(slot.ballot, ballot)) slot.chosen = true;
    }
  }

  /** Moves the commit index over every chosen slot that follows it; applies them. */
  advanceCommit(): void {
    const before = this.commitIndex;
    while (this.slots.get(this.commitIndex + 1)?.chosen === true) this.commitIndex++;
    if (this.commitIndex === before) return;
    this.out.persist({ type: 'commit', index: this.commitIndex });
    this.applyCommitted();
  }

  /** Installs a snapshot that covers slots this replica has not committed. */
  installSnapshot(snapshot: MultiPaxosSnapshot): boolean {
    if (snapshot.index <= this.commitIndex) return false;
    this.out.persist({ type: 'snapshot', index: snapshot.index, data: snapshot.data });
    this.dropThrough(snapshot.index);
    this.snapshot = { index: snapshot.index, data: snapshot.data };
    this.commitIndex = snapshot.index;
    this.applied = snapshot.index;
    this.lastSnapshotDue = snapshot.index;
    this.commandsSinceSnapshotDue = 0;
    this.lastIndex = Math.max(this.lastIndex, snapshot.index);
    this.out.decide({ kind: 'snapshot', index: snapshot.index, snapshot: snapshot.data });
    this.advanceCommit();
    return true;
  }

  /** The host applied everything up to `index` and folded it into `data`. */
  compact(index: number, data: unknown): boolean {
    if (index <= this.snapshot.index || index > this.applied) return false;
    this.out.persist({ type: 'snapshot', index, data });
    this.dropThrough(index);
    this.snapshot = { index, data };
    return true;
  }

  /** Every slot held from `fromIndex` on, for a promise. */
  slotsFrom(fromIndex: number): MultiPaxosSlot[] {
    const list: MultiPaxosSlot[] = [];
    for (let i = Math.max(fromIndex, this.snapshot.index + 1); i <= this.lastIndex; i++) {
      const slot = this.slots.get(i);
      if (slot !== undefined) list.push({ index: i, ballot: slot.ballot, commands: slot.commands, chosen: this.isChosen(i) });
    }
    return list;
  }

  /** Committed slots from `fromIndex` on, at most `max` of them, for a lagging replica. */
  committedFrom(fromIndex: number, max: number): MultiPaxosSlot[] {
    const list: MultiPaxosSlot[] = [];
    const end = Math.min(this.commitIndex, fromIndex + max - 1);
    for (let i = Math.max(fromIndex, this.snapshot.index + 1); i <= end; i++) {
      const slot = this.slots.get(i);
      assert(slot !== undefined, `multipaxos: committed slot ${i} is missing`);
      list.push({ index: i, ballot: slot.ballot, commands: slot.commands, chosen: true });
    }
    return list;
  }

  private applyCommitted(): void {
    while (this.applied < this.commitIndex) {
      const index = ++this.applied;
      const slot = this.slots.get(index);
      assert(slot !== undefined, `multipaxos: applying missing slot ${index}`);
      slot.commands.forEach((command, offset) => this.out.decide({ kind: 'apply', index, offset, command }));
      this.commandsSinceSnapshotDue += slot.commands.length;
      // Every `snapshotEvery` slots, or sooner when the slots held since the last snapshot
      // carry SNAPSHOT_EVERY_COMMANDS commands: the log held in memory is bounded by both.
      if (
        this.snapshotEvery !== undefined &&
        (index - this.lastSnapshotDue >= this.snapshotEvery || this.commandsSinceSnapshotDue >= SNAPSHOT_EVERY_COMMANDS)
      ) {
        this.lastSnapshotDue = index;
        this.commandsSinceSnapshotDue = 0;
        this.out.decide({ kind: 'snapshot-due', index });
      }
    }
  }

  private put(index: number, slot: Slot): void {
    this.slots.set(index, slot);
    if (index > this.lastIndex) this.lastIndex = index;
  }

  private dropThrough(index: number): void {
    for (const i of this.slots.keys()) if (i <= index) this.slots.delete(i);
  }
}
