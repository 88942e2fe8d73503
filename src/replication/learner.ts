import type { LearnMessage, LearnPieceAck } from './messages.js';
import type { Command, Snapshot } from './state-machine.js';
import { KvStateMachine } from './state-machine.js';
import type { MemoryLimits } from '../core/limits.js';
import {
  decodePieces,
  encodedBytes,
  entryBytes,
  PieceAssembly,
  PiecedSnapshot,
  piecesOf,
  prefixWithin,
  SNAPSHOT_PIECES_WINDOW,
} from '../protocols/snapshot-pieces.js';

export type { LearnMessage } from './messages.js';

/**
 * Asynchronous replication to other regions (hybrid mode). The shard's leader feeds each
 * remote learner the commands it applied, in order; a learner applies them to its own copy
 * and acknowledges. The gap between the leader's applied index and a learner's acknowledged
 * one is the replication lag of that learner's region. (The messages are in messages.ts.)
 * A learner behind the leader's window of commands, or whose commands still to send take more
 * bytes than the state they lead to (see LearnerFeed.snapshotSmaller), gets a snapshot instead.
 * A snapshot too large for one message goes in pieces (see snapshot-pieces.ts): a window of
 * them ahead of what the learner acknowledged holding, sent again from there when no
 * acknowledgement comes; the learner installs it once it holds every piece, and drops them if
 * none came for LEARN_PIECES_KEPT_TICKS.
 */

/** Applied commands the leader keeps for learners; a learner further behind gets a snapshot. */
export const LEARN_BUFFER_MAX = 4_096;
/** Commands in one `learn` message. */
export const LEARN_BATCH_MAX = 512;
/** Ticks a learner's acknowledgement may take, or stay where it is while more is sent to it, before the leader sends again from it. */
export const LEARN_RESEND_TICKS = 20;
/**
 * Ticks a learner keeps the pieces of a snapshot after the last one came. A feed still sending
 * them sends again every LEARN_RESEND_TICKS without an answer: twenty of those, and it died or
 * moved on (see LearnerReplica.age).
 */
export const LEARN_PIECES_KEPT_TICKS = 20 * LEARN_RESEND_TICKS;

export class LearnerReplica {
  readonly sm: KvStateMachine;
  /** The pieces of a snapshot being received (kept in memory only: installed once whole). */
  private readonly incoming = new PieceAssembly();

  /** `unsafeOutOfOrder` (testing only): apply whatever arrives past the index, skipping gaps. `limits`: its state machine's bounds. */
  constructor(
    private readonly unsafeOutOfOrder = false,
    limits?: Readonly<MemoryLimits>,
  ) {
    this.sm = new KvStateMachine(limits);
  }

  /** Apply what the leader sent; returns the applied index to acknowledge. */
  receive(msg: Extract<LearnMessage, { type: 'learn' }>): number {
    if (msg.snapshot !== null && msg.snapshot.applied > this.sm.applied) this.sm.restore(msg.snapshot);
    for (const [index, command] of msg.entries) {
      if (this.unsafeOutOfOrder) {
        if (index <= this.sm.applied) continue;
        this.sm.apply(command);
        this.sm.applied = index;
        continue;
      }
      if (index !== this.sm.applied + 1) continue;
      this.sm.apply(command);
    }
    this.dropStalePieces();
    return this.sm.applied;
  }

  /**
   * A piece of a snapshot sent in pieces: installed (if ahead of this copy) once every piece of
   * it is in. Returns the applied index to acknowledge, and the pieces held of a snapshot still
   * incomplete.
   */
  receivePiece(msg: Extract<LearnMessage, { type: 'learn-piece' }>): { applied: number; piece?: LearnPieceAck } {
    if (msg.index > this.sm.applied) {
      const text = this.incoming.add(msg);
      const decoded = text === undefined ? undefined : decodePieces(text);
      if (decoded !== undefined) {
        const snapshot = decoded.data as Snapshot;
        if (snapshot.applied > this.sm.applied) this.sm.restore(snapshot);
      }
    }
    this.dropStalePieces();
    const held = this.incoming.header();
    if (held === undefined) return { applied: this.sm.applied };
    return { applied: this.sm.applied, piece: { index: held.index, hash: held.hash, next: this.incoming.next } };
  }

  /**
   * `n` ticks of the server passed: pieces of a snapshot none of which came for
   * LEARN_PIECES_KEPT_TICKS are dropped (memory only; the feed that sent them died, or moved
   * on to a snapshot it sends to no one here).
   */
  age(n: number): void {
    this.incoming.age(n, LEARN_PIECES_KEPT_TICKS);
  }

  /** Pieces of a snapshot this copy has caught up with otherwise are of no more use. */
  private dropStalePieces(): void {
    const held = this.incoming.header();
    if (held !== undefined && held.index <= this.sm.applied) this.incoming.clear();
  }
}

interface LearnerProgress {
  acked: number;
  sentUpTo: number;
  sinceSendTicks: number;
  /**
   * Ticks the learner's acknowledged index has not moved while commands sent to it wait for
   * one (0 when none does). A lost batch leaves a gap the learner cannot apply past: it skips
   * every later batch, and acknowledges the same index again. `sinceSendTicks` alone never ran
   * out while the shard kept writing (a batch every tick or so), and the learner stayed where
   * the loss left it until the writes paused (found by an audit, session 64).
   */
  stalledTicks: number;
  /** A snapshot being sent in pieces (the feed's `outgoing`): the learner holds every piece before `held`; those before `sent` are sent. */
  pieces: { index: number; hash: number; held: number; sent: number } | undefined;
}

/** The leader's side: a window of applied commands and each learner's progress. */
export class LearnerFeed {
  private readonly buffer: Array<[number, Command]> = [];
  private readonly progress = new Map<string, LearnerProgress>();
  /** The lag last reported per learner (see lagChanges). */
  private readonly lagReported = new Map<string, number>();
  /** The snapshot being sent in pieces, while a learner is sent it. */
  private outgoing: PiecedSnapshot | undefined = undefined;
  /**
   * The bytes of the state's snapshot at an applied index (see snapshotSmaller): the state
   * changes by applying a command or restoring a newer snapshot, and either moves the index
   * (a measure a little off would only make the choice a little off: either way is correct).
   */
  private measured: { applied: number; bytes: number } | undefined = undefined;

  /** `snapshotPieceBytes`: see MultiPaxosConfig.snapshotPieceBytes (unset: snapshots always go whole). */
  constructor(
    learners: string[],
    private readonly snapshotPieceBytes?: number,
  ) {
    for (const l of learners) this.progress.set(l, { acked: 0, sentUpTo: 0, sinceSendTicks: 0, stalledTicks: 0, pieces: undefined });
  }

  record(index: number, command: Command): void {
    // The window must be contiguous (tick() slices it by index): after a gap (this replica
    // applied commands as a follower, between two reigns) it starts again here, and learners
    // behind it get a snapshot.
    const last = this.buffer.length > 0 ? this.buffer[this.buffer.length - 1]![0] : undefined;
    if (last !== undefined && index !== last + 1) this.buffer.length = 0;
    this.buffer.push([index, command]);
    if (this.buffer.length > LEARN_BUFFER_MAX) this.buffer.shift();
  }

  /** `piece`: the pieces the learner holds of a snapshot sent in pieces. */
  ack(learner: string, applied: number, piece?: LearnPieceAck): void {
    const p = this.progress.get(learner);
    if (p === undefined) return;
    const t = p.pieces;
    if (t !== undefined) {
      // What the learner says it holds, even if less than it said before (it restarted).
      if (applied >= t.index) p.pieces = undefined;
      else if (piece !== undefined && piece.index === t.index && piece.hash === t.hash) {
        t.held = piece.next;
        if (t.sent < t.held) t.sent = t.held;
      }
    }
    if (applied < p.acked) {
      // Less than it acknowledged before: the learner restarted and lost its copy (it keeps no
      // log). Feed it again from where it is, from the buffer or with a snapshot.
      p.acked = applied;
      p.sentUpTo = applied;
      p.stalledTicks = 0;
      return;
    }
    if (applied > p.acked) p.stalledTicks = 0;
    p.acked = applied;
    if (p.sentUpTo < p.acked) p.sentUpTo = p.acked;
  }

  /** Messages to send this tick, given the leader's applied index and state. */
  tick(shard: number, applied: number, sm: KvStateMachine): Array<{ to: string; msg: LearnMessage }> {
    const out: Array<{ to: string; msg: LearnMessage }> = [];
    const first = this.buffer.length > 0 ? this.buffer[0]![0] : applied + 1;
    for (const [learner, p] of this.progress) {
      p.sinceSendTicks++;
      p.stalledTicks = p.sentUpTo > p.acked ? p.stalledTicks + 1 : 0;
      if (p.sinceSendTicks >= LEARN_RESEND_TICKS || p.stalledTicks >= LEARN_RESEND_TICKS) {
        // No answer for a resend period, or answers that no longer move: send again from what it holds.
        p.sentUpTo = p.acked;
        p.stalledTicks = 0;
      }
      if (p.sinceSendTicks >= LEARN_RESEND_TICKS && p.pieces !== undefined) p.pieces.sent = p.pieces.held;
      if (p.sentUpTo >= applied) {
        // Caught up as far as this leader knows. A learner that restarted since (it keeps no
        // log) only says so in an acknowledgement, and with no new command nothing would ask
        // for one: it would stay empty until the next write. So probe it now and then with an
        // empty batch; its answer (a lower applied index) makes ack() feed it again.
        if (p.sinceSendTicks >= LEARN_RESEND_TICKS) {
          p.sinceSendTicks = 0;
          out.push({ to: learner, msg: { type: 'learn', s: shard, entries: [], snapshot: null } });
        }
        continue;
      }
      // A snapshot for a learner behind the buffer, and for one whose commands still to send
      // take more bytes than the state they lead to (see snapshotSmaller); a learner being sent
      // one in pieces is sent the rest of them.
      if (p.sentUpTo + 1 < first || p.pieces !== undefined || this.snapshotSmaller(p.sentUpTo + 1 - first, sm)) {
        const snapshot = this.snapshotFor(first, p.sentUpTo, sm);
        if (snapshot instanceof PiecedSnapshot) {
          // Stays on this branch (sentUpTo unchanged) until the learner acknowledges it installed it.
          this.sendPieces(shard, learner, p, snapshot, out);
          continue;
        }
        p.sinceSendTicks = 0;
        p.pieces = undefined;
        out.push({ to: learner, msg: { type: 'learn', s: shard, entries: [], snapshot } });
        p.sentUpTo = applied;
        continue;
      }
      p.sinceSendTicks = 0;
      const start = p.sentUpTo + 1 - first;
      let entries = this.buffer.slice(start, start + LEARN_BATCH_MAX);
      if (entries.length === 0) continue;
      // As much as a message takes (a snapshot's share of it: see snapshotFor), from the sizes
      // its commands were given when proposed (see entryBytes).
      if (this.snapshotPieceBytes !== undefined) {
        const n = prefixWithin(entries, 2 * this.snapshotPieceBytes, entries.length, entryBytes);
        if (n < entries.length) entries = entries.slice(0, n);
      }
      out.push({ to: learner, msg: { type: 'learn', s: shard, entries, snapshot: null } });
      p.sentUpTo = entries[entries.length - 1]![0];
    }
    if (this.outgoing !== undefined) {
      let sending = false;
      for (const p of this.progress.values()) if (p.pieces !== undefined) sending = true;
      if (!sending) this.outgoing = undefined;
    }
    return out;
  }

  /**
   * Whether a learner still to be sent the buffer's commands from position `start` on is better
   * sent a snapshot: they take more than one message, and more bytes than the state now
   * encodes to. A learner that restarted empty (it keeps no log) or was cut off while the shard
   * kept writing was fed its commands a message a tick (2-5 of them under small limits) while
   * the state they lead to took a few messages: the log of a few keys written over and over
   * (120 KB) against their state (1.2 KB), and 3 quiet seconds did not catch it up (check
   * seeds 2300411 and 2301310 of `--shape random --nemesis swarm --mode hybrid --txn-share 0.2
   * --limits small --faults <every kind>`, session 65).
   */
  private snapshotSmaller(start: number, sm: KvStateMachine): boolean {
    // What one message takes (see tick): within it, a learner keeping up, no snapshot is measured.
    const messageBytes = this.snapshotPieceBytes === undefined ? Number.POSITIVE_INFINITY : 2 * this.snapshotPieceBytes;
    let limit: number | undefined;
    let total = 0;
    for (let i = start; i < this.buffer.length; i++) {
      total += entryBytes(this.buffer[i]!);
      if (limit === undefined && (total > messageBytes || i - start >= LEARN_BATCH_MAX)) limit = this.snapshotBytes(sm);
      if (limit !== undefined && total > limit) return true;
    }
    return false;
  }

  /** encodedBytes of the state's snapshot, measured again only once the state applied another command (see measured). */
  private snapshotBytes(sm: KvStateMachine): number {
    if (this.measured === undefined || this.measured.applied !== sm.applied) this.measured = { applied: sm.applied, bytes: encodedBytes(sm.snapshot()) };
    return this.measured.bytes;
  }

  /**
   * The snapshot for a learner behind the buffer or better sent one (at `from`, what was sent
   * to it): the one being sent in pieces if it is ahead of the learner and the buffer still
   * holds the commands after it, else the state now, in pieces if it is too large for one
   * message (see MultiPaxosConfig.snapshotPieceBytes). One no further than the learner would
   * be sent it again and again.
   */
  private snapshotFor(first: number, from: number, sm: KvStateMachine): Snapshot | PiecedSnapshot {
    const o = this.outgoing;
    if (o !== undefined && o.index + 1 >= first && o.index <= sm.applied && o.index > from) return o;
    const snapshot = sm.snapshot();
    const pieces = this.snapshotPieceBytes === undefined ? undefined : piecesOf(snapshot.applied, snapshot, this.snapshotPieceBytes);
    if (pieces === undefined) return snapshot;
    this.outgoing = pieces;
    return pieces;
  }

  /** Pieces of `pieces` to `learner`, a window ahead of what it holds (none if the window is out: see the resend in tick). */
  private sendPieces(shard: number, learner: string, p: LearnerProgress, pieces: PiecedSnapshot, out: Array<{ to: string; msg: LearnMessage }>): void {
    if (p.pieces === undefined || !pieces.is(p.pieces)) p.pieces = { index: pieces.index, hash: pieces.hash, held: 0, sent: 0 };
    const t = p.pieces;
    const until = Math.min(pieces.of, t.held + SNAPSHOT_PIECES_WINDOW);
    if (t.sent >= until) return;
    p.sinceSendTicks = 0;
    for (; t.sent < until; t.sent++) {
      const { index, hash, size, of, at, text } = pieces.piece(t.sent);
      out.push({ to: learner, msg: { type: 'learn-piece', s: shard, index, hash, size, of, at, text } });
    }
  }

  /**
   * Ticks (at the leader, applied index `applied`) that may pass before `tick` sends something
   * or `lagChanges` has a change to report: 1 while a learner is behind, else until the next
   * probe. Ticks before that only count (see `advance`).
   */
  ticksUntilDue(applied: number): number {
    let k = LEARN_RESEND_TICKS;
    for (const [learner, p] of this.progress) {
      if (p.sentUpTo < applied) return 1;
      if ((this.lagReported.get(learner) ?? 0) !== Math.max(0, applied - p.acked)) return 1;
      if (LEARN_RESEND_TICKS - p.sinceSendTicks < k) k = LEARN_RESEND_TICKS - p.sinceSendTicks;
      if (p.sentUpTo > p.acked && LEARN_RESEND_TICKS - p.stalledTicks < k) k = LEARN_RESEND_TICKS - p.stalledTicks;
    }
    return Math.max(1, k);
  }

  /** `n` ticks that only count (below `ticksUntilDue`): the same as `n` calls of `tick`. */
  advance(n: number): void {
    for (const p of this.progress.values()) {
      p.sinceSendTicks += n;
      if (p.sentUpTo > p.acked) p.stalledTicks += n;
    }
  }

  /** Lag of each learner in commands: leader applied minus learner acknowledged. */
  lags(applied: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [learner, p] of this.progress) out.set(learner, Math.max(0, applied - p.acked));
    return out;
  }

  /**
   * The changes that take back every lag reported (to 0): a replica that stops leading reports
   * nothing more, and the next leader's feed reports the lags from 0. Empty when nothing is out.
   */
  withdrawLag(): Array<{ learner: string; delta: number }> {
    if (this.lagReported.size === 0) return [];
    const out: Array<{ learner: string; delta: number }> = [];
    for (const [learner, before] of this.lagReported) if (before !== 0) out.push({ learner, delta: -before });
    this.lagReported.clear();
    return out;
  }

  /**
   * How each learner's lag changed since the last call (learners whose lag did not change are
   * left out), so a gauge summed over shards can be kept by deltas.
   */
  lagChanges(applied: number): Array<{ learner: string; delta: number }> {
    const out: Array<{ learner: string; delta: number }> = [];
    for (const [learner, lag] of this.lags(applied)) {
      const before = this.lagReported.get(learner) ?? 0;
      if (lag === before) continue;
      out.push({ learner, delta: lag - before });
      this.lagReported.set(learner, lag);
    }
    return out;
  }
}
