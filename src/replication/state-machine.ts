import { FifoOrder } from '../core/fifo-order.js';
import { FINISHED_TXNS_MAX, MEMORY_LIMITS_DEFAULT, SEEN_CLIENTS_MAX, SEEN_REQUESTS_MAX, type MemoryLimits } from '../core/limits.js';
import { assert } from '../core/assert.js';
import { describe } from '../core/errors.js';
import { ForgottenMarks } from '../core/forgotten-marks.js';
import type { RequestBody, TxnOp, TxnReads, TxnUnsafe } from './ops.js';

/**
 * The replicated key-value state machine of one shard. Every replica applies the same
 * commands in the same order and so reaches the same state; nothing here reads a clock or
 * draws randomness.
 *
 * Transactions use no-wait locking: a prepared transaction locks its keys until it commits or
 * aborts; a prepare that meets a lock votes no (no deadlocks, at the price of aborts). A
 * single-key operation on a locked key waits, in log order, until the lock is released, so a
 * read never sees a transaction half done.
 */
export type Command =
  /** A client operation, executed by every replica (active replication). */
  | ({ k: 'op'; id: string; body: RequestBody } & Chained)
  /**
   * The effect of an operation the primary executed (passive replication). `term` names the
   * primary's reign and `seq` numbers its effects (0: the barrier that opens the reign). An
   * effect was computed on the state its predecessors left, so it applies only right after
   * its predecessor: when a change of primary lost an earlier effect of the same reign (its
   * slot became a no-op), the later ones are refused instead of applied to a state they were
   * not computed for.
   */
  | { k: 'effect'; id: string; writes: Write[]; result: unknown; term: string; seq: number; rq?: string }
  /** Phase 1 of a transaction at this shard: lock and check, vote yes or no. */
  | ({ k: 'prepare'; txn: string; ops: TxnOp[] } & Chained)
  /** The outcome at this shard; `pc` carries the participant records written with it. */
  | ({ k: 'commit'; txn: string; pc?: unknown[]; tag?: string } & Chained)
  | ({ k: 'abort'; txn: string; pc?: unknown[]; tag?: string } & Chained)
  /** A commit-protocol participant's durable record, replicated so a new leader can resume it. */
  | ({ k: 'pc'; txn: string; record: unknown } & Chained)
  | { k: 'noop' };

/**
 * A command a passive or hybrid primary proposed and applied to its working copy, numbered in
 * its reign's sequence with its effects (`term`, `seq`; absent in active replication and for a
 * record proposed before the primary's barrier). Effects proposed after it were computed on a
 * state that includes it: if its slot is lost in a change of primary (a no-op takes it), the
 * next effect of the reign finds the sequence broken and is refused, as after a lost effect.
 * (Passive `check --seed 86128 --clients 48 --keys 8`: a commit's slot was lost, the effect of
 * a put computed after it was chosen, and the commit, proposed again by the next primary,
 * then wrote the transaction's older value over the acknowledged put.)
 */
export interface Chained {
  term?: string;
  seq?: number;
}

export interface Write {
  key: string;
  value?: unknown;
  del?: true;
}

/** What applying a command produced for whoever waits on it. */
export type Completion =
  | { id: string; ok: true; value: unknown }
  | { id: string; ok: false; code: 'VALIDATION' | 'UNAVAILABLE' | 'TIMEOUT'; message: string }
  | { txn: string; vote: boolean; reason?: string }
  | { txn: string; done: 'commit' | 'abort' };

export interface Snapshot {
  applied: number;
  /** The running hash of the commands applied (KvStateMachine.digest; absent in older snapshots). */
  digest?: number;
  seen: Array<[string, unknown]>;
  /** Per client, the highest request number forgotten from `seen` (absent in older snapshots). */
  forgotten?: Array<[string, number]>;
  effectTerm: string;
  effectSeq: number;
  data: Array<[string, unknown]>;
  prepared: Array<[string, TxnOp[]]>;
  pc: Array<[string, unknown[]]>;
  /**
   * Single-key operations waiting behind a transaction's locks, per key, in log order. They
   * run when the lock is released, on every replica alike, so a restored replica needs them.
   * (Optional only to read snapshots written before it existed.)
   */
  waiting?: Array<[string, Array<Extract<Command, { k: 'op' }>>]>;
  /** Transactions remembered as finished, oldest first: a late duplicate prepare is refused. */
  finished?: string[];
  /** Per coordinator incarnation, the highest transaction number forgotten (see forgottenTxns). */
  forgottenTxns?: Array<[string, number]>;
  /** What each prepared transaction read here, as its prepare found it (see readsOf). */
  readsAt?: Array<[string, TxnReads]>;
  /** What recently committed transactions read here, oldest first (see readsOf). */
  committedReads?: Array<[string, TxnReads]>;
}

/** The digest of a state machine that applied nothing (FNV-1a's offset basis). */
export const DIGEST_START = 0x811c9dc5;

/** FNV-1a of `s` on from `h`. */
function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The digest after `command` (see KvStateMachine.digest): its kind and what names it (a
 * request's id; an effect's id, reign and number; a transaction's id), not its whole body,
 * so that it costs a few dozen multiplications a command. Two logs that differ in a slot
 * differ in what names the command there, short of a request run twice with different
 * results.
 */
export function digestOf(h: number, command: Command): number {
  h = Math.imul(h ^ command.k.charCodeAt(0), 0x01000193);
  switch (command.k) {
    case 'op':
      return mixString(h, command.id);
    case 'effect':
      return Math.imul(mixString(mixString(h, command.id), command.term) ^ command.seq, 0x01000193) >>> 0;
    case 'noop':
      return h >>> 0;
    default:
      return mixString(Math.imul(h ^ command.k.charCodeAt(1), 0x01000193), command.txn);
  }
}

/** Operations waiting for one locked key, at most. Beyond it they fail at once. */
export const WAITERS_PER_KEY_MAX = 10_000;
/** Transactions remembered as finished, so a late duplicate prepare is refused (src/core/limits.ts). */
export { FINISHED_TXNS_MAX };
/**
 * The reason of a no vote on a prepare for a transaction that finished here already (one of
 * the last FINISHED_TXNS_MAX): a late copy of its prepare. The participant drops it rather
 * than aborting (ParticipantCore.forget).
 */
export const ALREADY_FINISHED = 'already finished';
/** The answer to a copy of a request older than the shard remembers (see forgottenUpTo). */
export const FORGOTTEN_MESSAGE = 'a late copy of a request older than the shard remembers: not executed again; the request may or may not have taken effect';
/** Request ids remembered with their results (src/core/limits.ts says why this many). */
export { SEEN_REQUESTS_MAX };

export class KvStateMachine {
  readonly data = new Map<string, unknown>();
  private readonly locks = new Map<string, string>();
  private readonly prepared = new Map<string, TxnOp[]>();
  private readonly waiting = new Map<string, Array<Extract<Command, { k: 'op' }>>>();
  /** Participant records per transaction still open at this shard. */
  readonly pc = new Map<string, unknown[]>();
  /** Oldest first (a Set keeps insertion order); `finishedOrder` says which to forget. */
  private readonly finishedSet = new Set<string>();
  private readonly finishedOrder: FifoOrder<string>;
  applied = 0;
  /**
   * A running hash of the commands applied (see digestOf), carried by snapshots: copies that
   * applied as many commands hold the same digest, or they applied different logs. A harness
   * compares it as a run goes (ProgressWatch in src/harness/scenario.ts), where the states
   * themselves would cost a snapshot each.
   */
  digest = DIGEST_START;
  private effectTerm = '';
  private effectSeq = -1;
  /** Results of recent requests by id, oldest first (a Map keeps insertion order). */
  private readonly seenResults = new Map<string, unknown>();
  /** The ids in `seenResults`, oldest first: the oldest is found without an iterator per remembered request. */
  private readonly seenOrder: FifoOrder<string>;
  /** What each prepared transaction read here, as its prepare found it. */
  private readonly readsAt = new Map<string, TxnReads>();
  /** What recently committed transactions read here (for a coordinator that missed the vote). */
  private readonly committedReads = new Map<string, TxnReads>();
  /** Insertion order of `committedReads` (which to forget first). */
  private readonly committedReadsOrder: FifoOrder<string>;
  /** Testing only: a broken transaction layer (see TxnUnsafe). */
  unsafe: TxnUnsafe | undefined;

  /**
   * Per client (the part of a request id before its last ':'), the highest request number
   * (the part after) whose result `seenResults` forgot. A client numbers its requests in
   * order, so a request at or below it that is not remembered was answered and forgotten (or,
   * reordered past SEEN_REQUESTS_MAX newer ones, never seen): either way it is not executed
   * (again). Without it a copy later than SEEN_REQUESTS_MAX requests of the shard (a
   * balancer's forward duplicated by the network: 4,096 requests in the 300 ms a copy may lag
   * in the check scenarios is over 13,000 a second on one shard) would be applied twice, as
   * test/limits-memory.part.ts shows. At most SEEN_CLIENTS_MAX clients.
   */
  private readonly forgottenUpTo = new ForgottenMarks(SEEN_CLIENTS_MAX);

  /**
   * Per coordinator incarnation (a transaction id `<region>:<incarnation>:<n>` before its last
   * ':'), the highest n that `finishedSet` forgot. A prepare at or below it, for a transaction
   * not prepared here, is a late copy of a finished transaction's prepare (or one of a
   * transaction open longer than FINISHED_TXNS_MAX transactions took to finish here): it is
   * refused as ALREADY_FINISHED. Without it such a copy would be prepared again, and the
   * coordinator, which remembers the outcome longer, could commit the writes a second time.
   * At most SEEN_CLIENTS_MAX incarnations; ids of any other form are not marked.
   */
  private readonly forgottenTxns = new ForgottenMarks(SEEN_CLIENTS_MAX);

  /** `limits`: the bounds of what it remembers (seenRequests, finishedTxns); a test may shrink them. */
  constructor(readonly limits: Readonly<MemoryLimits> = MEMORY_LIMITS_DEFAULT) {
    this.finishedOrder = new FifoOrder(limits.finishedTxns);
    this.seenOrder = new FifoOrder(limits.seenRequests);
    this.committedReadsOrder = new FifoOrder(limits.finishedTxns);
  }

  /**
   * The result of an earlier request with this id, if it is still remembered; 'forgotten' if
   * it is older than what is remembered (see forgottenUpTo).
   */
  seen(rq: string | undefined): { value: unknown } | 'forgotten' | undefined {
    if (rq === undefined) return undefined;
    if (this.seenResults.has(rq)) return { value: this.seenResults.get(rq) };
    return this.forgottenUpTo.covers(rq) ? 'forgotten' : undefined;
  }

  private remember_(rq: string | undefined, value: unknown): void {
    if (rq === undefined) return;
    const before = this.seenResults.size;
    this.seenResults.set(rq, value);
    if (this.seenResults.size === before) return; // Known already: it keeps its place.
    const evicted = this.seenOrder.added(rq, this.seenResults.size);
    if (evicted !== undefined) {
      this.seenResults.delete(evicted);
      this.forgottenUpTo.forgot(evicted);
    }
  }

  apply(command: Command): Completion[] {
    this.applied++;
    this.digest = digestOf(this.digest, command);
    if (command.k !== 'effect' && command.k !== 'noop' && command.term !== undefined) {
      // In the reign's sequence only right after its predecessor; otherwise the sequence stays
      // broken and the reign's later effects are refused (see Chained).
      if (command.term === this.effectTerm && command.seq === this.effectSeq + 1) this.effectSeq = command.seq;
    }
    switch (command.k) {
      case 'op':
        return this.applyOp(command);
      case 'effect':
        if (command.seq !== 0 && (command.term !== this.effectTerm || command.seq !== this.effectSeq + 1)) {
          return [
            { id: command.id, ok: false, code: 'UNAVAILABLE', message: 'the primary changed and an earlier operation of its reign was lost; not applied' },
          ];
        }
        this.effectTerm = command.term;
        this.effectSeq = command.seq;
        for (const w of command.writes) this.write(w);
        this.remember_(command.rq, command.result);
        return [{ id: command.id, ok: true, value: command.result }];
      case 'prepare':
        return [this.prepare(command.txn, command.ops)];
      case 'commit':
      case 'abort':
        return this.finish(command.txn, command.k);
      case 'pc': {
        // Finished here: remembered as finished, or, not prepared here and with no records,
        // at or below its incarnation's mark (isFinished). Records of a transaction open here
        // (prepared, or with records) must never be dropped. Kept past `finishedTxns`, a late
        // record (an earlier leader's, chosen after the outcome) stayed in `pc` for good and
        // made the transaction look open: a late copy of its prepare was prepared again, its
        // keys locked with no outcome to come (a class audit, session 64).
        if (command.txn === '' || (!this.prepared.has(command.txn) && this.isFinished(command.txn))) return [];
        // A Paxos Commit RM's 'prepared' record is proposed once its prepare was applied here,
        // and the transaction can only commit after the record is chosen (its vote waits for
        // it). Met where the transaction is not prepared, it is an earlier leader's, chosen
        // after a new leader aborted the transaction (the orphan watch): the vote never left.
        // Kept, it would make a transaction finished and forgotten (past `finishedTxns`) look
        // open (isFinished false): a late prepare copy would be prepared again, and a core
        // rebuilt from the log would believe this RM prepared it.
        if (!this.prepared.has(command.txn) && (command.record as { record?: { type?: unknown } } | null)?.record?.type === 'prepared') return [];
        let records = this.pc.get(command.txn);
        if (records === undefined) this.pc.set(command.txn, (records = []));
        records.push(command.record);
        return [];
      }
      case 'noop':
        return [];
    }
  }

  isLocked(key: string): boolean {
    return this.locks.has(key);
  }

  private applyOp(command: Extract<Command, { k: 'op' }>): Completion[] {
    const key = command.body.key;
    if (this.locks.has(key)) {
      let queue = this.waiting.get(key);
      if (queue === undefined) this.waiting.set(key, (queue = []));
      if (queue.length >= WAITERS_PER_KEY_MAX) {
        return [{ id: command.id, ok: false, code: 'VALIDATION', message: `too many operations waiting for locked key ${JSON.stringify(key)}` }];
      }
      queue.push(command);
      return [];
    }
    return [this.execute(command.id, command.body)];
  }

  /** Execute one operation on the current state (also what a passive primary runs). */
  execute(id: string, body: RequestBody): Completion {
    const earlier = this.seen(body.rq);
    if (earlier === 'forgotten') return { id, ok: false, code: 'TIMEOUT', message: FORGOTTEN_MESSAGE };
    if (earlier !== undefined) return { id, ok: true, value: earlier.value };
    const r = executeOn(this.data, body);
    if (!r.ok) return { id, ok: false, code: 'VALIDATION', message: r.message };
    for (const w of r.writes) this.write(w);
    this.remember_(body.rq, r.value);
    return { id, ok: true, value: r.value };
  }

  private write(w: Write): void {
    if (w.del) this.data.delete(w.key);
    else this.data.set(w.key, w.value);
  }

  private prepare(txn: string, ops: TxnOp[]): Completion {
    if (this.prepared.has(txn)) return { txn, vote: true };
    if (this.isFinished(txn)) return { txn, vote: false, reason: ALREADY_FINISHED };
    let lockedOut: string | undefined;
    for (const op of ops) {
      const holder = this.locks.get(op.key);
      if (holder !== undefined && holder !== txn) {
        lockedOut = `key ${describe(op.key)} is locked by another transaction`;
        break;
      }
    }
    if (lockedOut !== undefined && this.unsafe !== 'vote-before-prepare-durable') return { txn, vote: false, reason: lockedOut };
    const run = evaluateTxn(this.data, ops);
    if (!run.ok) return { txn, vote: false, reason: run.reason };
    this.prepared.set(txn, ops);
    this.readsAt.set(txn, run.reads);
    // The broken variants: locks dropped as soon as the vote is cast, or never taken when the
    // (already sent) vote meets another transaction's lock.
    if (this.unsafe === 'release-locks-at-prepare' || lockedOut !== undefined) return { txn, vote: true };
    for (const op of ops) this.locks.set(op.key, txn);
    return { txn, vote: true };
  }

  /**
   * What `txn` read at this shard: while it is prepared, what its prepare read (its keys are
   * locked, so that is also what it reads now); after it committed, what it read then (for
   * the last FINISHED_TXNS_MAX committed transactions); else undefined.
   */
  readsOf(txn: string): TxnReads | undefined {
    const ops = this.prepared.get(txn);
    if (ops !== undefined) {
      const at = this.readsAt.get(txn);
      if (at !== undefined) return at;
      const run = evaluateTxn(this.data, ops);
      return run.ok ? run.reads : undefined;
    }
    return this.committedReads.get(txn);
  }

  /** The vote a prepare of `ops` would get on the applied state now, and what it would read. */
  votePreview(txn: string, ops: TxnOp[]): { vote: boolean; reads: TxnReads } {
    if (!this.prepared.has(txn) && this.isFinished(txn)) return { vote: false, reads: [] };
    for (const op of ops) {
      const holder = this.locks.get(op.key);
      if (holder !== undefined && holder !== txn) return { vote: false, reads: [] };
    }
    const run = evaluateTxn(this.data, ops);
    return run.ok ? { vote: true, reads: run.reads } : { vote: false, reads: [] };
  }

  private finish(txn: string, outcome: 'commit' | 'abort'): Completion[] {
    const ops = this.prepared.get(txn);
    // Every participant voted yes before a commit, so its shard has the transaction prepared,
    // or finished it already (a late copy). A commit of neither would record the transaction
    // done and write nothing here: its writes at this shard lost while the other shards
    // applied theirs (Participants.drain drops such a commit before it is proposed).
    assert(
      outcome !== 'commit' || this.holdsTxn(txn) || this.unsafe !== undefined,
      `state machine: commit of ${txn}, which this shard neither prepared nor finished (its writes here would be lost)`,
    );
    this.remember(txn);
    this.pc.delete(txn);
    if (ops === undefined) return [{ txn, done: outcome }];
    this.prepared.delete(txn);
    const reads = this.readsAt.get(txn);
    this.readsAt.delete(txn);
    if (outcome === 'commit') {
      // Its own earlier ops are visible to its later ones: the ops run in order.
      const run = evaluateTxn(this.data, ops);
      if (run.ok) for (const w of run.writes) this.write(w);
      const read = reads ?? (run.ok ? run.reads : undefined);
      if (read !== undefined && ops.some((op) => op.op === 'get')) {
        const known = this.committedReads.has(txn);
        this.committedReads.set(txn, read);
        const forgotten = known ? undefined : this.committedReadsOrder.added(txn, this.committedReads.size);
        if (forgotten !== undefined) this.committedReads.delete(forgotten);
      }
    }
    const out: Completion[] = [{ txn, done: outcome }];
    for (const op of ops) {
      if (this.locks.get(op.key) === txn) this.locks.delete(op.key);
    }
    // Operations that waited for these keys run now, in the order they were applied.
    for (const op of ops) {
      const queue = this.waiting.get(op.key);
      if (queue === undefined) continue;
      this.waiting.delete(op.key);
      for (const waiter of queue) out.push(...this.applyOp(waiter));
    }
    return out;
  }

  private remember(txn: string): void {
    if (this.finishedSet.has(txn)) return;
    this.finishedSet.add(txn);
    // Not finished.shift() on a list of FINISHED_TXNS_MAX: that copies the list on every commit.
    const evicted = this.finishedOrder.added(txn, this.finishedSet.size);
    if (evicted === undefined) return;
    this.finishedSet.delete(evicted);
    this.forgottenTxns.forgot(evicted);
  }

  /** Finished here (committed or aborted): remembered as finished, or at or below its incarnation's mark (see forgottenTxns). */
  isFinished(txn: string): boolean {
    if (this.finishedSet.has(txn)) return true;
    return !this.pc.has(txn) && this.forgottenTxns.covers(txn);
  }

  /**
   * All replicated state: what a replica restored from it needs to go on exactly like this one.
   * It shares no list this one appends to: a snapshot is kept (the log's, sent to a lagging
   * copy and checkpointed later), and one that grew with later applies held what the slots
   * after its index add, which a copy that installs it then applies again.
   */
  snapshot(): Snapshot {
    return {
      applied: this.applied,
      digest: this.digest,
      seen: [...this.seenResults],
      forgotten: this.forgottenUpTo.entries(),
      effectTerm: this.effectTerm,
      effectSeq: this.effectSeq,
      data: [...this.data],
      prepared: [...this.prepared],
      // Until session 68 the lists themselves: a Paxos Commit round recorded after the snapshot
      // was in it too, and twice at a replica that caught up by it (test/audit-snapshot.part.ts).
      pc: [...this.pc].map(([txn, records]) => [txn, [...records]]),
      waiting: [...this.waiting].map(([key, queue]) => [key, [...queue]]),
      finished: [...this.finishedSet],
      forgottenTxns: this.forgottenTxns.entries(),
      readsAt: [...this.readsAt],
      committedReads: [...this.committedReads],
    };
  }

  restore(snapshot: Snapshot): void {
    this.data.clear();
    this.locks.clear();
    this.prepared.clear();
    this.waiting.clear();
    this.pc.clear();
    this.applied = snapshot.applied;
    this.digest = snapshot.digest ?? DIGEST_START;
    this.seenResults.clear();
    for (const [rq, value] of snapshot.seen) this.seenResults.set(rq, value);
    this.seenOrder.reset(this.seenResults.keys());
    this.forgottenUpTo.restore(snapshot.forgotten);
    this.effectTerm = snapshot.effectTerm;
    this.effectSeq = snapshot.effectSeq;
    for (const [k, v] of snapshot.data) this.data.set(k, v);
    for (const [txn, ops] of snapshot.prepared) {
      this.prepared.set(txn, ops);
      for (const op of ops) this.locks.set(op.key, txn);
    }
    // Copies, as snapshot() makes them: what is restored from is kept (a log's snapshot, sent and
    // checkpointed later; the original of a clone) and must not grow with what this one applies.
    for (const [txn, records] of snapshot.pc) this.pc.set(txn, [...records]);
    for (const [key, queue] of snapshot.waiting ?? []) this.waiting.set(key, [...queue]);
    this.finishedSet.clear();
    this.finishedOrder.reset([]);
    for (const txn of snapshot.finished ?? []) this.remember(txn);
    this.forgottenTxns.restore(snapshot.forgottenTxns);
    // What transactions read: a restored replica (or a primary's working copy) answers a
    // coordinator that missed the vote like the replica it was restored from.
    this.readsAt.clear();
    for (const [txn, reads] of snapshot.readsAt ?? []) this.readsAt.set(txn, reads);
    this.committedReads.clear();
    for (const [txn, reads] of snapshot.committedReads ?? []) this.committedReads.set(txn, reads);
    this.committedReadsOrder.reset(this.committedReads.keys());
  }

  /**
   * Prepared here, or finished here (remembered, or at or below a mark). A commit of a
   * transaction neither is not one this shard's log leads to: it voted yes in a log that this
   * replica has not applied (see Participants.drain).
   */
  holdsTxn(txn: string): boolean {
    return this.prepared.has(txn) || this.isFinished(txn);
  }

  /** Transactions prepared here and not yet finished. */
  hasOpenTransactions(): boolean {
    return this.prepared.size > 0;
  }

  /** How many transactions are prepared here and not yet finished (no list built). */
  openTransactionCount(): number {
    return this.prepared.size;
  }

  openTransactions(): string[] {
    return [...this.prepared.keys()];
  }

  clone(): KvStateMachine {
    const copy = new KvStateMachine(this.limits);
    copy.unsafe = this.unsafe;
    copy.restore(this.snapshot());
    return copy;
  }
}

export type ExecResult = { ok: true; value: unknown; writes: Write[] } | { ok: false; message: string };

/** One single-key operation against a map, without changing it: the value and the writes. */
export function executeOn(data: Map<string, unknown>, body: RequestBody): ExecResult {
  switch (body.op) {
    case 'get':
      return { ok: true, value: data.get(body.key), writes: [] };
    case 'put':
      return { ok: true, value: undefined, writes: [{ key: body.key, value: body.value }] };
    case 'delete':
      return { ok: true, value: undefined, writes: [{ key: body.key, del: true }] };
    case 'cas':
      if (!sameValue(data.get(body.key), body.expected)) return { ok: true, value: false, writes: [] };
      return { ok: true, value: true, writes: [{ key: body.key, value: body.value }] };
    case 'txn':
      return { ok: false, message: 'a transaction is not a single-key operation' };
  }
}

/**
 * A transaction's part at one shard run on `data` without changing it, op by op, so its own
 * earlier writes are visible to its later ops: what its gets read, the writes it makes, or why
 * it must vote no (a failed check, an append to a value that is not a list), which goes with
 * the vote to the client's AbortedError (a key of over 60 characters cut short, see describe).
 */
export function evaluateTxn(data: Map<string, unknown>, ops: TxnOp[]): { ok: true; reads: TxnReads; writes: Write[] } | { ok: false; reason: string } {
  const overlay = new Map<string, unknown>();
  const current = (key: string): unknown => (overlay.has(key) ? overlay.get(key) : data.get(key));
  const reads: TxnReads = [];
  for (const op of ops) {
    switch (op.op) {
      case 'check':
        if (!sameValue(current(op.key), op.value)) return { ok: false, reason: `check failed on key ${describe(op.key)}` };
        break;
      case 'get': {
        const v = current(op.key);
        reads.push(v === undefined ? [] : [v]);
        break;
      }
      case 'put':
        overlay.set(op.key, op.value);
        break;
      case 'delete':
        overlay.set(op.key, undefined);
        break;
      case 'append': {
        const v = current(op.key);
        if (v !== undefined && !Array.isArray(v)) return { ok: false, reason: `append to key ${describe(op.key)}, which holds a value that is not a list` };
        overlay.set(op.key, v === undefined ? [op.value] : [...(v as unknown[]), op.value]);
        break;
      }
    }
  }
  const writes: Write[] = [];
  for (const [key, value] of overlay) writes.push(value === undefined ? { key, del: true } : { key, value });
  return { ok: true, reads, writes };
}

/** Structural equality of codec-safe values (what cas and transaction checks compare). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
