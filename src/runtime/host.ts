import { REUSE_BUFFER_MODE, type Packr } from 'msgpackr';
import { assert } from '../core/assert.js';
import { copyEncoded, createPackr, decodeFrame, FastEncoder, FrameError, type Envelope, type Message } from '../core/codec.js';
import { errorData } from '../core/errors.js';
import { DRAIN_BUDGET_MESSAGES, ERRORS_KEPT_MAX, MAILBOX_CAPACITY_DEFAULT, MESSAGE_BYTES_MAX_DEFAULT } from '../core/limits.js';
import { Prng, hashString } from '../core/prng.js';
import {
  decideInto,
  Partitions,
  resolveNetwork,
  type DropCause,
  type Location,
  type NetworkConfig,
  type PartitionRule,
  type ResolvedNetwork,
} from '../net/model.js';
import type { ActorSpec, Behavior, UndeliverableMessage } from './actor.js';
import { Cell, type CellHost } from './cell.js';
import type { HostEnv, HostEvent } from './env.js';
import { emptyHostStats, type ActorStats, type HostStats, type LinkStats, type TypeCounter } from './stats.js';

export type { HostEnv, HostEvent, TimerHandle, TimerTarget } from './env.js';

/** Where an address lives: the host that runs it and its network location. */
export interface DirectoryEntry extends Location {
  host: number;
  /**
   * The address's number, the same on every host: envelopes carry it instead of the address
   * string, which spares encoding and decoding two strings per message. Absent for addresses
   * added later (clients, tests), which travel as strings.
   */
  index?: number;
}

/** Clients live on the front host; their address carries their home region: `client/<region>/<id>`. */
export const FRONT_HOST = 0;
/** Client locations parsed from their addresses and kept, at most. */
export const CLIENT_LOCATIONS_CACHED_MAX = 100_000;

export function clientLocation(address: string): DirectoryEntry | undefined {
  if (!address.startsWith('client/')) return undefined;
  const slash = address.indexOf('/', 7);
  if (slash < 0) return undefined;
  return { host: FRONT_HOST, region: address.slice(7, slash), node: address };
}

export interface HostOptions {
  id: number;
  seed: number;
  directory: Map<string, DirectoryEntry>;
  behaviors: Map<string, Behavior>;
  network?: NetworkConfig | undefined;
  mailboxCapacity?: number | undefined;
  messageBytesMax?: number | undefined;
  /**
   * The transport delivers copies (copySent) of what the fast encoder wrote (the simulator):
   * the encoder makes the copy as it writes.
   */
  copySent?: boolean | undefined;
}

/** How many actor and message type pairs a host warns of a message over messageBytesMax (see warnTooLarge). */
const TOO_LARGE_WARNED_MAX = 256;

/** What Host.setSendFilter takes: the message to send instead, or undefined to lose it. */
export type SendFilter = (msg: Message) => Message | undefined;

/** A local endpoint that is not an actor: the client API on the front host. */
export type ExternalEndpoint = (envelope: Envelope) => void;

/**
 * A host runs actors and routes every message they send: the one place every message
 * passes. It applies the network model, the size limit and the codec, then hands encoded
 * envelopes to its transport.
 */
export class Host implements CellHost {
  readonly id: number;
  readonly packr: Packr = createPackr();
  private readonly fast = new FastEncoder();
  /** The network model's delays for the message being routed. */
  private readonly delays: number[] = [0, 0];
  readonly stats: HostStats = emptyHostStats();
  readonly errors: HostEvent[] = [];
  private readonly cells = new Map<string, Cell>();
  private readonly specs = new Map<string, ActorSpec>();
  private readonly externals = new Map<string, ExternalEndpoint>();
  /** What deliver() hands an envelope to, by address: the external endpoint if there is one, else the cell. */
  private readonly targets = new Map<string, Cell | ExternalEndpoint>();
  /** The last sender route() located, and where it is (see locateSender). */
  private lastSrcAddress = '';
  private lastSrc: DirectoryEntry | undefined;
  private readonly runQueue: Cell[] = [];
  private drainScheduled = false;
  private readonly netPrng: Prng;
  private net: ResolvedNetwork;
  private networkConfig: NetworkConfig;
  readonly partitions = new Partitions();
  private readonly deadNodes = new Set<string>();
  private readonly clients = new Map<string, DirectoryEntry>();
  private lastLinkFrom = '';
  private lastLinkTo = '';
  private lastLink: LinkStats | undefined;
  /** Address of each directory index. */
  private readonly addressOf: string[] = [];
  /** What route() last encoded with the fast encoder (see copySent); msg undefined otherwise. */
  private sentTo: string | number = 0;
  private sentFrom: string | number = 0;
  private sentMsg: Message | undefined;
  /** The copy of sentMsg the encoder made (with options.copySent), until copySent hands it out. */
  private sentCopy: unknown = undefined;
  private sentCopyTaken = false;
  private readonly copyOnSend: boolean;
  /** The counters of `wrapper:inner` types, by wrapper then inner type. */
  private readonly wrappedTypeCounters = new Map<string, Map<string, TypeCounter>>();
  /** Per-node clock offsets (a skewed clock): what `ctx.now()` adds for actors of that node. */
  private readonly clockSkewMs = new Map<string, number>();
  /** Per-node timer slowness factors (see setTimerScale). */
  private readonly timerScale = new Map<string, number>();
  /** Per-sender filters of what leaves it (see setSendFilter). */
  private readonly sendFilters = new Map<string, SendFilter>();
  /** `<actor> <type>` pairs warned of a message over messageBytesMax (see warnTooLarge). */
  private readonly tooLargeWarned = new Set<string>();
  /** Actors warned of a full mailbox (see warnMailboxFull), at most TOO_LARGE_WARNED_MAX. */
  private readonly mailboxFullWarned = new Set<string>();
  readonly mailboxCapacity: number;
  readonly messageBytesMax: number;
  private stopped = false;

  constructor(
    readonly env: HostEnv,
    private readonly options: HostOptions,
  ) {
    this.id = options.id;
    this.netPrng = new Prng((options.seed ^ hashString(`net/${options.id}`)) >>> 0);
    this.networkConfig = options.network ?? {};
    this.net = resolveNetwork(this.networkConfig);
    for (const [address, entry] of options.directory) if (entry.index !== undefined) this.addressOf[entry.index] = address;
    this.mailboxCapacity = options.mailboxCapacity ?? MAILBOX_CAPACITY_DEFAULT;
    this.messageBytesMax = options.messageBytesMax ?? MESSAGE_BYTES_MAX_DEFAULT;
    this.copyOnSend = options.copySent === true;
  }

  get seed(): number {
    return this.options.seed;
  }

  behavior(name: string): Behavior {
    const b = this.options.behaviors.get(name);
    if (b === undefined) throw new Error(`unknown behaviour ${JSON.stringify(name)}`);
    return b;
  }

  locate(address: string): DirectoryEntry | undefined {
    const known = this.options.directory.get(address);
    if (known !== undefined) return known;
    let client = this.clients.get(address);
    if (client === undefined) {
      client = clientLocation(address);
      if (client === undefined) return undefined;
      // Clients come and go; the cache is bounded and simply starts again when full.
      if (this.clients.size >= CLIENT_LOCATIONS_CACHED_MAX) this.clients.clear();
      this.clients.set(address, client);
    }
    return client;
  }

  /**
   * The counter of the `wrapper:inner` type, its name built once per pair. A pair past the
   * host's types (HOST_MESSAGE_TYPES_MAX), counted as MESSAGE_TYPE_OTHER, is not kept here:
   * the cache is bounded as the types are.
   */
  private wrappedTypeCounter(outer: string, inner: string): TypeCounter {
    const byInner = this.wrappedTypeCounters.get(outer);
    let counter = byInner?.get(inner);
    if (counter === undefined) {
      const type = `${outer}:${inner}`;
      const apart = this.stats.countsApart(type);
      counter = this.stats.typeCounter(type);
      if (apart) {
        if (byInner === undefined) this.wrappedTypeCounters.set(outer, new Map([[inner, counter]]));
        else byInner.set(inner, counter);
      }
    }
    return counter;
  }

  /** Add an address to the directory (every host must learn it before traffic flows). */
  register(address: string, entry: DirectoryEntry): void {
    this.options.directory.set(address, entry);
    this.lastSrcAddress = '';
    this.lastSrc = undefined;
  }

  /** locate(from), remembered for the next message: a step's messages all come from its actor. */
  private locateSender(from: string): DirectoryEntry | undefined {
    if (from === this.lastSrcAddress) return this.lastSrc;
    const src = this.locate(from);
    this.lastSrcAddress = from;
    this.lastSrc = src;
    return src;
  }

  // ---- lifecycle of actors -------------------------------------------------------------

  spawn(spec: ActorSpec): void {
    assert(!this.cells.has(spec.address), `host: one actor per address (${spec.address} runs already)`);
    this.specs.set(spec.address, spec);
    const cell = new Cell(this, spec, this.behavior(spec.behavior));
    this.setCell(spec.address, cell);
    cell.start();
  }

  /**
   * Spawn `specs`, but only record those of the nodes in `down` (restartNode starts them), as
   * if crashed: a new thread or process for a dead host starts with its crashed nodes down.
   */
  spawnAll(specs: readonly ActorSpec[], down: ReadonlySet<string>): void {
    for (const spec of specs) {
      if (down.has(spec.node)) this.specs.set(spec.address, spec);
      else this.spawn(spec);
    }
  }

  private setCell(address: string, cell: Cell): void {
    this.cells.set(address, cell);
    if (!this.externals.has(address)) this.targets.set(address, cell);
  }

  private deleteCell(address: string): void {
    this.cells.delete(address);
    if (!this.externals.has(address)) this.targets.delete(address);
  }

  addExternal(address: string, endpoint: ExternalEndpoint): void {
    this.externals.set(address, endpoint);
    this.targets.set(address, endpoint);
  }

  /**
   * An endpoint is gone (a client closed): its address and its location; its counters in
   * `stats.actors` too unless `keepStats` (a cluster that stops keeps its last counts).
   */
  removeExternal(address: string, keepStats = false): void {
    this.externals.delete(address);
    this.clients.delete(address);
    if (!keepStats) delete this.stats.actors[address];
    const cell = this.cells.get(address);
    if (cell === undefined) this.targets.delete(address);
    else this.targets.set(address, cell);
  }

  cell(address: string): Cell | undefined {
    return this.cells.get(address);
  }

  addresses(): string[] {
    return [...this.cells.keys()];
  }

  /** Abruptly stop every actor of `node` on this host: no clean-up, timers dropped, mailboxes lost. */
  crashNode(node: string): number {
    let crashed = 0;
    for (const [address, cell] of this.cells) {
      if (cell.spec.node !== node) continue;
      cell.kill();
      this.deleteCell(address);
      crashed++;
    }
    return crashed;
  }

  /**
   * Pause (true) or resume (false) every actor of `node` on this host, as a stopped process:
   * what arrives meanwhile and the timers that come due wait in the mailboxes (see
   * Cell.pause). Returns how many actors it touched. A crash ends a pause: restarted actors run.
   */
  pauseNode(node: string, paused: boolean): number {
    let touched = 0;
    for (const cell of this.cells.values()) {
      if (cell.spec.node !== node) continue;
      if (paused) cell.pause();
      else cell.resume();
      touched++;
    }
    return touched;
  }

  /**
   * Recreate every actor of `node` that this host ran, recovering from the durable store. All
   * or none: when one throws as it starts (its first log write failed: an init that throws is
   * supervised instead), those started by this call are crashed again and the error says the
   * node stays down. Left running, they ran while every other host took the node as dead
   * (threads and NATS mark it alive only once this returns) until a second restart (a class
   * audit, session 67: test/noticed.part.ts).
   */
  restartNode(node: string): number {
    const started: Array<[string, Cell]> = [];
    try {
      for (const spec of this.specs.values()) {
        if (spec.node !== node || this.cells.has(spec.address)) continue;
        const cell = new Cell(this, spec, this.behavior(spec.behavior));
        this.setCell(spec.address, cell);
        started.push([spec.address, cell]);
        cell.start();
      }
    } catch (error) {
      for (const [address, cell] of started) {
        cell.kill();
        this.deleteCell(address);
      }
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(`the restart of node ${node} failed, and it stays down (a later restart tries again): ${why}`, { cause: error });
    }
    return started.length;
  }

  setNodeDead(node: string, dead: boolean): void {
    if (dead) this.deadNodes.add(node);
    else this.deadNodes.delete(node);
  }

  isNodeDead(node: string): boolean {
    return this.deadNodes.has(node);
  }

  /**
   * Per-node timer slowness (a process starved of CPU, or a VM stalled): the timers the actors
   * of that node set fire `factor` times later; messages reach them as before. Testing only.
   */
  setTimerScale(node: string, factor: number): void {
    if (factor === 1) this.timerScale.delete(node);
    else this.timerScale.set(node, factor);
  }

  /** The delay a timer set by an actor of `node` for `delayMs` gets (see setTimerScale). */
  timerDelayFor(node: string, delayMs: number): number {
    if (this.timerScale.size === 0) return delayMs;
    return delayMs * (this.timerScale.get(node) ?? 1);
  }

  /**
   * Pass every message `from` sends through `filter` first (undefined removes it): what it
   * returns is sent instead, and undefined drops the message as lost. A nemesis's fault site
   * (the cluster layer knows the messages; this layer does not).
   */
  setSendFilter(from: string, filter: SendFilter | undefined): void {
    if (filter === undefined) this.sendFilters.delete(from);
    else this.sendFilters.set(from, filter);
  }

  setClockSkew(node: string, ms: number): void {
    if (ms === 0) this.clockSkewMs.delete(node);
    else this.clockSkewMs.set(node, ms);
  }

  /** The time as the actors of `node` read it. */
  nowFor(node: string): number {
    const skew = this.clockSkewMs.size === 0 ? 0 : (this.clockSkewMs.get(node) ?? 0);
    return this.env.now() + skew;
  }

  setNetwork(config: NetworkConfig): void {
    this.networkConfig = config;
    this.net = resolveNetwork(config);
  }

  setPartitions(rules: PartitionRule[]): void {
    this.partitions.set(rules);
  }

  stop(): void {
    this.stopped = true;
    for (const cell of this.cells.values()) cell.kill();
    this.cells.clear();
    for (const address of [...this.targets.keys()]) if (!this.externals.has(address)) this.targets.delete(address);
    this.runQueue.length = 0;
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Route one message. Drops are counted by cause; a message that cannot leave this host
   * (unknown address, too large, not encodable) is bounced to its sender as `undeliverable`.
   */
  route<M extends { readonly type: string }>(from: string, to: string, message: M, sender: string = from, fromStats?: ActorStats): void {
    let msg = message as Message;
    if (this.stopped) return;
    const src = this.locateSender(from);
    const dst = this.locate(to);
    this.stats.sent++;
    (fromStats ?? this.stats.actor(from)).sent++;
    // By type, every message sent, as `sent` counts it: counted only once past every drop,
    // the types summed short of meridian_messages_sent_total by the dropped messages (65 of
    // 615 with a server of a 2 x 2 cluster crashed: found by an audit, session 67).
    const inner = (msg as { m?: { type?: unknown } | ReadonlyArray<{ type?: unknown }> }).m;
    if (Array.isArray(inner)) {
      // A batch (`pxs`): the wire counts under its own type, and each message it carries as
      // `wrapper:inner`, as it would alone: the by-type counts stay protocol messages.
      this.stats.typeCounter(msg.type).n++;
      for (let i = 0; i < inner.length; i++) {
        const t = (inner[i] as { type?: unknown } | null)?.type;
        if (typeof t === 'string') this.wrappedTypeCounter(msg.type, t).n++;
      }
    } else {
      const one = inner as { type?: unknown } | null | undefined;
      const counter =
        one !== undefined && one !== null && typeof one.type === 'string' ? this.wrappedTypeCounter(msg.type, one.type) : this.stats.typeCounter(msg.type);
      counter.n++;
    }
    if (dst === undefined) {
      this.drop('unknown-address', src, undefined);
      this.bounce(from, to, msg, 'unknown-address');
      return;
    }
    const srcLoc: Location = src ?? { region: dst.region, node: from };
    if (this.deadNodes.size > 0 && this.deadNodes.has(dst.node)) {
      this.drop('dead', srcLoc, dst);
      return;
    }
    if (this.sendFilters.size > 0) {
      const filter = this.sendFilters.get(from);
      if (filter !== undefined) {
        const kept = filter(msg);
        if (kept === undefined) {
          this.drop('loss', srcLoc, dst);
          return;
        }
        msg = kept;
      }
    }
    let encoded: Uint8Array & { start?: number; end?: number };
    let start: number;
    let end: number;
    try {
      const fromIndex = sender === from ? src?.index : this.options.directory.get(sender)?.index;
      // The fast encoder writes msgpackr's own bytes for the shapes it knows; the rest is
      // packed by msgpackr in REUSE_BUFFER_MODE (its buffer and the range written, no new view).
      // The encoder copies as it writes for a transport that delivers copies (the simulator),
      // and for a message to this same host (a thread host delivers it as copySent()).
      const copy = this.copyOnSend || dst.host === this.id;
      const fastEnd = this.fast.encodeEnvelope(dst.index ?? to, fromIndex ?? sender, msg, copy);
      if (fastEnd >= 0) {
        encoded = this.fast.buffer;
        start = 0;
        end = fastEnd;
        this.sentTo = dst.index ?? to;
        this.sentFrom = fromIndex ?? sender;
        this.sentMsg = msg;
        this.sentCopy = this.fast.copied;
        this.sentCopyTaken = !copy;
      } else {
        this.sentMsg = undefined;
        encoded = this.packr.pack({ to: dst.index ?? to, from: fromIndex ?? sender, msg }, REUSE_BUFFER_MODE);
        start = encoded.start ?? 0;
        end = encoded.end ?? encoded.byteLength;
      }
    } catch (error) {
      this.drop('encode-error', srcLoc, dst);
      this.bounce(from, to, msg, 'encode-error');
      this.env.report({ kind: 'warn', address: from, message: `message to ${to} not encodable: ${(error as Error).message}` });
      return;
    }
    if (end - start > this.messageBytesMax) {
      this.drop('too-large', srcLoc, dst);
      this.bounce(from, to, msg, 'too-large', end - start);
      this.warnTooLarge(from, to, msg.type, end - start);
      return;
    }
    // The network's fate after the size: a message too large never leaves this host, whatever
    // the link. Decided first, a partition or a loss dropped such a message unseen, and its
    // sender sent nothing in its place (an answer over messageBytesMax to a balancer cut off
    // left its client waiting for its timeout instead of a definite error where the error gets
    // through). Only messages that fit draw from the network's PRNG, as before.
    const fate = decideInto(this.net, this.partitions, srcLoc, dst, this.netPrng, this.delays);
    if (typeof fate === 'string') {
      this.drop(fate, srcLoc, dst);
      this.sentMsg = undefined;
      this.sentCopy = undefined;
      return;
    }
    // Consecutive messages mostly go between the same two regions: keep the last counter.
    if (this.lastLinkFrom !== srcLoc.region || this.lastLinkTo !== dst.region) {
      this.lastLinkFrom = srcLoc.region;
      this.lastLinkTo = dst.region;
      this.lastLink = this.stats.link(srcLoc.region, dst.region);
    }
    this.lastLink!.sent++;
    this.stats.bytes += end - start;
    const copyable = this.sentMsg !== undefined;
    this.env.transmit(dst.host, encoded, start, end, this.delays[0]!, copyable);
    if (fate === 2) this.env.transmit(dst.host, encoded, start, end, this.delays[1]!, copyable);
    this.sentMsg = undefined;
    this.sentCopy = undefined;
  }

  /**
   * An actor's own message over messageBytesMax is a cluster set up too small for its protocols
   * (a `messageBytesMax: 64` cluster dropped every put's messages with no word: found by an
   * audit, session 54): a 'warn', once per actor and message type (at most TOO_LARGE_WARNED_MAX
   * pairs). A client's request is not: its call fails, and says why.
   */
  private warnTooLarge(from: string, to: string, type: string, bytes: number): void {
    if (!this.cells.has(from) || this.tooLargeWarned.size >= TOO_LARGE_WARNED_MAX) return;
    const key = `${from} ${type}`;
    if (this.tooLargeWarned.has(key)) return;
    this.tooLargeWarned.add(key);
    this.env.report({
      kind: 'warn',
      address: from,
      message: `a ${type} message to ${to} of ${bytes} bytes is over messageBytesMax (${this.messageBytesMax}): dropped, and so will be the next ones (said once per actor and type)`,
    });
  }

  /**
   * A message dropped at a full mailbox: a `mailboxCapacity` too small for the load, or a node
   * paused long enough to fill it (a `mailboxCapacity: 1` cluster timed out every call with no
   * word: found by an audit, session 55). A 'warn', once per actor (at most TOO_LARGE_WARNED_MAX).
   */
  private warnMailboxFull(cell: Cell, envelope: Envelope): void {
    const to = envelope.to;
    if (cell.mailboxLength() < this.mailboxCapacity || this.mailboxFullWarned.has(to) || this.mailboxFullWarned.size >= TOO_LARGE_WARNED_MAX) return;
    this.mailboxFullWarned.add(to);
    this.env.report({
      kind: 'warn',
      address: to,
      message: `the mailbox of ${to} is full (mailboxCapacity ${this.mailboxCapacity}): a ${envelope.msg.type} message from ${envelope.from} dropped, and so will be the next ones while it is full (said once per actor)`,
    });
  }

  /**
   * The envelope the last route() encoded with the fast encoder, as decoding its bytes gives
   * it (see copyEncoded), its addresses resolved: for the simulator, which would decode it at once.
   */
  copySent(): Envelope {
    const to = this.sentTo;
    const from = this.sentFrom;
    // The encoder's copy the first time; a fresh one for a duplicate (or without copySent).
    let msg: Message;
    if (this.sentCopyTaken) {
      msg = copyEncoded(this.sentMsg) as Message;
    } else {
      msg = this.sentCopy as Message;
      this.sentCopyTaken = true;
    }
    return {
      to: typeof to === 'number' ? (this.addressOf[to] ?? String(to)) : to,
      from: typeof from === 'number' ? (this.addressOf[from] ?? String(from)) : from,
      msg,
    };
  }

  private bounce(from: string, to: string, msg: Message, reason: UndeliverableMessage['reason'], bytes = 0): void {
    // The sender learns at once of what its own host refused to send; never of network drops.
    // A message too large comes back whole, with its size: an answer over messageBytesMax was
    // dropped, and its client waited for nothing until its timeout; its sender now answers
    // with a short error in its place (found by an audit, session 55).
    const original: Message = reason === 'too-large' ? msg : { type: msg.type, rid: (msg as { rid?: unknown }).rid ?? null };
    const bounce: Message =
      reason === 'too-large'
        ? { type: 'undeliverable', to, reason, original, bytes, max: this.messageBytesMax }
        : { type: 'undeliverable', to, reason, original };
    if (this.cells.has(from) || this.externals.has(from)) {
      this.env.schedule(() => this.deliver({ to: from, from: to, msg: bounce }));
    }
  }

  /**
   * `messages` dropped for `cause` (more than one: a frame its link dropped, a NATS peer's full
   * backlog or a thread with no port left; counted as one, a frame of 200 messages read as one
   * message lost: a class audit, session 68).
   */
  drop(cause: DropCause, src: Location | undefined, dst: Location | undefined, messages = 1): void {
    this.stats.dropped[cause] = (this.stats.dropped[cause] ?? 0) + messages;
    if (src !== undefined && dst !== undefined) {
      // Sent on the link and dropped there: a link's `sent` counts every message, as the total
      // does (it counted only those that left, so dropped/sent read p/(1-p) for a loss p).
      const link = this.stats.link(src.region, dst.region);
      link.sent++;
      link.dropped++;
    }
  }

  /**
   * A whole frame of `messages` envelopes dropped for `cause` before it left this host (a
   * thread's port to a host that has not read its frames, 'backlog-full'): counted as drop()
   * does, and each message a client of this host sent in it is bounced to that client at once
   * (reason `cause`), as a request to a full mailbox here is, rather than left to wait out its
   * timeout. Only a host with clients decodes the frame; a frame that does not decode is counted
   * as dropped all the same.
   */
  dropFrame(cause: 'backlog-full', frame: Uint8Array, messages: number): void {
    this.drop(cause, undefined, undefined, messages);
    if (this.externals.size === 0) return;
    let envelopes: Envelope[];
    try {
      envelopes = decodeFrame(this.packr, frame);
    } catch {
      return;
    }
    for (const envelope of envelopes) {
      const { from, to, msg } = this.resolve(envelope);
      if (this.externals.has(from)) this.bounce(from, to, msg, cause);
    }
  }

  // ---- receiving -----------------------------------------------------------------------

  /** A frame from another host (or this one): many encoded envelopes. */
  receiveFrame(frame: Uint8Array): void {
    let envelopes: Envelope[];
    try {
      envelopes = decodeFrame(this.packr, frame);
    } catch (error) {
      this.stats.dropped.malformed = (this.stats.dropped.malformed ?? 0) + 1;
      const message = error instanceof FrameError ? error.message : String(error);
      this.keepError({ kind: 'frame-error', error: message });
      return;
    }
    for (const envelope of envelopes) this.deliver(this.resolve(envelope));
  }

  /** Envelopes carry directory indices for known addresses: back to strings. */
  resolve(envelope: Envelope): Envelope {
    const e = envelope as { to: string | number; from: string | number };
    if (typeof e.to === 'number') e.to = this.addressOf[e.to] ?? String(e.to);
    if (typeof e.from === 'number') e.from = this.addressOf[e.from] ?? String(e.from);
    return envelope;
  }

  /**
   * Decode one encoded envelope, bytes[start, end), with its addresses resolved; undefined
   * (counted as malformed) when it does not decode. The simulator decodes as it sends.
   */
  decodeEncoded(bytes: Uint8Array, start: number, end: number): Envelope | undefined {
    try {
      return this.resolve(this.packr.unpack(bytes, { start, end }) as Envelope);
    } catch (error) {
      this.stats.dropped.malformed = (this.stats.dropped.malformed ?? 0) + 1;
      this.keepError({ kind: 'frame-error', error: (error as Error).message });
      return undefined;
    }
  }

  /** One encoded envelope (the simulator delivers them one at a time). */
  receiveEncoded(encoded: Uint8Array): void {
    let envelope: Envelope;
    try {
      envelope = this.resolve(this.packr.unpack(encoded) as Envelope);
    } catch (error) {
      this.stats.dropped.malformed = (this.stats.dropped.malformed ?? 0) + 1;
      this.keepError({ kind: 'frame-error', error: (error as Error).message });
      return;
    }
    this.deliver(envelope);
  }

  deliver(envelope: Envelope): void {
    if (this.stopped) return;
    const target = this.targets.get(envelope.to);
    if (typeof target === 'function') {
      this.stats.delivered++;
      target(envelope);
      return;
    }
    const cell = target;
    if (cell === undefined) {
      // Crashed (or not yet restarted), or an address this host never ran.
      this.stats.dropped['no-actor'] = (this.stats.dropped['no-actor'] ?? 0) + 1;
      return;
    }
    if (!cell.enqueue(envelope)) {
      // An actor its supervision stopped for good ('stop') takes nothing, its mailbox empty: no
      // actor there, as a crashed one (it was counted, and would be told, as a full mailbox).
      if (cell.closed()) {
        this.drop('no-actor', undefined, undefined);
        return;
      }
      this.stats.dropped['mailbox-full'] = (this.stats.dropped['mailbox-full'] ?? 0) + 1;
      this.warnMailboxFull(cell, envelope);
      // A client of this host is told at once, as of a message its host refused to send: its
      // call waited out its timeout for a request no actor ever read, and failed as indefinite
      // (one client's 15,000 puts at once: 5,000 TimeoutErrors after 5 s; a class audit of full
      // queues, session 68). Messages from other actors are dropped as before, as a network would.
      if (this.externals.has(envelope.from)) this.bounce(envelope.from, envelope.to, envelope.msg, 'mailbox-full');
      return;
    }
    this.stats.delivered++;
  }

  /** Whether cells here have work queued for a drain not yet run (see ThreadHost's flush). */
  hasQueuedWork(): boolean {
    return this.runQueue.length > 0;
  }

  /** Called by a cell that has work and is not yet queued. */
  ready(cell: Cell): void {
    this.runQueue.push(cell);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.env.schedule(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    let budget = DRAIN_BUDGET_MESSAGES;
    let now = this.env.now();
    while (budget > 0 && this.runQueue.length > 0) {
      const cell = this.runQueue.shift()!;
      budget -= cell.run(Math.min(budget, 64), now);
      now = cell.lastRunEnded;
      if (cell.hasWork()) this.runQueue.push(cell);
      else cell.queued = false;
    }
    if (this.runQueue.length > 0 && !this.drainScheduled) {
      // Out of budget: let timers and ports have their turn before going on.
      this.drainScheduled = true;
      this.env.scheduleLater(this.drain);
    }
  };

  keepError(event: HostEvent): void {
    this.stats.errors++;
    if (this.errors.length < ERRORS_KEPT_MAX) this.errors.push(event);
    this.env.report(event);
  }

  actorError(address: string, incarnation: string, error: unknown, action: 'restart' | 'stop'): void {
    this.keepError({ kind: 'actor-error', address, incarnation, error: errorData(error), action });
  }
}
