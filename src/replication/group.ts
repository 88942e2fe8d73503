import type { MemoryLimits } from '../core/limits.js';
import { assert } from '../core/assert.js';
import { Prng } from '../core/prng.js';
import { MultiPaxos, type MultiPaxosDecision, type MultiPaxosMessage, type MultiPaxosRecord } from '../protocols/multipaxos.js';
import { commandBytes } from '../protocols/snapshot-pieces.js';
import type { RequestBody, TxnOp } from './ops.js';
import { executeOn, FORGOTTEN_MESSAGE, KvStateMachine, type Command, type Completion, type Snapshot } from './state-machine.js';

/**
 * One replica of one shard's replication group: a Multi-Paxos core, the replicated state
 * machine, and what the mode adds on top.
 *
 * - `active` (state-machine replication): the leader proposes client commands; every replica
 *   executes them in log order. A linearizable read of a key no transaction holds takes no
 *   slot: the leader answers it from its state machine at its core's read index (see
 *   MultiPaxos.read).
 * - `passive` (primary-backup): the leader is the primary. It executes each operation on a
 *   speculative copy of the state and proposes the effect (the writes and the result);
 *   backups apply effects without executing. With `sync: true` a linearizable read of a key
 *   no transaction holds takes no slot, as in `active`; with `sync: false` it is an effect.
 *   The primary is chosen by Paxos (the leader election of Multi-Paxos), so there are never
 *   two primaries whose writes are accepted: an effect counts only once a majority accepted
 *   it at the primary's ballot. `sync: true` answers after the effect is chosen; `sync:
 *   false` answers once the primary applied it, with at most `lagBound` effects not yet
 *   chosen (acknowledged writes may be lost when the primary fails: the price of asynchrony).
 * - `hybrid`: passive within the primary's region (the Paxos group is there, a quorum of
 *   it is synchronous), and asynchronous learners in the other regions (see learner.ts).
 *
 * Pure: no IO, no clock. The host (the server actor) feeds messages and ticks, carries out
 * `ready()`, and answers whoever waits on completions.
 */
export type GroupMode = 'active' | 'passive' | 'hybrid';

export interface GroupConfig {
  shard: number;
  self: string;
  peers: string[];
  mode: GroupMode;
  sync: boolean;
  lagBound: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Multi-Paxos pre-vote (see MultiPaxosConfig.preVote; default false). */
  preVote?: boolean;
  maxBatch: number;
  maxInflight: number;
  snapshotEvery: number;
  /** See MultiPaxosConfig.snapshotPieceBytes (unset: snapshots always go whole). */
  snapshotPieceBytes?: number;
  seed: number;
  /** This replica's incarnation (changes on every restart): part of its command ids. */
  incarnation?: string;
  /** Testing only: a primary that acknowledges writes before they are chosen, in sync mode too. */
  unsafeAckBeforeChosen?: boolean;
  /** The state machine's memory bounds (default MEMORY_LIMITS_DEFAULT; tests shrink them). */
  limits?: Readonly<MemoryLimits>;
  /**
   * If set, a client's command (an active op, a primary's effect) that encodes to more is not
   * proposed but refused at once (UNAVAILABLE, definite): the host's messages that carry one
   * command (an accept, a catch-up's entries, a promise, a learner's batch) would be over
   * `messageBytesMax`, dropped, and the slot re-sent for ever (see server.ts commandBytesMax).
   */
  commandBytesMax?: number;
  /** The host's messageBytesMax, named in that refusal. */
  messageBytesMax?: number;
}

/** Where an answer goes: the address that asked and its correlation id. */
export interface Origin {
  to: string;
  rid: number;
}

export type GroupOutput =
  | { kind: 'reply'; origin: Origin; ok: true; value: unknown }
  | { kind: 'reply'; origin: Origin; ok: false; code: 'UNAVAILABLE' | 'VALIDATION' | 'TIMEOUT'; message: string }
  | { kind: 'vote'; txn: string; vote: boolean; reason?: string }
  | { kind: 'txn-done'; txn: string; outcome: 'commit' | 'abort' }
  | { kind: 'applied'; index: number; command: Command };

/** A read at an active leader, waiting for the core's read index. */
interface PendingGet {
  body: RequestBody;
  origin: Origin;
}

interface Waiter {
  origin: Origin;
  /** Passive async: already answered; only bookkeeping remains. */
  answered: boolean;
}

/** The waiters of a reign this replica lost, and the highest slot it had proposed in by then (see settleLostReigns). */
interface LostReign {
  upTo: number;
  ids: string[];
}

export class GroupReplica {
  readonly core: MultiPaxos;
  readonly sm: KvStateMachine;
  /** Passive/hybrid primary: committed state plus the effects it proposed, not yet chosen. */
  private spec: KvStateMachine | undefined;
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Reigns this replica lost with commands still waiting (see settleLostReigns): a waiter whose
   * slot the next leader filled with something else was kept for ever, one per command a
   * leader change lost, however long the replica ran (found by an audit, session 64).
   */
  private readonly lostReigns: LostReign[] = [];
  private unchosenEffects = 0;
  private barrierId: string | undefined;
  private held: Array<{ id: string; body: RequestBody; origin: Origin }> = [];
  private wasLeader = false;
  /** The log's last index when this replica last became leader. */
  private electedAtIndex = 0;
  /**
   * The primary's reign (its ballot) and the number of its next effect or other command it
   * applies to its working copy (see Chained in state-machine.ts).
   */
  private term = '';
  private effectSeq = 0;
  private nextLocalId = 0;
  /**
   * Command ids are `<self>@<incarnation>#<n>`: a restarted replica counts from 0 again, and
   * an entry of its earlier life may still be applied, so the incarnation keeps ids unique.
   */
  private readonly idPrefix: string;
  readonly outputs: GroupOutput[] = [];
  /** The prepare prepareTooLarge last measured (proposePrepare proposes it, not a copy). */
  private measuredPrepare: Extract<Command, { k: 'prepare' }> | undefined = undefined;

  constructor(
    readonly config: GroupConfig,
    recovered: MultiPaxosRecord[],
  ) {
    this.sm = new KvStateMachine(config.limits);
    this.idPrefix = `${config.self}@${config.incarnation ?? ''}`;
    this.core = new MultiPaxos(
      {
        self: config.self,
        peers: config.peers,
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        preVote: config.preVote === true,
        maxBatch: config.maxBatch,
        maxInflight: config.maxInflight,
        snapshotEvery: config.snapshotEvery,
        ...(config.snapshotPieceBytes === undefined ? {} : { snapshotPieceBytes: config.snapshotPieceBytes }),
        prng: new Prng(config.seed),
      },
      recovered,
    );
  }

  isLeader(): boolean {
    return this.core.isLeader();
  }

  /**
   * This replica leads and has applied every slot its log held when it was elected (what
   * earlier leaders chose or may have chosen): its state machine reflects them. A passive or
   * hybrid primary also has its barrier applied: before, it proposes no prepare or outcome
   * (proposeCommand), and a participant core built then lost the prepare it was handed, so
   * the first transaction after a start aborted at its vote timeout (found by an audit,
   * session 60); the participant holds the message until this is true instead.
   */
  leaderCaughtUp(): boolean {
    if (!this.core.isLeader() || this.core.status().applied < this.electedAtIndex) return false;
    return this.config.mode === 'active' || (this.wasLeader && this.spec !== undefined);
  }

  /** Slots of this leader awaiting a majority: while there are some, new commands can wait to batch. */
  inflight(): number {
    return this.core.inflight();
  }

  leaderHint(): string | undefined {
    return this.core.leaderHint();
  }

  /** A client operation arrived at this replica, which leads. False: not the leader now. */
  submit(body: RequestBody, origin: Origin): boolean {
    if (!this.core.isLeader()) return false;
    // A core elected in this step, before ready() saw it: take up the role now (barrier and
    // all), so that what is held here is let go if the core steps down again before ready()
    // (passive seed 779: a resumed leader won and lost an election within one backlog step,
    // and the operations it held stayed held by a backup for ever).
    this.leadershipChanged();
    // A read of a key no transaction holds needs no slot: the core's read index (see
    // MultiPaxos.read), answered from the chosen state. One of a locked key waits in the log
    // behind the lock, as a write does. A primary with sync: false reads through its log: it
    // acknowledges writes before they are chosen, so the chosen state may lack one it answered.
    if (body.op === 'get' && (this.config.mode === 'active' || this.config.sync) && !this.sm.isLocked(body.key))
      return this.core.read({ body, origin } satisfies PendingGet);
    return this.order(body, origin);
  }

  /** An operation through the log: a command (active), or executed by the primary and proposed as its effect. */
  private order(body: RequestBody, origin: Origin): boolean {
    if (this.config.mode === 'active') {
      const command: Extract<Command, { k: 'op' }> = { k: 'op', id: this.nextId(), body };
      return this.refusedTooLarge(command, body, origin) || this.proposeWaiting(command, origin);
    }
    const id = this.nextId();
    if (this.barrierId !== undefined || this.spec === undefined) {
      // A new primary first learns everything chosen before it (its barrier), then serves.
      this.held.push({ id, body, origin });
      return true;
    }
    return this.primaryExecute(id, body, origin);
  }

  /** A command id of this replica's incarnation (see idPrefix). */
  private nextId(): string {
    return `${this.idPrefix}#${this.nextLocalId++}`;
  }

  /** Phase 1 of a transaction at this shard, proposed through the log (the leader only). */
  proposePrepare(txn: string, ops: TxnOp[]): boolean {
    const measured = this.measuredPrepare;
    this.measuredPrepare = undefined;
    return this.proposeCommand(measured !== undefined && measured.txn === txn && measured.ops === ops ? measured : { k: 'prepare', txn, ops });
  }

  /**
   * Whether a prepare of `ops` is over commandBytesMax: not to be proposed (it would travel in
   * no message, and wedge the shard as a client's command would, see refusedTooLarge); the
   * participant votes no instead. The command measured is kept for proposePrepare.
   */
  prepareTooLarge(txn: string, ops: TxnOp[]): boolean {
    const max = this.config.commandBytesMax;
    if (max === undefined) return false;
    const command: Extract<Command, { k: 'prepare' }> = { k: 'prepare', txn, ops };
    this.measuredPrepare = command;
    return commandBytes(command) > max;
  }

  /** The outcome, with the participant records that must be durable no later than it. */
  proposeOutcome(txn: string, outcome: 'commit' | 'abort', records?: unknown[], tag?: string): boolean {
    const command: Extract<Command, { k: 'commit' | 'abort' }> = records === undefined ? { k: outcome, txn } : { k: outcome, txn, pc: records };
    if (tag !== undefined) command.tag = tag;
    return this.proposeCommand(command);
  }

  /** A participant's durable record, replicated with the shard so a new leader can resume it. */
  proposeRecord(txn: string, record: unknown): boolean {
    return this.proposeCommand({ k: 'pc', txn, record });
  }

  private proposeCommand(command: Exclude<Command, { k: 'effect' | 'noop' }>): boolean {
    // A primary still learning its predecessor's log cannot yet say what its state will be.
    if (command.k !== 'pc' && this.config.mode !== 'active' && (this.barrierId !== undefined || this.spec === undefined)) return false;
    if (!this.proposeChained(command)) return false;
    this.spec?.apply(command);
    return true;
  }

  /**
   * Propose a command; a primary serving from its working copy numbers it in its reign's
   * sequence (an effect, or any other command: see Chained in state-machine.ts), since the
   * effects it proposes next are computed on a state that includes it.
   */
  private proposeChained(command: Exclude<Command, { k: 'noop' }>): boolean {
    const chained = this.config.mode !== 'active' && this.spec !== undefined;
    if (chained) {
      command.term = this.term;
      command.seq = this.effectSeq;
    }
    if (!this.core.propose(command)) return false;
    if (chained) this.effectSeq++;
    return true;
  }

  private proposeWaiting(command: Extract<Command, { k: 'op' }>, origin: Origin): boolean {
    if (!this.proposeChained(command)) return false;
    this.waiters.set(command.id, { origin, answered: false });
    return true;
  }

  /**
   * A client's command over commandBytesMax: answered with a definite refusal, not proposed
   * (see GroupConfig.commandBytesMax). Every copy of the request is refused alike: its
   * command's size depends on the request (commandBytesMax keeps room for a longer id or term).
   */
  private refusedTooLarge(command: Command, body: RequestBody, origin: Origin): boolean {
    const max = this.config.commandBytesMax;
    if (max === undefined) return false;
    const bytes = commandBytes(command);
    if (bytes <= max) return false;
    // Short: at a small messageBytesMax a longer answer would not fit either.
    const message = `not done: the ${body.op} is ${bytes} bytes as a replicated command, over the ${max} a replication message carries under messageBytesMax (${this.config.messageBytesMax ?? '?'} bytes)`;
    this.outputs.push({ kind: 'reply', origin, ok: false, code: 'UNAVAILABLE', message });
    return true;
  }

  private primaryExecute(id: string, body: RequestBody, origin: Origin): boolean {
    assert(this.config.mode !== 'active', 'group: only a passive or hybrid primary executes');
    assert(this.barrierId === undefined, 'group: a primary executes only after its barrier is applied');
    const spec = this.spec;
    assert(spec !== undefined, 'group: a primary executes on its speculative state');
    if (spec.isLocked(body.key)) {
      // A transaction holds the key: the operation waits in the log like an active one.
      const command: Extract<Command, { k: 'op' }> = { k: 'op', id, body };
      if (this.refusedTooLarge(command, body, origin)) return true;
      if (!this.proposeWaiting(command, origin)) return false;
      spec.apply(command);
      return true;
    }
    const earlier = spec.seen(body.rq);
    if (earlier === 'forgotten') {
      this.outputs.push({ kind: 'reply', origin, ok: false, code: 'TIMEOUT', message: FORGOTTEN_MESSAGE });
      return true;
    }
    // A duplicate of a request already executed: answer its result again, through the log.
    const result = earlier !== undefined ? { ok: true as const, value: earlier.value, writes: [] } : executeOn(spec.data, body);
    if (!result.ok) {
      this.outputs.push({ kind: 'reply', origin, ok: false, code: 'VALIDATION', message: result.message });
      return true;
    }
    const command: Command = { k: 'effect', id, writes: result.writes, result: result.value, term: this.term, seq: this.effectSeq };
    if (body.rq !== undefined) command.rq = body.rq;
    if (this.refusedTooLarge(command, body, origin)) return true;
    if (!this.proposeChained(command)) return false;
    spec.apply(command);
    this.unchosenEffects++;
    assert(this.unchosenEffects > 0, 'group: the effect just proposed is counted as not yet chosen');
    const early = this.config.unsafeAckBeforeChosen === true || (!this.config.sync && this.unchosenEffects <= this.config.lagBound);
    if (early) this.outputs.push({ kind: 'reply', origin, ok: true, value: result.value });
    this.waiters.set(id, { origin, answered: early });
    return true;
  }

  step(from: string, msg: MultiPaxosMessage): void {
    this.core.step(from, msg);
  }

  tick(): void {
    this.core.tick();
  }

  /** See MultiPaxos.ticksUntilDue: the group's tick is its core's. */
  ticksUntilDue(): number {
    return this.core.ticksUntilDue();
  }

  /** `n` ticks that only count (below `ticksUntilDue()`). */
  advance(n: number): void {
    this.core.advance(n);
  }

  /**
   * Take what the core produced: records to persist and messages to send (in that order,
   * by the caller), after applying decisions to the state machine. Outputs collect in
   * `outputs` for the host to act on.
   */
  ready(): { persist: MultiPaxosRecord[]; messages: Array<{ to: string; msg: MultiPaxosMessage }> } {
    // A step may have made this replica leader with nothing else to flush: look first.
    this.leadershipChanged();
    if (!this.core.hasReady()) {
      // The common case on a tick or an idle drain: nothing to carry out, nothing allocated.
      this.assertRole();
      return NOTHING_READY;
    }
    // The core hands over fresh lists each round, or a shared frozen one when empty: the
    // first non-empty one is kept as it is, later rounds' added to it (mostly there is one
    // round: no copy).
    let persist = NO_RECORDS;
    let messages = NO_MESSAGES;
    for (let round = 0; round < 8 && this.core.hasReady(); round++) {
      const r = this.core.ready();
      if (r.persist.length > 0) {
        if (persist.length === 0) persist = r.persist;
        else for (let i = 0; i < r.persist.length; i++) persist.push(r.persist[i]!);
      }
      if (r.messages.length > 0) {
        if (messages.length === 0) messages = r.messages;
        else for (let i = 0; i < r.messages.length; i++) messages.push(r.messages[i]!);
      }
      for (let i = 0; i < r.decisions.length; i++) this.decide(r.decisions[i]!);
      this.leadershipChanged();
    }
    if (this.lostReigns.length > 0) this.settleLostReigns();
    this.assertRole();
    return persist.length === 0 && messages.length === 0 ? NOTHING_READY : { persist, messages };
  }

  /** After ready(): the primary's bookkeeping matches the core's role. */
  private assertRole(): void {
    assert(this.wasLeader === this.core.isLeader(), 'group: leadership changes are seen by the end of ready()');
    if (this.config.mode === 'active') return;
    if (!this.wasLeader) {
      assert(this.spec === undefined, 'group: a backup keeps no speculative state');
      assert(this.barrierId === undefined, 'group: a backup awaits no barrier');
      assert(this.held.length === 0, 'group: a backup holds no operations');
      return;
    }
    // A primary either awaits its barrier or serves from its speculative state, never both.
    assert((this.barrierId === undefined) === (this.spec !== undefined), 'group: a primary has a barrier pending or a speculative state');
  }

  private leadershipChanged(): void {
    const leader = this.core.isLeader();
    if (leader === this.wasLeader) return;
    this.wasLeader = leader;
    if (leader) {
      // Not only its own log: the slots its promises held, which it re-proposes and has not
      // logged yet, may hold what an earlier leader chose (a prepare, a vote). Until those are
      // applied this leader does not know them (passive seed 921: a participant rebuilt before
      // its prepare was re-chosen acked a commit as long forgotten).
      const s = this.core.status();
      this.electedAtIndex = Math.max(s.lastIndex, s.nextIndex - 1);
    } else if (this.waiters.size > 0) {
      // Its commands not yet applied: each holds a slot at or below the highest this replica
      // ever proposed in (those that had none were just reported dropped), and is applied
      // there or never. (The highest ever, not this reign's: a reign lost and won again
      // within one step is seen as one, and an earlier reign may have gone further.)
      this.lostReigns.push({ upTo: this.core.highestProposed(), ids: [...this.waiters.keys()] });
    }
    if (this.config.mode === 'active') return;
    if (leader) {
      // Barrier: once this no-op is applied, everything chosen before this term is applied too.
      this.spec = undefined;
      this.barrierId = `${this.idPrefix}#barrier${this.nextLocalId++}`;
      const ballot = this.core.status().ballot;
      this.term = `${ballot.round}.${ballot.id}`;
      this.effectSeq = 1;
      this.core.propose({ k: 'effect', id: this.barrierId, writes: [], result: null, term: this.term, seq: 0 } satisfies Command);
    } else {
      this.spec = undefined;
      this.barrierId = undefined;
      this.unchosenEffects = 0;
      for (const h of this.held) this.outputs.push(notDone(h.origin, h.body, `shard ${this.config.shard}: ${this.config.self} stopped being the primary`));
      this.held = [];
    }
  }

  private decide(d: MultiPaxosDecision): void {
    switch (d.kind) {
      case 'apply': {
        const command = d.command as Command;
        const mine = command.k === 'effect' && this.waiters.has(command.id);
        const appliedBefore = this.sm.applied;
        for (const c of this.sm.apply(command)) this.complete(c);
        assert(this.sm.applied === appliedBefore + 1, 'group: each applied command advances the state machine by one');
        this.outputs.push({ kind: 'applied', index: this.sm.applied, command });
        if (mine) this.unchosenEffects = Math.max(0, this.unchosenEffects - 1);
        if (command.k === 'effect' && command.id === this.barrierId) {
          this.barrierId = undefined;
          this.spec = this.sm.clone();
          const held = this.held;
          this.held = [];
          for (const h of held) {
            if (!this.primaryExecute(h.id, h.body, h.origin)) {
              this.outputs.push(notDone(h.origin, h.body, `shard ${this.config.shard}: the primary's queue is full`));
            }
          }
        }
        return;
      }
      case 'snapshot':
        this.sm.restore(d.snapshot as Snapshot);
        if (this.spec !== undefined) this.spec = this.sm.clone();
        return;
      case 'snapshot-due':
        this.core.compact(d.index, this.sm.snapshot());
        return;
      case 'read':
        for (const token of d.tokens) this.answerRead(token as PendingGet);
        return;
      case 'reads-dropped':
        for (const token of d.tokens) {
          const get = token as PendingGet;
          this.outputs.push(notDone(get.origin, get.body, `shard ${this.config.shard}: leadership changed before the read was confirmed`));
        }
        return;
      case 'dropped':
        // This command never got a log slot; another copy of the same request may have one.
        for (const c of d.commands as Command[]) {
          if ('id' in c) {
            const w = this.waiters.get(c.id);
            this.waiters.delete(c.id);
            const body = c.k === 'op' ? c.body : undefined;
            if (w !== undefined && !w.answered)
              this.outputs.push(notDone(w.origin, body, `shard ${this.config.shard}: leadership changed before the operation was ordered`));
          }
        }
        return;
    }
  }

  /**
   * Forget the waiters of lost reigns once this replica's log has applied every slot it had
   * proposed in by then: a command is only ever chosen in the slot its leader gave it (a later
   * leader proposes a slot's value again in the same slot), and this incarnation applies each
   * slot once, so one not applied by then never will be here (the next leader chose something
   * else there, or a snapshot covered it). Nothing is answered: its caller's deadline answers
   * it, as it did when the waiter stayed for ever (ServerLoad stops counting it the same way).
   */
  private settleLostReigns(): void {
    const applied = this.core.status().applied;
    let kept = 0;
    for (const reign of this.lostReigns) {
      if (reign.upTo > applied) this.lostReigns[kept++] = reign;
      else for (const id of reign.ids) this.waiters.delete(id);
    }
    this.lostReigns.length = kept;
  }

  /**
   * A read the core confirmed: answered from the applied state, or, if a transaction locked
   * its key meanwhile, sent through the log to wait behind the lock (this replica still leads).
   */
  private answerRead(get: PendingGet): void {
    if (!this.sm.isLocked(get.body.key)) {
      this.outputs.push({ kind: 'reply', origin: get.origin, ok: true, value: this.sm.data.get(get.body.key) });
      return;
    }
    if (!this.order(get.body, get.origin)) {
      this.outputs.push(notDone(get.origin, get.body, `shard ${this.config.shard}: the leader's queue is full`));
    }
  }

  private complete(c: Completion): void {
    if ('id' in c) {
      const w = this.waiters.get(c.id);
      if (w === undefined) return;
      this.waiters.delete(c.id);
      if (w.answered) return;
      if (c.ok) this.outputs.push({ kind: 'reply', origin: w.origin, ok: true, value: c.value });
      // An effect refused (its predecessor was lost) is this copy not applied, not the request:
      // another copy of it may yet be executed by the next primary.
      else if (c.code === 'UNAVAILABLE') this.outputs.push(notDone(w.origin, undefined, c.message));
      else this.outputs.push({ kind: 'reply', origin: w.origin, ok: false, code: c.code, message: c.message });
      return;
    }
    if ('vote' in c) {
      this.outputs.push({ kind: 'vote', txn: c.txn, vote: c.vote, ...(c.reason === undefined ? {} : { reason: c.reason }) });
      return;
    }
    this.outputs.push({ kind: 'txn-done', txn: c.txn, outcome: c.done });
  }

  /** Read the committed local state (a 'local' read: may be stale). */
  readLocal(key: string): unknown {
    return this.sm.data.get(key);
  }

  takeOutputs(): readonly GroupOutput[] {
    if (this.outputs.length === 0) return NO_OUTPUTS;
    return this.outputs.splice(0, this.outputs.length);
  }

  status(): ReturnType<MultiPaxos['status']> & { waiters: number; held: number } {
    return { ...this.core.status(), waiters: this.waiters.size, held: this.held.length };
  }
}

/** What ready() returns when the core has nothing: shared, frozen (never written to). */
const NO_RECORDS = Object.freeze<MultiPaxosRecord[]>([]) as MultiPaxosRecord[];
const NO_MESSAGES = Object.freeze<Array<{ to: string; msg: MultiPaxosMessage }>>([]) as Array<{ to: string; msg: MultiPaxosMessage }>;
const NOTHING_READY: { persist: MultiPaxosRecord[]; messages: Array<{ to: string; msg: MultiPaxosMessage }> } = Object.freeze({
  persist: NO_RECORDS,
  messages: NO_MESSAGES,
});
const NO_OUTPUTS: readonly GroupOutput[] = Object.freeze([]);

/**
 * The answer for an operation given up on here. Only a read may be refused definitely (it
 * changes nothing); a write's copies may hold other log slots (network duplication), so its
 * outcome is unknown: TIMEOUT. `body` undefined: the operation is not known to be a read.
 */
function notDone(origin: Origin, body: RequestBody | undefined, message: string): GroupOutput {
  if (body?.op === 'get') return { kind: 'reply', origin, ok: false, code: 'UNAVAILABLE', message };
  return {
    kind: 'reply',
    origin,
    ok: false,
    code: 'TIMEOUT',
    message: `${message}; it may or may not have taken effect (another copy of the request may hold a log slot)`,
  };
}
