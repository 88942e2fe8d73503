/**
 * Multi-Paxos for state-machine replication, as a pure core (one per replica).
 *
 * Roles. Every replica is an acceptor and a learner; one at a time leads. A replica whose
 * election timer (electionTicks plus a random 0..electionTicks-1, from the injected Prng or one
 * seeded by its address) expires without hearing a leader becomes a candidate: it promises
 * itself a ballot above any it has seen (persisted before its prepares leave) and runs phase 1
 * for every slot from its first unchosen one. With a majority of promises it becomes leader:
 * it installs the newest snapshot a promiser sent (if its own log is behind it), marks slots
 * reported chosen, and re-proposes every other slot up to the highest one reported, with the
 * highest-ballot accepted value, or a no-op (empty batch) in a gap. An acceptor whose snapshot
 * covers the candidate's first unchosen slot but is too large for a message (see
 * `snapshotPieceBytes`) does not promise: a candidate behind it cannot win with it (a replica
 * not behind it can), and it changes nothing there (no leader deposed for a campaign that
 * cannot finish). A promise whose slots are too large for a message together goes in parts
 * (`promiseParts`), which the candidate counts as one promise once it holds them all.
 *
 * Normal case. `propose(command)` queues the command at the leader (false elsewhere, with
 * `leaderHint()`); when the host drains `ready()`, queued commands are cut into batches of at
 * most `maxBatch` (and of at most twice `snapshotPieceBytes` encoded, if set), one batch per
 * new slot, while at most `maxInflight` slots await a majority.
 * A slot accepted by a majority is chosen; the commit index (every slot up to it chosen) rides on
 * the next accept, or on a `commit` message when no accept follows. A follower that learns the
 * commit index marks the slots it accepted at the leader's ballot as chosen (a ballot proposes
 * one value per slot), and fetches the others (`catchup` -> `entries`, or `snapshot` when the
 * leader compacted them). Slots are applied in order, exactly once per incarnation of the host's
 * state: after a restart the core hands back its snapshot, then re-applies the slots after it.
 *
 * Liveness. The leader sends heartbeats every `heartbeatTicks`, on ticks that are multiples of it
 * counted from the core's start (so co-hosted cores beat together), and re-sends accepts that have
 * not reached a majority); it steps down when a higher ballot refuses it, or when it has not
 * heard from a majority for `electionTicks` (check quorum), so a partitioned leader stops
 * claiming leadership. With `preVote`, a replica whose timer expires campaigns only once a
 * majority said it would follow (none of them hears from a live leader): one that cannot hear
 * the leader stays a follower instead of deposing it with ever higher ballots.
 *
 * Reads (the read index of Raft's thesis, section 6.4; no lease, no clock). `read(token)` at the
 * leader notes the commit index, or the highest slot it held when elected if that is higher
 * (what earlier leaders may have chosen). The read is answered (a `read` decision) once that
 * slot is applied here and this replica is known to have still led after the read arrived: a
 * majority took, at its ballot, a heartbeat carrying a read round begun after the read came, or
 * accepted a slot proposed after it. Any write completed before the read began is then
 * applied here, and no other leader chose anything meanwhile. The reads that arrive between
 * two flushes share a round; rounds overlap, and an ack for one confirms every earlier one. A
 * leader that steps down hands its unanswered reads back (`reads-dropped`).
 *
 * Persistence (the Ready rule makes each durable before the messages that depend on it): the
 * promise, accepted slots, chosen slots learned from others, the commit index, snapshots.
 */
import { assert } from '../core/assert.js';
import { ConfigError } from '../core/errors.js';
import { Prng } from '../core/prng.js';
import { ballotEquals, BALLOT_ZERO, compareBallots } from './ballot.js';
import type { Ballot } from './ballot.js';
import { requireAddresses, requireNonEmptyString, requirePositiveInt } from './config.js';
import { ReplicaLog } from './multipaxos-log.js';
import {
  batchBytes,
  commandBytes,
  decodePieces,
  PieceAssembly,
  piecesOf,
  prefixWithin,
  slotBytes,
  SNAPSHOT_PIECES_WINDOW,
  type PiecedSnapshot,
} from './snapshot-pieces.js';
import { Outbox } from './types.js';
import type { Ready } from './types.js';
import type { MultiPaxosDecision, MultiPaxosMessage, MultiPaxosRecord, MultiPaxosSlot, MultiPaxosSnapshot, PromisePart } from './multipaxos-messages.js';

export type { MultiPaxosDecision, MultiPaxosMessage, MultiPaxosRecord, MultiPaxosSlot, MultiPaxosSnapshot, PromisePart } from './multipaxos-messages.js';

/** Commands the leader queues before `propose` refuses more (and reads before `read` does). */
export const MULTIPAXOS_PENDING_MAX = 10_000;
/** Chosen slots sent to a lagging replica in one `entries` message. */
export const MULTIPAXOS_CATCHUP_SLOTS_MAX = 256;
/**
 * Election timeouts (of electionTicks) a leader keeps its snapshot encoded in pieces after the
 * last request for them, and a follower the pieces it holds after the last one came.
 */
export const MULTIPAXOS_PIECES_KEPT_TIMEOUTS = 20;

/** What a message's fields other than its lists, snapshot and text encode to, at most (its record definition included). */
const MESSAGE_FIELDS_BYTES_MAX = 128;
/** What a promise's `part` adds to that, at most: the key, the record definition and two numbers. */
const PROMISE_PART_BYTES_MAX = 48;

/** What a string encodes to, at most (UTF-8 takes at most 3 bytes per UTF-16 unit). */
function stringBytesMax(s: string): number {
  return 5 + 3 * s.length;
}

/**
 * What `msg` encodes to, at most, from the sizes kept beside its commands (see commandBytes):
 * nothing is encoded again but a snapshot (a promise's, or one sent whole: measured once, as
 * a command is, its data being left as taken), a catch-up slot's shell, and the commands of a
 * copy (measured once too). A host bundling a step's messages to one peer uses it to keep each
 * wire under its largest message: within a wire a record shape of its own is defined once, not
 * in every message. (Past 32 such shapes in one wire msgpackr writes records otherwise, see
 * FastEncoder: such a wire may be misjudged, and is then refused and sent again one by one.)
 */
export function paxosMessageBytes(msg: MultiPaxosMessage): number {
  const fixed = MESSAGE_FIELDS_BYTES_MAX + stringBytesMax(msg.ballot.id);
  switch (msg.type) {
    case 'accept':
      return fixed + batchBytes(msg.commands);
    case 'entries':
    case 'promise': {
      let bytes = fixed;
      for (const slot of msg.slots) bytes += slotBytes(slot);
      if (msg.type === 'promise' && msg.snapshot !== null) bytes += MESSAGE_FIELDS_BYTES_MAX + commandBytes(msg.snapshot.data);
      if (msg.type === 'promise' && msg.part !== undefined) bytes += PROMISE_PART_BYTES_MAX;
      return bytes;
    }
    case 'snapshot':
      return fixed + MESSAGE_FIELDS_BYTES_MAX + commandBytes(msg.snapshot.data);
    case 'snapshot-piece':
      return fixed + stringBytesMax(msg.text);
    case 'nack':
    case 'pre-promise':
      return fixed + stringBytesMax(msg.promised.id);
    default:
      return fixed;
  }
}

export interface MultiPaxosConfig {
  self: string;
  /** Every replica, including `self`, in the same order everywhere. */
  peers: string[];
  /** Base election timeout; the real one is drawn from [electionTicks, 2 * electionTicks). */
  electionTicks: number;
  /** The leader's heartbeat (and accept re-send) period; must be below electionTicks. */
  heartbeatTicks: number;
  /** Commands per slot. */
  maxBatch: number;
  /** Slots proposed and not yet chosen, at most. */
  maxInflight: number;
  /** If set, a `snapshot-due` decision every this many applied slots. */
  snapshotEvery?: number;
  /**
   * If set, a snapshot whose encoding is over twice this many bytes goes to a lagging follower
   * in pieces of at most this many (snapshot-pieces.ts), which it installs once it holds them
   * all; a smaller one goes whole, as always; an `entries` message holds only as many slots
   * as twice this many bytes (at least one), and a new slot only as many commands (at least
   * one; besides `maxBatch`). Unset: always whole, up to MULTIPAXOS_CATCHUP_SLOTS_MAX slots,
   * and slots cut by count only. The host sets it well under its largest message.
   */
  snapshotPieceBytes?: number;
  /**
   * Pre-vote (default false): a replica whose election timer expires first asks whether a
   * majority would follow it (`pre-prepare`), and campaigns only if so. Replicas that heard from
   * a live leader within electionTicks say no, so a replica that cannot hear the leader (a
   * one-way cut, messages into it late) no longer outbids it again and again: without it, such a
   * replica's rising ballots depose every leader of its groups while the fault lasts.
   */
  preVote?: boolean;
  prng?: Prng;
}

export type MultiPaxosRole = 'follower' | 'candidate' | 'leader';

interface Proposal {
  commands: unknown[];
  acks: Set<string>;
  ageTicks: number;
}

/** A read at the leader: answered once `index` is applied and read round `round` confirmed. */
interface PendingRead {
  token: unknown;
  index: number;
  round: number;
}

export class MultiPaxos {
  private readonly config: MultiPaxosConfig;
  private readonly majority: number;
  private readonly prng: Prng;
  private readonly out = new Outbox<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision>();
  private readonly log: ReplicaLog;
  /**
   * Messages this replica sent itself (its own accept, accepted, prepare, promise), stepped in
   * `ready()` instead of leaving through the host: a leader counts its own vote without a
   * round trip through the router. Their effects are persisted with the rest of the ready
   * round, before any message leaves (the Ready rule), as when they came back from the host.
   */
  private readonly selfInbox: MultiPaxosMessage[] = [];

  /** Acceptor: the highest ballot promised (durable). */
  private promised: Ballot = BALLOT_ZERO;
  /** The highest round seen anywhere, so the next campaign outbids it. */
  private roundSeen = 0;

  private role: MultiPaxosRole = 'follower';
  /** Our ballot as candidate or leader. */
  private ballot: Ballot = BALLOT_ZERO;
  private leaderId: string | undefined = undefined;
  private hint: string | undefined = undefined;
  private electionElapsed = 0;
  private electionTimeout: number;
  /**
   * Ticks since this core started. A leader beats when it is a multiple of heartbeatTicks: the
   * cores a host ticks together (a server's shard groups) beat on the same ticks, so the host
   * can send their heartbeats (and their followers the acks) to each peer in one message.
   */
  private ticks = 0;

  // Candidate.
  private readonly promises = new Map<string, { slots: MultiPaxosSlot[]; snapshot: MultiPaxosSnapshot | null }>();
  /** The first slot the campaign's prepare asked about: a promise in parts accounts for every slot from it. */
  private prepareFrom = 0;
  /** Per peer, the parts of its promise in hand (see onPromisePart), by the slot each starts at. */
  private readonly partsIn = new Map<string, Map<number, Extract<MultiPaxosMessage, { type: 'promise' }>>>();
  /** A follower asking whether it would win (pre-vote): the ballot asked about, and who said yes. */
  private preVoteBallot: Ballot | undefined = undefined;
  private readonly preVotes = new Set<string>();

  // Leader.
  private readonly proposals = new Map<number, Proposal>();
  private pending: unknown[] = [];
  private nextIndex = 1;
  /** The highest slot this replica proposed in, in any reign of this incarnation (see highestProposed). */
  private proposedUpTo = 0;
  private heartbeatElapsed = 0;
  private quorumElapsed = 0;
  private readonly heardFrom = new Set<string>();
  private commitSent = 0;
  /** The highest slot this leader held when elected: a read waits for it to be applied. */
  private readFloor = 0;
  /** Read rounds begun (never reset: an ack names the round it answers). */
  private readRound = 0;
  /** The highest round confirmed at this ballot: every read of it or an earlier round may be answered. */
  private readConfirmed = 0;
  /** Per peer, the highest read round it acked at this ballot (an ack confirms every earlier round too). */
  private readonly readAcked = new Map<string, number>();
  /** Slots proposed in the flush that began a round: chosen, they confirm it. */
  private readonly readSlots = new Map<number, number>();
  /** Reads that arrived since the last flush (round 0: not yet in one). */
  private readsUnsent: PendingRead[] = [];
  /** Reads in a round, in arrival order (their rounds and indexes never decrease). */
  private readsWaiting: PendingRead[] = [];

  // Follower.
  private knownCommit = 0;
  private catchupWait = 0;
  /** The pieces of a snapshot being received (see onSnapshotPiece). */
  private readonly incoming = new PieceAssembly();

  /**
   * The snapshot as sent (see snapshotPieces): cut into pieces if it is too large for one
   * message, else undefined; dropped when the snapshot changes, or unused for a while.
   */
  private outgoing: { snapshot: MultiPaxosSnapshot; pieces: PiecedSnapshot | undefined; idleTicks: number } | undefined = undefined;

  constructor(config: MultiPaxosConfig, recovered?: MultiPaxosRecord[]) {
    requireNonEmptyString('self', config.self);
    const peers = requireAddresses('peers', config.peers, 1);
    if (!peers.includes(config.self)) throw new ConfigError('peers', 'a list that includes self', peers);
    requirePositiveInt('electionTicks', config.electionTicks);
    requirePositiveInt('heartbeatTicks', config.heartbeatTicks);
    if (config.heartbeatTicks >= config.electionTicks) {
      throw new ConfigError('heartbeatTicks', `fewer than electionTicks (${config.electionTicks})`, config.heartbeatTicks);
    }
    requirePositiveInt('maxBatch', config.maxBatch);
    requirePositiveInt('maxInflight', config.maxInflight);
    if (config.snapshotEvery !== undefined) requirePositiveInt('snapshotEvery', config.snapshotEvery);
    if (config.snapshotPieceBytes !== undefined) requirePositiveInt('snapshotPieceBytes', config.snapshotPieceBytes);
    this.config = { ...config, peers };
    this.majority = Math.floor(peers.length / 2) + 1;
    this.prng = config.prng ?? new Prng(`multipaxos:${config.self}`);
    this.electionTimeout = this.drawElectionTimeout();
    this.log = new ReplicaLog(this.out, config.snapshotEvery);
    for (const record of recovered ?? []) {
      // A slot's record (accepted or chosen) implies a promise of its ballot, whether or not
      // replay keeps its slot (a later snapshot in the log drops it): the promise must not be
      // lost with it, or a restart after a snapshot recovers a lower one than the restart before.
      // (Every slot replay keeps comes from such a record, so this covers the slots held too.)
      if (record.type === 'promise' || record.type === 'accept' || record.type === 'chosen') this.promised = maxOf(this.promised, record.ballot);
      this.log.replay(record);
    }
    this.roundSeen = this.promised.round;
    this.log.resume();
  }

  // Host API -----------------------------------------------------------------------------

  /**
   * Queues `command` for the log. False if this replica is not the leader (see `leaderHint()`)
   * or its queue is full. True does not promise the command will be applied: a leader that
   * loses leadership reports its unslotted commands as `dropped`, and a slotted command may or
   * may not survive (the host dedupes retries, e.g. by client id and sequence number).
   */
  propose(command: unknown): boolean {
    if (this.role !== 'leader' || this.pending.length >= MULTIPAXOS_PENDING_MAX) return false;
    // Measured once, here: the slot cut, a catch-up's entries, a learner's batch and the host's
    // wire (paxosMessageBytes) add this size (kept beside the command, see commandBytes).
    if (this.config.snapshotPieceBytes !== undefined) commandBytes(command);
    this.pending.push(command);
    return true;
  }

  /**
   * A linearizable read at the leader: `token` comes back in a `read` decision once the host's
   * state machine may answer it (see Reads above), or in `reads-dropped` if this replica stops
   * leading first. False if this replica is not the leader, or MULTIPAXOS_PENDING_MAX reads
   * already wait (a leader that cannot reach a majority confirms none until it steps down).
   */
  read(token: unknown): boolean {
    if (this.role !== 'leader' || this.readsUnsent.length + this.readsWaiting.length >= MULTIPAXOS_PENDING_MAX) return false;
    const index = this.log.commitIndex > this.readFloor ? this.log.commitIndex : this.readFloor;
    this.readsUnsent.push({ token, index, round: 0 });
    return true;
  }

  isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The leader this replica currently follows (itself if it leads), if it knows one. */
  leader(): string | undefined {
    return this.role === 'leader' ? this.config.self : this.leaderId;
  }

  /** The highest ballot this acceptor promised (durable: a restart recovers at least it). */
  promisedBallot(): Ballot {
    return this.promised;
  }

  /** Where to send proposals: the known leader, or the owner of the last higher ballot seen. */
  leaderHint(): string | undefined {
    return this.leader() ?? this.hint;
  }

  /** Starts an election now instead of waiting for the timer (tests; leadership transfer). */
  campaign(): void {
    this.endPreVote();
    const promisedBefore = this.promised;
    this.stepDown(false);
    this.roundSeen = Math.max(this.roundSeen, this.promised.round);
    this.ballot = { round: this.roundSeen + 1, id: this.config.self };
    this.roundSeen = this.ballot.round;
    this.promised = this.ballot;
    this.out.persist({ type: 'promise', ballot: this.ballot });
    this.role = 'candidate';
    this.leaderId = undefined;
    this.promises.clear();
    this.resetElectionTimer();
    assert(compareBallots(this.ballot, promisedBefore) > 0, 'multipaxos: a campaign outbids every ballot promised before');
    this.prepareFrom = this.log.commitIndex + 1;
    for (const p of this.config.peers) {
      this.send(p, { type: 'prepare', ballot: this.ballot, fromIndex: this.prepareFrom });
    }
  }

  /**
   * The highest slot this replica has proposed in as leader, in any of its reigns since it
   * started (0: none). A command it gave a slot is chosen in that slot or in none (a later
   * leader proposes a slot's value again in the same slot): once the log has applied this far,
   * every command it proposed is applied or lost.
   */
  highestProposed(): number {
    return this.proposedUpTo;
  }

  /** Slots proposed by this leader and not yet chosen. */
  inflight(): number {
    return this.proposals.size;
  }

  /** The host applied every slot up to `index` and `snapshot` is its state there. */
  compact(index: number, snapshot: unknown): boolean {
    return this.log.compact(index, snapshot);
  }

  status(): {
    role: MultiPaxosRole;
    ballot: Ballot;
    promised: Ballot;
    commitIndex: number;
    applied: number;
    snapshotIndex: number;
    lastIndex: number;
    /** The next slot this leader proposes in; a new leader re-proposes what its promises held below it. */
    nextIndex: number;
    pending: number;
    inflight: number;
  } {
    return {
      role: this.role,
      ballot: this.ballot,
      promised: this.promised,
      commitIndex: this.log.commitIndex,
      applied: this.log.applied,
      snapshotIndex: this.log.snapshotIndex,
      lastIndex: this.log.lastIndex,
      nextIndex: this.nextIndex,
      pending: this.pending.length,
      inflight: this.proposals.size,
    };
  }

  /** The lists handed over are the host's, except that an empty one may be a shared frozen one: add nothing to them. */
  ready(): Ready<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision> {
    this.flush();
    // Messages to self, in the order sent, and what they send themselves; then a flush, as a
    // self-accepted may have freed a slot of the window or moved the commit index.
    for (let i = 0; i < this.selfInbox.length; i++) {
      this.dispatch(this.config.self, this.selfInbox[i]!);
      if (i === this.selfInbox.length - 1) {
        this.selfInbox.length = 0;
        i = -1;
        this.flush();
      }
    }
    this.assertInvariants();
    return this.out.take();
  }

  hasReady(): boolean {
    return this.out.has() || this.selfInbox.length > 0 || this.canFlush();
  }

  /** To a peer through the host; to self through `selfInbox` (see there). */
  private send(to: string, msg: MultiPaxosMessage): void {
    if (to === this.config.self) this.selfInbox.push(msg);
    else this.out.send(to, msg);
  }

  // Inputs -------------------------------------------------------------------------------

  step(from: string, msg: MultiPaxosMessage): void {
    this.dispatch(from, msg);
    this.assertInvariants();
  }

  private dispatch(from: string, msg: MultiPaxosMessage): void {
    switch (msg.type) {
      case 'prepare':
        return this.onPrepare(from, msg.ballot, msg.fromIndex);
      case 'pre-prepare':
        return this.onPrePrepare(from, msg.ballot);
      case 'pre-promise':
        return this.onPrePromise(from, msg.ballot, msg.granted, msg.promised);
      case 'promise':
        if (msg.part !== undefined) return this.onPromisePart(from, msg, msg.part);
        return this.onPromise(from, msg.ballot, msg.slots, msg.snapshot);
      case 'accept':
        return this.onAccept(from, msg);
      case 'accepted':
        return this.onAccepted(from, msg.ballot, msg.index);
      case 'nack':
        return this.onNack(msg.ballot, msg.promised);
      case 'commit':
      case 'heartbeat':
        if (!this.followLeader(from, msg.ballot)) return;
        if (msg.type === 'heartbeat') {
          const ack: MultiPaxosMessage = { type: 'heartbeat-ack', ballot: msg.ballot, commitIndex: this.log.commitIndex };
          if (msg.read !== undefined) ack.read = msg.read;
          this.send(from, ack);
        }
        return this.learnCommit(from, msg.ballot, msg.commitIndex);
      case 'heartbeat-ack':
        if (this.role !== 'leader' || !ballotEquals(msg.ballot, this.ballot)) return;
        this.heardFrom.add(from);
        if (msg.read !== undefined && msg.read > this.readConfirmed && msg.read > (this.readAcked.get(from) ?? 0)) this.onReadAck(from, msg.read);
        return;
      case 'catchup':
        return this.onCatchup(from, msg);
      case 'entries':
        // Chosen values are facts whatever ballot delivers them.
        for (const slot of msg.slots) this.log.markChosen(slot.index, slot.ballot, slot.commands);
        this.log.advanceCommit();
        this.catchupWait = 0;
        return this.afterCatchup(from, msg.ballot, msg.commitIndex);
      case 'snapshot':
        this.log.installSnapshot(msg.snapshot);
        this.catchupWait = 0;
        return this.afterCatchup(from, msg.ballot, msg.commitIndex);
      case 'snapshot-piece':
        return this.onSnapshotPiece(from, msg);
    }
  }

  tick(): void {
    this.ticks++;
    if (this.catchupWait > 0) this.catchupWait--;
    this.agePieces(1);
    if (this.role === 'leader') this.tickLeader();
    else if (++this.electionElapsed >= this.electionTimeout) this.electionTimedOut();
    this.assertInvariants();
  }

  /**
   * The election timer expired: campaign, or with pre-vote first ask whether a majority would
   * follow. A candidate whose campaign did not finish asks too (it steps back to follower
   * first), as etcd's does: one that hears late, its promises on their way for longer than a
   * timeout, used to campaign again and again with ever higher ballots, each prepare arriving
   * on time and deposing the leader the others had meanwhile elected (`meridian check --seed
   * 556`: a shard with two replicas of three hearing each other had no leader for 10 s).
   */
  private electionTimedOut(): void {
    if (this.config.preVote !== true) {
      this.campaign();
      return;
    }
    if (this.role === 'candidate') this.stepDown(false);
    this.resetElectionTimer();
    // Not heard from for a timeout: no longer followed (the host holds proposals instead of
    // forwarding them to it), as etcd's pre-candidate drops its leader.
    this.leaderId = undefined;
    this.preVoteBallot = { round: Math.max(this.roundSeen, this.promised.round) + 1, id: this.config.self };
    this.preVotes.clear();
    this.preVotes.add(this.config.self);
    if (this.preVotes.size >= this.majority) {
      this.campaign();
      return;
    }
    for (const p of this.config.peers) {
      if (p !== this.config.self) this.send(p, { type: 'pre-prepare', ballot: this.preVoteBallot });
    }
  }

  private endPreVote(): void {
    this.preVoteBallot = undefined;
    // Called on every message from the leader: clear() allocates a new table even when empty.
    if (this.preVotes.size > 0) this.preVotes.clear();
  }

  /**
   * Ticks that may pass before one does more than count: ticks 1..k-1 from now only advance
   * counters (see `advance`), tick k may send, campaign or step down. At least 1.
   */
  ticksUntilDue(): number {
    if (this.role !== 'leader') return Math.max(1, this.electionTimeout - this.electionElapsed);
    const hb = this.config.heartbeatTicks;
    let k = Math.min(hb - this.heartbeatElapsed, this.config.electionTicks - this.quorumElapsed);
    for (const proposal of this.proposals.values()) if (hb - proposal.ageTicks < k) k = hb - proposal.ageTicks;
    return Math.max(1, k);
  }

  /** `n` ticks at once, each of them one that only counts: `n` below `ticksUntilDue()`. The same as `n` calls of `tick()`. */
  advance(n: number): void {
    if (n <= 0) return;
    assert(n < this.ticksUntilDue(), 'multipaxos: advance() skips only ticks that do nothing but count');
    this.ticks += n;
    this.catchupWait = Math.max(0, this.catchupWait - n);
    this.agePieces(n);
    if (this.role === 'leader') {
      this.heartbeatElapsed += n;
      this.quorumElapsed += n;
      for (const proposal of this.proposals.values()) proposal.ageTicks += n;
    } else {
      this.electionElapsed += n;
    }
  }

  /** `n` ticks pass for the snapshot pieces kept: those unused for long are dropped (memory only: nothing is sent). */
  private agePieces(n: number): void {
    const kept = MULTIPAXOS_PIECES_KEPT_TIMEOUTS * this.config.electionTicks;
    if (this.outgoing !== undefined && (this.outgoing.idleTicks += n) > kept) this.outgoing = undefined;
    this.incoming.age(n, kept);
  }

  /** What holds between steps, whatever arrived (checked after every step and tick). */
  private assertInvariants(): void {
    assert(this.log.snapshotIndex <= this.log.commitIndex, 'multipaxos: the snapshot covers only committed slots');
    assert(this.log.commitIndex <= this.log.lastIndex, 'multipaxos: the commit index is within the log');
    assert(this.log.applied === this.log.commitIndex, 'multipaxos: every committed slot is applied before the step ends');
    assert(this.promised.round <= this.roundSeen, 'multipaxos: the promised round was seen');
    if (this.role === 'follower') return;
    // A candidate or leader promised its own ballot and nothing higher: a higher one deposes it.
    assert(ballotEquals(this.promised, this.ballot), 'multipaxos: a candidate or leader has promised exactly its own ballot');
    if (this.role !== 'leader') return;
    assert(this.leaderId === this.config.self, 'multipaxos: a leader follows itself');
    assert(this.nextIndex > this.log.commitIndex, 'multipaxos: a leader proposes only after the committed prefix');
  }

  // Acceptor -----------------------------------------------------------------------------

  /**
   * A pre-vote: yes unless this replica leads, or follows a leader it heard from within
   * electionTicks (the least election timeout: a leader that died is not heard from for
   * longer, by every follower, before anyone's timer expires). Nothing changes here.
   */
  private onPrePrepare(from: string, ballot: Ballot): void {
    const leaderAlive = this.role === 'leader' || (this.role === 'follower' && this.leaderId !== undefined && this.electionElapsed < this.config.electionTicks);
    this.send(from, { type: 'pre-promise', ballot, granted: !leaderAlive, promised: this.promised });
  }

  private onPrePromise(from: string, ballot: Ballot, granted: boolean, promised: Ballot): void {
    this.roundSeen = Math.max(this.roundSeen, promised.round);
    if (this.role !== 'follower' || this.preVoteBallot === undefined || !ballotEquals(ballot, this.preVoteBallot) || !granted) return;
    this.preVotes.add(from);
    if (this.preVotes.size >= this.majority) this.campaign();
  }

  private onPrepare(from: string, ballot: Ballot, fromIndex: number): void {
    if (compareBallots(ballot, this.promised) < 0) {
      this.send(from, { type: 'nack', ballot, promised: this.promised });
      return;
    }
    const covered = this.log.snapshotIndex >= fromIndex;
    if (covered && this.snapshotPieces() !== undefined) {
      // The candidate lacks chosen slots this snapshot covers, and it is too large to go in a
      // promise: no promise (as if the prepare were lost), and nothing changes here (no ballot
      // promised, no leader deposed, no timer reset). A replica not behind this one can win;
      // its round is noted so that this one's next campaign outbids the candidate's.
      this.roundSeen = Math.max(this.roundSeen, ballot.round);
      return;
    }
    this.raisePromise(ballot);
    if (from !== this.config.self) {
      // Someone else is campaigning: give it a chance before competing.
      this.endPreVote();
      this.leaderId = undefined;
      this.hint = ballot.id;
      this.resetElectionTimer();
    }
    const slots = this.log.slotsFrom(fromIndex);
    const snapshot = covered ? this.log.currentSnapshot() : null;
    if (from === this.config.self) this.send(from, { type: 'promise', ballot, slots, snapshot });
    else for (const msg of this.promiseParts(ballot, fromIndex, slots, snapshot)) this.send(from, msg);
  }

  /**
   * The promise of `slots` and `snapshot` (from `fromIndex` on) as one message if it fits in
   * one (twice snapshotPieceBytes, as an `entries` message), else in parts that each do, all
   * sent at once: they are of one moment of this acceptor, and the candidate counts them once
   * it holds them all (onPromisePart). A snapshot goes in a promise only if it fits too (see
   * onPrepare), and a slot alone always does (commands over commandBytesMax are never
   * proposed). Sent whole, a promise of many large slots (accepted and not yet chosen, or
   * chosen after the candidate's commit index and not yet compacted) was over messageBytesMax
   * and dropped by the host, every time: with the leader gone, no replica of a majority could
   * be elected (test/promise-parts.part.ts).
   */
  private promiseParts(ballot: Ballot, fromIndex: number, slots: MultiPaxosSlot[], snapshot: MultiPaxosSnapshot | null): MultiPaxosMessage[] {
    const whole: MultiPaxosMessage = { type: 'promise', ballot, slots, snapshot };
    const pieceBytes = this.config.snapshotPieceBytes;
    if (pieceBytes === undefined) return [whole];
    const budget = 2 * pieceBytes;
    let used = snapshot === null ? 0 : commandBytes(snapshot.data);
    let total = used;
    for (const slot of slots) total += slotBytes(slot);
    if (total <= budget) return [whole];
    const parts: MultiPaxosMessage[] = [];
    let from = fromIndex;
    let start = 0;
    for (let i = 0; i < slots.length; i++) {
      const bytes = slotBytes(slots[i]!);
      // A part holds at least one slot, or the snapshot (the first part).
      if (used + bytes > budget && (i > start || (parts.length === 0 && snapshot !== null))) {
        const until = slots[i]!.index;
        parts.push({ type: 'promise', ballot, slots: slots.slice(start, i), snapshot: parts.length === 0 ? snapshot : null, part: { from, until } });
        from = until;
        start = i;
        used = 0;
      }
      used += bytes;
    }
    parts.push({ type: 'promise', ballot, slots: slots.slice(start), snapshot: parts.length === 0 ? snapshot : null, part: { from } });
    return parts;
  }

  private onAccept(from: string, msg: Extract<MultiPaxosMessage, { type: 'accept' }>): void {
    if (compareBallots(msg.ballot, this.promised) < 0) {
      this.send(from, { type: 'nack', ballot: msg.ballot, promised: this.promised });
      return;
    }
    if (compareBallots(msg.ballot, this.promised) > 0) {
      this.promised = msg.ballot;
      this.roundSeen = Math.max(this.roundSeen, msg.ballot.round);
      // The accept record implies this promise, but a chosen slot writes no accept record.
      if (this.log.isChosen(msg.index)) this.out.persist({ type: 'promise', ballot: msg.ballot });
    }
    this.followLeader(from, msg.ballot);
    assert(ballotEquals(this.promised, msg.ballot), 'multipaxos: an acceptor accepts only at the ballot it promised');
    this.log.accept(msg.index, msg.ballot, msg.commands);
    this.send(from, { type: 'accepted', ballot: msg.ballot, index: msg.index });
    this.learnCommit(from, msg.ballot, msg.commitIndex);
  }

  private raisePromise(ballot: Ballot): void {
    this.roundSeen = Math.max(this.roundSeen, ballot.round);
    if (compareBallots(ballot, this.promised) <= 0) return;
    this.promised = ballot;
    this.out.persist({ type: 'promise', ballot });
    if (this.role !== 'follower' && compareBallots(ballot, this.ballot) > 0) this.stepDown(true);
  }

  // Follower -----------------------------------------------------------------------------

  /**
   * A message from the leader of `ballot`. Returns false (and refuses it) if that ballot is
   * stale; otherwise follows that leader, deposing ourselves if we led or campaigned lower.
   */
  private followLeader(from: string, ballot: Ballot): boolean {
    if (compareBallots(ballot, this.promised) < 0) {
      this.send(from, { type: 'nack', ballot, promised: this.promised });
      return false;
    }
    this.roundSeen = Math.max(this.roundSeen, ballot.round);
    if (this.role === 'leader' && ballotEquals(ballot, this.ballot)) return true;
    if (this.role !== 'follower') this.stepDown(true);
    this.endPreVote();
    this.leaderId = ballot.id;
    this.electionElapsed = 0;
    return true;
  }

  private learnCommit(from: string, ballot: Ballot, leaderCommit: number): void {
    if (this.role === 'leader') return;
    if (leaderCommit > this.knownCommit) this.knownCommit = leaderCommit;
    this.log.learnCommit(ballot, leaderCommit);
    this.log.advanceCommit();
    if (this.log.commitIndex < this.knownCommit) this.requestCatchup(from, ballot);
  }

  private afterCatchup(from: string, ballot: Ballot, leaderCommit: number): void {
    if (leaderCommit > this.knownCommit) this.knownCommit = leaderCommit;
    if (this.role !== 'leader' && this.log.commitIndex < this.knownCommit) this.requestCatchup(from, ballot);
  }

  private requestCatchup(leader: string, ballot: Ballot): void {
    if (this.catchupWait > 0) return;
    this.catchupWait = 2 * this.config.heartbeatTicks;
    const fromIndex = this.log.commitIndex + 1;
    // Pieces held of a snapshot: asked for again from the first one missing (some were lost).
    const held = this.incoming.header();
    if (held !== undefined && held.index < fromIndex) this.incoming.clear();
    const piece = this.incoming.resume();
    if (piece === undefined) this.send(leader, { type: 'catchup', ballot, fromIndex });
    else this.send(leader, { type: 'catchup', ballot, fromIndex, piece });
  }

  /**
   * A piece of the leader's snapshot (sent in pieces: it is too large for one message). Held
   * until every piece of that snapshot is in, then installed like a whole one; a piece of
   * another snapshot of a higher index (or another encoding) starts over (see PieceAssembly).
   * Nothing is persisted before the whole is in. Once it holds the window this piece came in,
   * the follower asks for the next one at once; pieces lost are asked for again when its
   * catch-up wait runs out (requestCatchup). Like a whole snapshot, whatever ballot sends it:
   * it holds chosen slots only.
   */
  private onSnapshotPiece(from: string, msg: Extract<MultiPaxosMessage, { type: 'snapshot-piece' }>): void {
    if (msg.index <= this.log.commitIndex) {
      // A late or duplicated piece of what this replica holds already.
      const held = this.incoming.header();
      if (held !== undefined && held.index <= this.log.commitIndex) this.incoming.clear();
      return;
    }
    const text = this.incoming.add(msg);
    if (text !== undefined) {
      const decoded = decodePieces(text);
      if (decoded === undefined) return;
      this.log.installSnapshot({ index: msg.index, data: decoded.data });
      this.catchupWait = 0;
      return this.afterCatchup(from, msg.ballot, msg.commitIndex);
    }
    if (msg.commitIndex > this.knownCommit) this.knownCommit = msg.commitIndex;
    if (this.role === 'leader' || !this.incoming.windowDone(msg.until)) return;
    const piece = this.incoming.resume();
    if (piece === undefined) return;
    this.catchupWait = 2 * this.config.heartbeatTicks;
    this.send(from, { type: 'catchup', ballot: msg.ballot, fromIndex: this.log.commitIndex + 1, piece });
  }

  // Candidate ----------------------------------------------------------------------------

  private onPromise(from: string, ballot: Ballot, slots: MultiPaxosSlot[], snapshot: MultiPaxosSnapshot | null): void {
    if (this.role !== 'candidate' || !ballotEquals(ballot, this.ballot)) return;
    this.partsIn.delete(from);
    this.promises.set(from, { slots, snapshot });
    if (this.promises.size >= this.majority) this.becomeLeader();
  }

  /**
   * A part of `from`'s promise (see promiseParts). Held until parts in hand account for every
   * slot from this campaign's first one, each starting where the one before it ends and the
   * last reaching the end; they then count as one promise. Parts may come in any order, twice,
   * or from two answers to the same prepare (a duplicated prepare, answered before and after
   * the acceptor learned or compacted more): the acceptor promised this ballot before either,
   * so what each part says of its slots is what a whole promise would say of them (Paxos holds
   * slot by slot), and the chain of ranges leaves no slot unaccounted for.
   */
  private onPromisePart(from: string, msg: Extract<MultiPaxosMessage, { type: 'promise' }>, part: PromisePart): void {
    if (this.role !== 'candidate' || !ballotEquals(msg.ballot, this.ballot) || this.promises.has(from)) return;
    let parts = this.partsIn.get(from);
    if (parts === undefined) {
      parts = new Map();
      this.partsIn.set(from, parts);
    }
    parts.set(part.from, msg);
    const chain: Array<Extract<MultiPaxosMessage, { type: 'promise' }>> = [];
    // Each part ends above where it starts (promiseParts), so the chain cannot loop.
    for (let at: number | undefined = this.prepareFrom; at !== undefined;) {
      const next = parts.get(at);
      if (next === undefined) return;
      chain.push(next);
      at = next.part!.until;
    }
    const slots: MultiPaxosSlot[] = [];
    for (const p of chain) for (const slot of p.slots) slots.push(slot);
    this.onPromise(from, msg.ballot, slots, chain[0]!.snapshot);
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'multipaxos: only a candidate becomes leader');
    assert(this.promises.size >= this.majority, 'multipaxos: a leader holds a majority of promises');
    // Slots a promiser compacted are chosen but no longer listed: take the newest snapshot.
    let newest: MultiPaxosSnapshot | null = null;
    for (const p of this.promises.values()) {
      if (p.snapshot !== null && (newest === null || p.snapshot.index > newest.index)) newest = p.snapshot;
    }
    if (newest !== null) this.log.installSnapshot(newest);

    const best = new Map<number, MultiPaxosSlot>();
    let highest = this.log.lastIndex;
    for (const p of this.promises.values()) {
      for (const slot of p.slots) {
        highest = Math.max(highest, slot.index);
        const seen = best.get(slot.index);
        if (seen === undefined || (slot.chosen && !seen.chosen) || (!seen.chosen && compareBallots(slot.ballot, seen.ballot) > 0)) {
          best.set(slot.index, slot);
        }
      }
    }
    this.role = 'leader';
    this.leaderId = this.config.self;
    this.promises.clear();
    this.partsIn.clear();
    this.proposals.clear();
    this.heardFrom.clear();
    // On the grid: the next heartbeat at the next multiple of heartbeatTicks (this one is at once).
    this.heartbeatElapsed = this.ticks % this.config.heartbeatTicks;
    // The first check-quorum window is stretched (by less than heartbeatTicks) to end on that
    // grid too, so the check comes on a heartbeat's tick, not on one of its own; the windows
    // after it are electionTicks long (on the grid when electionTicks is a multiple of heartbeatTicks).
    const hb = this.config.heartbeatTicks;
    this.quorumElapsed = -((hb - ((this.ticks + this.config.electionTicks) % hb)) % hb);
    this.commitSent = 0;
    for (let i = this.log.commitIndex + 1; i <= highest; i++) {
      const slot = best.get(i);
      if (slot !== undefined && slot.chosen) {
        this.log.markChosen(i, slot.ballot, slot.commands);
      } else if (!this.log.isChosen(i)) {
        this.proposeSlot(i, slot === undefined ? [] : slot.commands);
      }
    }
    this.nextIndex = highest + 1;
    this.readFloor = highest;
    this.readConfirmed = this.readRound;
    this.readAcked.clear();
    this.readSlots.clear();
    this.log.advanceCommit();
    assert(this.nextIndex > this.log.lastIndex, 'multipaxos: a new leader proposes past every slot it holds');
    this.broadcastHeartbeat();
  }

  // Leader -------------------------------------------------------------------------------

  private proposeSlot(index: number, commands: unknown[]): void {
    assert(this.role === 'leader', 'multipaxos: only a leader proposes');
    assert(!this.proposals.has(index), 'multipaxos: one proposal per slot and ballot');
    this.proposals.set(index, { commands, acks: new Set(), ageTicks: 0 });
    if (index > this.proposedUpTo) this.proposedUpTo = index;
    for (const p of this.config.peers) {
      this.send(p, { type: 'accept', ballot: this.ballot, index, commands, commitIndex: this.log.commitIndex });
    }
    this.commitSent = this.log.commitIndex;
  }

  private onAccepted(from: string, ballot: Ballot, index: number): void {
    if (this.role !== 'leader' || !ballotEquals(ballot, this.ballot)) return;
    this.heardFrom.add(from);
    const proposal = this.proposals.get(index);
    if (proposal === undefined) return;
    proposal.acks.add(from);
    if (proposal.acks.size < this.majority) return;
    this.proposals.delete(index);
    if (this.readSlots.size > 0) {
      // A majority accepted, at this ballot, a slot proposed after the round's reads arrived.
      const round = this.readSlots.get(index);
      this.readSlots.delete(index);
      if (round !== undefined && round > this.readConfirmed) this.readConfirmed = round;
    }
    this.log.markChosen(index, this.ballot, proposal.commands);
    this.log.advanceCommit();
  }

  private onCatchup(from: string, msg: Extract<MultiPaxosMessage, { type: 'catchup' }>): void {
    if (this.role !== 'leader') return;
    const { ballot, fromIndex } = msg;
    if (ballotEquals(ballot, this.ballot)) this.heardFrom.add(from);
    if (fromIndex <= this.log.snapshotIndex) {
      const pieces = this.snapshotPieces();
      if (pieces === undefined) {
        this.send(from, { type: 'snapshot', ballot: this.ballot, snapshot: this.log.currentSnapshot(), commitIndex: this.log.commitIndex });
        return;
      }
      // A window of pieces: from where the follower is in this snapshot, or from the first
      // piece if it holds pieces of another (an older one, or another leader's encoding).
      const resume = msg.piece;
      const start = resume !== undefined && pieces.is(resume) && resume.next < pieces.of ? resume.next : 0;
      const until = Math.min(pieces.of, start + SNAPSHOT_PIECES_WINDOW);
      for (let at = start; at < until; at++) {
        const p = pieces.piece(at);
        this.send(from, {
          type: 'snapshot-piece',
          ballot: this.ballot,
          index: p.index,
          hash: p.hash,
          size: p.size,
          of: p.of,
          at,
          until,
          text: p.text,
          commitIndex: this.log.commitIndex,
        });
      }
      return;
    }
    let slots = this.log.committedFrom(fromIndex, MULTIPAXOS_CATCHUP_SLOTS_MAX);
    // As many as a message takes (a snapshot's share of it); the follower asks for the rest.
    const pieceBytes = this.config.snapshotPieceBytes;
    if (pieceBytes !== undefined && slots.length > 1) {
      const n = prefixWithin(slots, 2 * pieceBytes, slots.length, slotBytes);
      if (n < slots.length) slots = slots.slice(0, n);
    }
    if (slots.length > 0) {
      this.send(from, { type: 'entries', ballot: this.ballot, slots, commitIndex: this.log.commitIndex });
    }
  }

  /** The current snapshot cut into pieces if it is too large for one message (kept: see `outgoing`); undefined if it goes whole. */
  private snapshotPieces(): PiecedSnapshot | undefined {
    const pieceBytes = this.config.snapshotPieceBytes;
    if (pieceBytes === undefined) return undefined;
    const snapshot = this.log.currentSnapshot();
    if (this.outgoing === undefined || this.outgoing.snapshot !== snapshot) {
      this.outgoing = { snapshot, pieces: piecesOf(snapshot.index, snapshot.data, pieceBytes), idleTicks: 0 };
    }
    this.outgoing.idleTicks = 0;
    return this.outgoing.pieces;
  }

  private onNack(ballot: Ballot, promised: Ballot): void {
    this.roundSeen = Math.max(this.roundSeen, promised.round);
    if (this.role === 'follower' || !ballotEquals(ballot, this.ballot)) return;
    if (compareBallots(promised, this.ballot) <= 0) return;
    this.hint = promised.id;
    this.stepDown(true);
  }

  private tickLeader(): void {
    if (++this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
    for (const [index, proposal] of this.proposals) {
      if (++proposal.ageTicks < this.config.heartbeatTicks) continue;
      proposal.ageTicks = 0;
      for (const p of this.config.peers) {
        if (proposal.acks.has(p)) continue;
        this.send(p, { type: 'accept', ballot: this.ballot, index, commands: proposal.commands, commitIndex: this.log.commitIndex });
      }
    }
    if (++this.quorumElapsed >= this.config.electionTicks) {
      this.quorumElapsed = 0;
      const heard = this.heardFrom.size + (this.heardFrom.has(this.config.self) ? 0 : 1);
      this.heardFrom.clear();
      if (heard < this.majority) this.stepDown(true);
    }
  }

  /** A heartbeat to every peer; while reads wait for a round, it carries the latest round (sent again until confirmed). */
  private broadcastHeartbeat(): void {
    const read = this.readRound > this.readConfirmed && this.readsWaiting.length > 0 ? this.readRound : 0;
    for (const p of this.config.peers) {
      if (p === this.config.self) continue;
      const msg: MultiPaxosMessage = { type: 'heartbeat', ballot: this.ballot, commitIndex: this.log.commitIndex };
      if (read !== 0) msg.read = read;
      this.send(p, msg);
    }
    this.commitSent = this.log.commitIndex;
  }

  /**
   * Begins a read round for the reads that arrived since the last flush. A slot proposed in
   * this flush (after they arrived) confirms it when chosen; with none, a heartbeat carries it.
   */
  private beginReadRound(proposedFrom: number): void {
    const round = ++this.readRound;
    for (const r of this.readsUnsent) {
      r.round = round;
      this.readsWaiting.push(r);
    }
    this.readsUnsent = [];
    if (this.majority === 1) this.readConfirmed = round;
    else if (this.nextIndex > proposedFrom) this.readSlots.set(this.nextIndex - 1, round);
    else this.broadcastHeartbeat();
  }

  /** `from` acked read round `round` at this ballot: confirmed up to the round a majority acked. */
  private onReadAck(from: string, round: number): void {
    this.readAcked.set(from, round);
    // This replica counts itself (it leads, at this ballot): majority - 1 peers must have acked.
    let acked = 1;
    for (const r of this.readAcked.values()) if (r >= round) acked++;
    if (acked >= this.majority) this.readConfirmed = round;
  }

  /** Reads whose round is confirmed and whose index is applied, as one `read` decision. */
  private answerReads(): void {
    const waiting = this.readsWaiting;
    let n = 0;
    while (n < waiting.length && waiting[n]!.round <= this.readConfirmed && waiting[n]!.index <= this.log.commitIndex) n++;
    if (n === 0) return;
    const tokens = new Array<unknown>(n);
    for (let i = 0; i < n; i++) tokens[i] = waiting[i]!.token;
    this.readsWaiting = n === waiting.length ? [] : waiting.slice(n);
    this.out.decide({ kind: 'read', tokens });
  }

  private readsDue(): boolean {
    if (this.readsUnsent.length > 0) return true;
    const head = this.readsWaiting[0];
    return head !== undefined && head.round <= this.readConfirmed && head.index <= this.log.commitIndex;
  }

  /** Cuts queued commands into new slots while the window allows; announces commit progress; answers reads. */
  private flush(): void {
    if (this.role !== 'leader') return;
    const proposedFrom = this.nextIndex;
    const pieceBytes = this.config.snapshotPieceBytes;
    while (this.pending.length > 0 && this.proposals.size < this.config.maxInflight) {
      // By count, and by bytes as an `entries` message is: every accept fits in a message.
      let n = Math.min(this.config.maxBatch, this.pending.length);
      if (pieceBytes !== undefined && n > 1) n = prefixWithin(this.pending, 2 * pieceBytes, n, commandBytes);
      this.proposeSlot(this.nextIndex++, this.pending.splice(0, n));
    }
    if (this.readsUnsent.length > 0) this.beginReadRound(proposedFrom);
    if (this.readsWaiting.length > 0) this.answerReads();
    if (this.log.commitIndex > this.commitSent) {
      for (const p of this.config.peers) {
        if (p !== this.config.self) this.send(p, { type: 'commit', ballot: this.ballot, commitIndex: this.log.commitIndex });
      }
      this.commitSent = this.log.commitIndex;
    }
  }

  private canFlush(): boolean {
    if (this.role !== 'leader') return false;
    return (this.pending.length > 0 && this.proposals.size < this.config.maxInflight) || this.log.commitIndex > this.commitSent || this.readsDue();
  }

  private stepDown(resetTimer: boolean): void {
    if (this.role === 'leader' && this.pending.length > 0) {
      this.out.decide({ kind: 'dropped', commands: this.pending });
    }
    if (this.readsUnsent.length > 0 || this.readsWaiting.length > 0) {
      const tokens: unknown[] = [];
      for (const r of this.readsWaiting) tokens.push(r.token);
      for (const r of this.readsUnsent) tokens.push(r.token);
      this.out.decide({ kind: 'reads-dropped', tokens });
      this.readsWaiting = [];
      this.readsUnsent = [];
    }
    this.readSlots.clear();
    this.pending = [];
    this.proposals.clear();
    this.promises.clear();
    this.partsIn.clear();
    if (this.role === 'leader') this.leaderId = undefined;
    this.role = 'follower';
    if (resetTimer) this.resetElectionTimer();
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.electionTimeout = this.drawElectionTimeout();
  }

  private drawElectionTimeout(): number {
    return this.config.electionTicks + this.prng.int(this.config.electionTicks);
  }
}

function maxOf(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}
