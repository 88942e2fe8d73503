import type { Envelope } from '../core/codec.js';
import { AbortedError, AnswerTooLargeError, MeridianError, StoppedError, TimeoutError, UnavailableError, ValidationError, describe } from '../core/errors.js';
import { checkOptions } from '../core/validate.js';
import { KEY_BYTES_MAX, MESSAGE_BYTES_MAX_MAX, VALUE_BYTES_MAX } from '../core/limits.js';
import { copyValue, type OpKind, type TxnMicroOp } from '../core/history.js';
import type { UndeliverableMessage } from '../runtime/actor.js';
import type { Host } from '../runtime/host.js';
import type { Runtime, SimDriver } from '../runtime/transports/runtime.js';
import type { ClientInbound, Req, RequestBody, TxnOp } from './messages.js';
import type { OpObserver, TxnObserver } from './observer.js';
import { balancerAddress } from './topology.js';
import { encodedBytes } from '../protocols/snapshot-pieces.js';
import { onlyReads, TXN_ONLY_READ } from './too-large.js';

/** Operations in one transaction. */
export const TXN_OPS_MAX = 64;

/** The fields of each kind of transaction op (a get's or delete's `value` may be there, undefined). */
const TXN_OP_FIELDS: Readonly<Record<TxnOp['op'], readonly string[]>> = {
  put: ['op', 'key', 'value'],
  check: ['op', 'key', 'value'],
  append: ['op', 'key', 'value'],
  get: ['op', 'key'],
  delete: ['op', 'key'],
};

/** Nesting depth of a value. */
export const VALUE_DEPTH_MAX = 32;
/** Client calls one client may have open at once. */
export const CLIENT_INFLIGHT_MAX = 100_000;

export interface ClientOptions {
  region: string;
}

/**
 * What a key holds: plain data the codec carries back as it was. A put or cas of anything else
 * (a function, a symbol, a bigint, undefined, a Map, a Date, a class instance) is a compile
 * error here; checkValue refuses it at run time too, for JavaScript callers, with what the type
 * cannot say (-0, a lone surrogate, an array with holes or named properties, too deep or too
 * large). A get resolves with one, or undefined for a missing key. An object whose type is an
 * `interface` does not fit (TypeScript gives an interface no index signature): declare its type
 * with `type` instead, or pass a copy (`{ ...record }`).
 */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

export interface GetOptions {
  /** 'local' reads the nearest replica and may return a stale value. */
  consistency?: 'linearizable' | 'local';
}

/** One history operation a call records: a single-key call records one, a transaction one per key. */
interface Recorded {
  id: number;
  slot: number;
  /** What the operation read if the call succeeds; `answer`: the call's own answer. */
  output: unknown;
}

/** A key's part in a transaction, as the history records it. */
interface Projection {
  key: string;
  kind: OpKind;
  input: unknown;
  output: unknown;
}

/** A transaction as its Elle history records it: the process, and the micro-ops invoked. */
interface TxnRecord {
  process: number;
  slot: number;
  ops: TxnOp[];
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** When the call was made and when it times out, on the runtime's clock. */
  startMs: number;
  deadlineMs: number;
  recorded: Recorded[];
  body: RequestBody;
  txn?: TxnRecord;
  /** The simulator's mark of this call's wait (SimDriver.beginWait), if it runs in one. */
  waitMark: number | undefined;
}

const ANSWER = Symbol('answer');
/** The `recorded` list of every call that records nothing (never written to). */
const NOTHING_RECORDED: Recorded[] = [];
/** A projected get inside a transaction: its output is the value the transaction's op `i` read. */
class ReadOf {
  constructor(readonly index: number) {}
}

export interface ClientDeps {
  runtime: Runtime;
  /** sim only: told when a call begins and ends waiting, so virtual time moves meanwhile. */
  driver?: SimDriver | undefined;
  host: Host;
  /** Told of every recorded call's per-key operations as they are invoked and complete. */
  observer: OpObserver;
  /** Told of every recorded transaction, in Elle's shape (`cluster.history({ format: 'elle' })`). */
  txnObserver?: TxnObserver;
  /**
   * Whether `ops` more entries go in the history (a call's: one a key a transaction touches),
   * counted against its bound if so; false once the history is off or full: calls are then not
   * reported to the observers.
   */
  recording(ops: number): boolean;
  /** Every call as it settles: its operation, latency on the runtime's clock, and outcome. */
  onSettle?(op: string, latencyMs: number, outcome: 'ok' | 'fail' | 'unknown'): void;
  requestTimeoutMs: number;
  newId(): string;
  isStopped(): boolean;
  /** The client was closed (`close()`): the cluster lets go of it. */
  onClose?(): void;
}

/**
 * The constructor's arguments, whatever their types say: `new Client()` (the class is exported)
 * failed with a TypeError reading 'region'. A client is made by `cluster.client()`, which
 * passes what the cluster has; these say so instead.
 */
function checkClientArgs(deps: unknown, options: unknown): void {
  const d = typeof deps === 'object' && deps !== null ? (deps as Record<string, unknown>) : undefined;
  const host = typeof d?.host === 'object' && d.host !== null ? (d.host as Record<string, unknown>) : undefined;
  if (d === undefined || typeof d.newId !== 'function' || typeof d.runtime !== 'object' || d.runtime === null || typeof host?.addExternal !== 'function')
    throw new ValidationError('deps', `the cluster's own (make a client with cluster.client({ region }), not new Client()), got ${describe(deps)}`);
  if (typeof options !== 'object' || options === null || typeof (options as Record<string, unknown>).region !== 'string')
    throw new ValidationError('options', `{ region: a region's name } (make a client with cluster.client({ region })), got ${describe(options)}`);
}

/**
 * A client of the cluster. It lives on the calling thread (the front host) and sends every
 * request to its home region's balancer. Each call resolves with the result or rejects with
 * a typed error: UnavailableError / AbortedError (definite: it did not happen),
 * TimeoutError (indefinite: it may have happened), ValidationError (bad input, not sent).
 */
export class Client {
  readonly id: string;
  readonly region: string;
  readonly address: string;
  /**
   * The region's balancer, named once: a string built per call is a new string the host
   * hashes again to look it up in its directory.
   */
  private readonly balancer: string;
  private readonly pending = new Map<number, Pending>();
  private readonly slots: boolean[] = [];
  /** The Elle process of each slot; a slot whose transaction ended unknown gets a new one. */
  private readonly processes: number[] = [];
  private nextRid = 1;
  private closed = false;
  /**
   * One timer for all open calls: every call has the same timeout, so calls time out in the
   * order they were made (the pending map's order), and the timer waits for the oldest.
   */
  private sweepTimer: { cancel(): void } | undefined;
  /**
   * On the real clock the timer is left running when the last open call settles: one call at
   * a time would otherwise arm and cancel a real timer per call (about 1 us of CPU per call,
   * of ~3.4 us the client spends with the history on). A sweep that finds nothing due
   * re-arms for the oldest open call, if any, so every call still times out at its own
   * deadline. The simulator cancels it, as it always did: its timers are events of the
   * simulated run, and its runs stay the same.
   */
  private readonly keepSweep: boolean;

  constructor(
    private readonly deps: ClientDeps,
    options: ClientOptions,
  ) {
    checkClientArgs(deps, options);
    this.region = options.region;
    this.id = deps.newId();
    this.address = `client/${options.region}/${this.id}`;
    this.balancer = balancerAddress(options.region);
    this.keepSweep = deps.runtime.kind !== 'sim';
    deps.host.addExternal(this.address, (envelope) => this.receive(envelope));
  }

  // put, get, delete and cas return the call's own promise (no async wrapper and no await:
  // one promise and one turn less per call); bad input still rejects, it never throws.

  put(key: string, value: Value, ...extra: never[]): Promise<void> {
    try {
      checkNoMore('put', ['key', 'value'], extra);
      checkKey(key);
      checkValue(value, 'value');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.call({ op: 'put', key, value }, 'put', value) as Promise<void>;
  }

  get(key: string, options: GetOptions = {}, ...extra: never[]): Promise<Value | undefined> {
    let consistency: GetOptions['consistency'];
    try {
      checkNoMore('get', ['key', 'options'], extra);
      checkKey(key);
      checkOptions(options, 'options', ['consistency']);
      consistency = options.consistency ?? 'linearizable';
      if (consistency !== 'linearizable' && consistency !== 'local') {
        throw new ValidationError('options.consistency', `'linearizable' or 'local', got ${describe(consistency)}`);
      }
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // Local reads may be stale by design: they are kept out of the linearizability history.
    return this.call({ op: 'get', key, consistency }, consistency === 'local' ? null : 'get', undefined) as Promise<Value | undefined>;
  }

  delete(key: string, ...extra: never[]): Promise<void> {
    try {
      checkNoMore('delete', ['key'], extra);
      checkKey(key);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.call({ op: 'delete', key }, 'delete', undefined) as Promise<void>;
  }

  /**
   * Sets `key` to `next` if it holds `expected`; resolves true when it swapped. `expected`
   * undefined means the key is missing (cas(key, undefined, v) creates it only if absent).
   */
  cas(key: string, expected: Value | undefined, next: Value, ...extra: never[]): Promise<boolean> {
    try {
      checkNoMore('cas', ['key', 'expected', 'next'], extra);
      checkKey(key);
      if (expected !== undefined) checkValue(expected, 'expected');
      checkValue(next, 'next');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.call({ op: 'cas', key, expected, value: next }, 'cas', { expected, next }) as Promise<boolean>;
  }

  /**
   * All or nothing over put, delete, check, get and append ops; a failed check aborts the whole
   * transaction. Resolves with an array aligned with `ops`: the value each `get` read
   * (undefined when the key is missing; a get sees the transaction's own earlier writes),
   * undefined for the other ops. `append` adds `value` to the list at key (a missing key is an
   * empty list; a key holding anything but a list aborts the transaction). No options: its
   * timeout is the cluster's requestTimeoutMs, and a second argument is refused.
   */
  async transaction(ops: TxnOp[], ...extra: never[]): Promise<unknown[]> {
    checkNoMore('transaction', ['ops'], extra);
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > TXN_OPS_MAX) {
      throw new ValidationError('ops', `an array of 1 to ${TXN_OPS_MAX} operations`);
    }
    // Array.from, not map: a hole in ops was skipped, to fail as a TypeError reading its key.
    const clean: TxnOp[] = Array.from(ops, (op, i) => {
      if (typeof op !== 'object' || op === null) throw new ValidationError(`ops[${i}]`, 'an object { op, key, value? }');
      if (op.op !== 'put' && op.op !== 'delete' && op.op !== 'check' && op.op !== 'get' && op.op !== 'append') {
        throw new ValidationError(`ops[${i}].op`, `'put', 'delete', 'check', 'get' or 'append', got ${describe(op.op)}`);
      }
      checkKey(op.key, `ops[${i}].key`);
      if (op.op === 'delete' || op.op === 'get') {
        if (op.value !== undefined) throw new ValidationError(`ops[${i}].value`, `nothing: a ${op.op} takes no value`);
      }
      // A misspelt field (`vaule`) would leave the op without it: a check of a missing key.
      const fields = TXN_OP_FIELDS[op.op];
      for (const field in op) {
        if (!fields.includes(field) && field !== 'value')
          throw new ValidationError(`ops[${i}].${field}`, `not a field of a ${op.op} op (${fields.join(', ')} are)`);
      }
      if (op.op === 'delete' || op.op === 'get') return { op: op.op, key: op.key };
      // A check of undefined passes when the key is missing.
      if (op.op === 'check' && op.value === undefined) return { op: 'check', key: op.key, value: undefined };
      checkValue(op.value, `ops[${i}].value`);
      return { op: op.op, key: op.key, value: op.value };
    });
    const wire = (await this.call({ op: 'txn', key: clean[0]!.key, ops: clean }, null, undefined, projectTransaction(clean), clean)) as unknown;
    return resultOf(clean, wire);
  }

  private call(body: RequestBody, kind: OpKind | null, input: unknown, projections?: Projection[], txnOps?: TxnOp[]): Promise<unknown> {
    if (this.deps.isStopped()) return Promise.reject(new StoppedError('the cluster is stopped', true));
    if (this.closed) return Promise.reject(new StoppedError(`client ${this.id} is closed`, true));
    if (this.pending.size >= CLIENT_INFLIGHT_MAX) {
      return Promise.reject(new UnavailableError(`client ${this.id} has ${CLIENT_INFLIGHT_MAX} calls open; wait for some to finish`));
    }
    const rid = this.nextRid++;
    // Nothing is allocated for the history when nothing is recorded (the common case of a
    // bench or a service): one shared empty list.
    let recorded: Recorded[] = NOTHING_RECORDED;
    const entries = projections !== undefined ? projections.length : kind !== null ? 1 : 0;
    if (entries > 0 && this.deps.recording(entries)) {
      const parts: Projection[] = projections ?? [{ key: body.key, kind: kind!, input, output: ANSWER }];
      recorded = [];
      for (const part of parts) {
        const slot = this.takeSlot();
        recorded.push({
          // Copies: the history keeps the values as they were sent, whatever the caller does
          // with its objects after the call (a put's object changed later read as another value).
          id: this.deps.observer.invoke({ client: `${this.address}#${slot}`, key: part.key, kind: part.kind, input: copyValue(part.input) }),
          slot,
          output: part.output === ANSWER || part.output instanceof ReadOf ? part.output : copyValue(part.output),
        });
      }
    }
    let txn: TxnRecord | undefined;
    const txnObserver = this.deps.txnObserver;
    if (txnOps !== undefined && txnObserver !== undefined && this.deps.recording(1)) {
      const slot = this.takeSlot();
      let process = this.processes[slot];
      if (process === undefined) this.processes[slot] = process = txnObserver.newProcess();
      txn = { process, slot, ops: txnOps.map((op) => (op.op === 'get' || op.op === 'delete' ? op : { ...op, value: copyValue(op.value) })) };
      txnObserver.record(process, 'invoke', unknownReads(microOps(txn.ops, undefined)));
    }
    return new Promise((resolve, reject) => {
      // First: in a stalled simulation it throws, and the call rejects with nothing left open.
      const waitMark = this.deps.driver?.beginWait();
      const startMs = this.deps.runtime.now();
      const deadlineMs = startMs + this.deps.requestTimeoutMs;
      this.pending.set(
        rid,
        txn === undefined
          ? { resolve, reject, startMs, deadlineMs, recorded, body, waitMark }
          : { resolve, reject, startMs, deadlineMs, recorded, body, txn, waitMark },
      );
      if (this.sweepTimer === undefined) this.armSweep();
      // The body is this call's own object (built by put, get, ...): the request id goes on it.
      body.rq = `${this.id}:${rid}`;
      const req: Req = { type: 'req', rid, body };
      this.deps.host.route(this.address, this.balancer, req);
    });
  }

  private armSweep(): void {
    const oldest = this.pending.values().next();
    if (oldest.done === true) return;
    const delay = Math.max(0, oldest.value.deadlineMs - this.deps.runtime.now());
    this.sweepTimer = this.deps.runtime.setTimer(delay, this.sweep);
  }

  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    const now = this.deps.runtime.now();
    for (const [rid, p] of this.pending) {
      if (p.deadlineMs > now) break;
      const what = `${p.body.op} ${JSON.stringify(p.body.key)}: no answer within ${this.deps.requestTimeoutMs} ms`;
      // A transaction of gets and checks changed nothing, answered or not: definite, as the
      // cluster's refusals of reads are (too-large.ts readTooLarge), and recorded failed. It was
      // a TimeoutError, "may or may not have taken effect" (found by an audit, session 60).
      // A get keeps its TimeoutError: scenario.ts convergence reads it as a request a balancer
      // dropped (tried again from another client), an UnavailableError as a read refused for good.
      this.settle(
        rid,
        undefined,
        p.body.op === 'txn' && onlyReads(p.body.ops ?? [])
          ? new UnavailableError(`${what}; ${TXN_ONLY_READ}`)
          : new TimeoutError(`${what}; it may or may not have taken effect`),
      );
    }
    if (!this.closed) this.armSweep();
  };

  private takeSlot(): number {
    let i = this.slots.indexOf(false);
    if (i < 0) i = this.slots.length;
    this.slots[i] = true;
    return i;
  }

  private receive(envelope: Envelope): void {
    // Only answers and undeliverable notices are sent to a client's address; the host cannot
    // check that (see Behavior.receive), so it is taken as the client's inbound union.
    const msg = envelope.msg as ClientInbound;
    if (msg.type === 'res') {
      if (msg.ok) this.settle(msg.rid, msg.value, undefined);
      else this.settle(msg.rid, undefined, errorFromWire(msg.code, msg.message, msg.reason, msg.tooLarge === true));
      return;
    }
    if (msg.type === 'undeliverable') {
      const original = msg.original as { rid?: number } | null;
      if (original?.rid != null) this.settle(original.rid, undefined, this.notSent(original.rid, msg));
    }
  }

  /**
   * Why a request never left this client's host, or never went into the mailbox of its
   * receiver there ('mailbox-full', see notSent's branch). Too large, it says the request's size, the
   * limit and the option that raises it: a transaction of 20 puts of 65 KB values, each within
   * the value limit, failed with "request could not be sent: too-large" (found by an audit,
   * session 55). Still an UnavailableError, definite (nothing was sent): the size is known only
   * once the host encodes it, and checking it here first would encode every request twice.
   */
  private notSent(rid: number, msg: UndeliverableMessage): UnavailableError | TimeoutError {
    const body = this.pending.get(rid)?.body;
    const what = body === undefined ? 'request' : `${body.op} ${JSON.stringify(body.key)}${body.op === 'txn' ? ` (${body.ops?.length ?? 0} ops)` : ''}`;
    if (msg.reason === 'mailbox-full' || msg.reason === 'backlog-full') {
      // Dropped at the receiver ('mailbox-full'), or before it left this thread because the
      // receiver's host has not read what it was sent ('backlog-full': held in a long step, or
      // stuck): a copy the network duplicated may have gone in before, so only a read, which
      // changes nothing, fails as definite; a write may or may not have taken effect.
      const why =
        msg.reason === 'mailbox-full'
          ? `${what}: the mailbox of ${msg.to} is full (mailboxCapacity ${this.deps.host.mailboxCapacity}): dropped. Make fewer calls at once, or raise the cluster's mailboxCapacity option`
          : `${what}: the host of ${msg.to} has not read the frames sent to it (held in a long step, or stuck): dropped (backlog-full)`;
      const read = body !== undefined && (body.op === 'get' || (body.op === 'txn' && onlyReads(body.ops ?? [])));
      return read ? new UnavailableError(why) : new TimeoutError(`${why}; it may or may not have taken effect`);
    }
    if (msg.reason !== 'too-large' || msg.bytes === undefined) return new UnavailableError(`request could not be sent: ${String(msg.reason)}`);
    // On NATS the servers' max_payload caps messageBytesMax (a larger one is refused at start,
    // an unset one lowered to it): past that cap only a larger max_payload raises it.
    const nats =
      this.deps.runtime.kind === 'nats'
        ? "; with transport 'nats' at most the NATS servers' max_payload less framing, which an unset one is: raise max_payload for more"
        : '';
    return new UnavailableError(
      `${what}: the request is ${msg.bytes} bytes, over messageBytesMax (${this.deps.host.messageBytesMax} bytes): not sent. Send less in one call, or raise the cluster's messageBytesMax option (up to ${MESSAGE_BYTES_MAX_MAX} bytes${nats})`,
    );
  }

  private settle(rid: number, value: unknown, error: Error | undefined): void {
    const p = this.pending.get(rid);
    if (p === undefined) return; // Late answer after a timeout: already reported as unknown.
    this.pending.delete(rid);
    for (const r of p.recorded) this.slots[r.slot] = false;
    if (p.txn !== undefined) this.slots[p.txn.slot] = false;
    if (this.pending.size === 0 && this.sweepTimer !== undefined && !this.keepSweep) {
      this.sweepTimer.cancel();
      this.sweepTimer = undefined;
    }
    if (this.deps.onSettle !== undefined) {
      const op = p.body.op === 'get' && p.body.consistency === 'local' ? 'get-local' : p.body.op;
      const outcome = error === undefined ? 'ok' : error instanceof MeridianError && error.definite ? 'fail' : 'unknown';
      this.deps.onSettle(op, this.deps.runtime.now() - p.startMs, outcome);
    }
    for (const r of p.recorded) {
      if (error === undefined)
        this.deps.observer.complete(
          r.id,
          'ok',
          // What the caller gets is its own: the history keeps a copy of what was read.
          r.output === ANSWER
            ? copyValue(historyOutput(p.body, value))
            : r.output instanceof ReadOf
              ? copyValue(resultOf(p.body.ops ?? [], value)[r.output.index])
              : r.output,
        );
      else this.deps.observer.complete(r.id, error instanceof MeridianError && error.definite ? 'fail' : 'unknown');
    }
    if (p.txn !== undefined && this.deps.txnObserver !== undefined) {
      const t = p.txn;
      if (error === undefined) this.deps.txnObserver.record(t.process, 'ok', microOps(t.ops, resultOf(t.ops, value)));
      else if (error instanceof MeridianError && error.definite) this.deps.txnObserver.record(t.process, 'fail', unknownReads(microOps(t.ops, undefined)));
      else {
        this.deps.txnObserver.record(t.process, 'info', unknownReads(microOps(t.ops, undefined)));
        // The process may still be running it: its next transaction is another process's.
        this.processes[t.slot] = this.deps.txnObserver.newProcess();
      }
    }
    if (p.waitMark !== undefined) this.deps.driver?.endWait(p.waitMark);
    // A put or a delete resolves with nothing, whatever the answer carried.
    if (error === undefined) p.resolve(p.body.op === 'put' || p.body.op === 'delete' ? undefined : value);
    else p.reject(error);
  }

  /** @internal the cluster's: fails every open call with `error` (a stalled simulation); the client stays usable. */
  fail(error: Error): void {
    for (const rid of [...this.pending.keys()]) this.settle(rid, undefined, error);
  }

  /**
   * Done with this client: its open calls reject with StoppedError (indefinite: they may or
   * may not have taken effect), and so do later ones; answers still on their way are dropped.
   * The cluster lets go of it, so a long-lived cluster can make and close clients without
   * growing. The cluster's `stop()` closes every client.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const stopping = this.deps.isStopped();
    const message = stopping
      ? 'the cluster stopped before an answer came; the call may or may not have taken effect'
      : `client ${this.id} was closed before an answer came; the call may or may not have taken effect`;
    this.fail(new StoppedError(message));
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.deps.host.removeExternal(this.address, stopping);
    this.deps.onClose?.();
  }

  get inflight(): number {
    return this.pending.size;
  }
}

/**
 * A transaction as per-key history operations, so the per-key checker sees its effect on
 * every key it touched (at the transaction's time): only checks -> a get that read the
 * checked value; only gets -> a get of what the first one read; only writes -> a put or
 * delete; a check and then writes -> a cas from the checked value to the last written one; a
 * get and writes -> the put or delete alone (what the get read is not known at invocation).
 * A key it appends to -> an 'append' of the values appended, which the register checker
 * reports unchecked (lists are checked as transactions, Elle): such a transaction was left out
 * whole, and a key with appends and register calls failed as a register that read a list no
 * write made (an audit, session 58).
 * Atomicity across keys is not what this checks (the bank scenario and the transactional
 * check do); consistency of each key with everything else is.
 */
function projectTransaction(ops: TxnOp[]): Projection[] {
  const byKey = new Map<string, { read: 'check' | 'get' | undefined; expected: unknown; written: boolean; next: unknown; appended: unknown[] }>();
  ops.forEach((op, i) => {
    let k = byKey.get(op.key);
    if (k === undefined) byKey.set(op.key, (k = { read: undefined, expected: undefined, written: false, next: undefined, appended: [] }));
    if (op.op === 'append') k.appended.push(op.value);
    if ((op.op === 'check' || op.op === 'get') && !k.written && k.read === undefined) {
      k.read = op.op;
      k.expected = op.op === 'check' ? op.value : new ReadOf(i);
    } else if (op.op === 'put') {
      k.written = true;
      k.next = op.value;
    } else if (op.op === 'delete') {
      k.written = true;
      k.next = undefined;
    }
  });
  const out: Projection[] = [];
  for (const [key, k] of byKey) {
    if (k.appended.length > 0) out.push({ key, kind: 'append', input: k.appended, output: undefined });
    else if (k.read === 'check' && k.written) out.push({ key, kind: 'cas', input: { expected: k.expected, next: k.next }, output: true });
    else if (k.read !== undefined && !k.written) out.push({ key, kind: 'get', input: undefined, output: k.expected });
    else if (k.next === undefined) out.push({ key, kind: 'delete', input: undefined, output: undefined });
    else out.push({ key, kind: 'put', input: k.next, output: undefined });
  }
  return out;
}

/** The coordinator's answer (one `[value]` or `[]` per op) as the values for the caller. */
function resultOf(ops: TxnOp[], wire: unknown): unknown[] {
  const entries = Array.isArray(wire) ? (wire as unknown[]) : [];
  return ops.map((op, i) => {
    if (op.op !== 'get') return undefined;
    const e = entries[i];
    return Array.isArray(e) && e.length === 1 ? e[0] : undefined;
  });
}

/** Reads not known (an invocation, a failure): null, whatever a check expected. */
function unknownReads(ops: TxnMicroOp[]): TxnMicroOp[] {
  return ops.map((m) => (m[0] === 'r' ? ['r', m[1], null] : m));
}

/** A transaction's ops as Elle micro-ops; `reads` (aligned with ops) fills in the reads. */
function microOps(ops: TxnOp[], reads: unknown[] | undefined): TxnMicroOp[] {
  return ops.map((op, i): TxnMicroOp => {
    switch (op.op) {
      case 'append':
        return ['append', op.key, op.value];
      case 'put':
        return ['w', op.key, op.value];
      case 'delete':
        return ['w', op.key, null];
      // A completed read of a missing key stays undefined here; the recorder renders it per model.
      case 'check':
        return ['r', op.key, op.value];
      case 'get':
        return ['r', op.key, reads === undefined ? null : copyValue(reads[i])];
    }
  });
}

function historyOutput(body: RequestBody, value: unknown): unknown {
  if (body.op === 'get' || body.op === 'cas') return value;
  return undefined;
}

/** `tooLarge`: the answer was refused as over messageBytesMax (too-large.ts), an UNAVAILABLE one a read's. */
function errorFromWire(code: string, message: string, reason: unknown, tooLarge: boolean): Error {
  switch (code) {
    case 'UNAVAILABLE':
      return tooLarge ? new AnswerTooLargeError(message) : new UnavailableError(message);
    case 'ABORTED':
      return new AbortedError(message, typeof reason === 'string' && reason.length > 0 ? reason : undefined);
    case 'VALIDATION':
      return new ValidationError('request', message);
    case 'TIMEOUT':
      return new TimeoutError(message);
    default:
      return new TimeoutError(`${code}: ${message}; the outcome is unknown`);
  }
}

const encoder = new TextEncoder();

/**
 * Arguments past a call's last parameter, refused as an option a call does not have is
 * (checkOptions): `transaction(ops, { timeout: 5 })` ran with the cluster's request timeout and
 * said nothing, as did `put(key, value, more)` (found by an audit, session 60). A rest
 * parameter of `never` gathers them, so TypeScript refuses them at compile time too. The
 * cluster's metrics calls use it as well (`metrics()` takes no argument at all).
 */
export function checkNoMore(call: string, params: readonly string[], extra: readonly unknown[]): void {
  if (extra.length === 0) return;
  const n = params.length;
  const takes = n === 0 ? 'no arguments' : n === 1 ? '1 argument' : `${n} arguments`;
  throw new ValidationError(
    `arguments[${n}]`,
    `nothing: ${call}(${params.join(', ')}) takes ${takes}, got ${n + extra.length} (${extra.map((a) => describe(a)).join(', ')}${n === 0 ? '' : ` after ${params[n - 1]!}`})`,
  );
}

export function checkKey(key: unknown, field = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw new ValidationError(field, `a non-empty string, got ${typeof key === 'string' ? 'an empty string' : typeof key}`);
  // A key of at most KEY_BYTES_MAX / 3 characters fits whatever it holds (3 bytes a UTF-16 unit at most).
  if (key.length > KEY_BYTES_MAX || (key.length * 3 > KEY_BYTES_MAX && encoder.encode(key).byteLength > KEY_BYTES_MAX))
    throw new ValidationError(field, `at most ${KEY_BYTES_MAX} bytes of UTF-8`);
  if (LONE_SURROGATE.test(key)) throw new ValidationError(field, WELL_FORMED);
}

/** A UTF-16 surrogate without its pair: UTF-8 cannot carry it (it would come back as U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const WELL_FORMED = 'a well-formed string (no lone surrogate such as "\\ud800": it would not come back as it was)';

/**
 * Values are plain data: null, booleans, numbers, strings, arrays, plain objects, byte arrays.
 * What the codec cannot bring back exactly is refused, naming its path: -0 (it would read
 * back as 0), a string with a lone surrogate (U+FFFD), an array with holes, named properties
 * or symbol keys (dropped) or another prototype (an Array subclass: it comes back a plain
 * Array), an object with an own `__proto__` key (renamed by the decoder) or symbol keys (dropped).
 */
export function checkValue(value: unknown, field: string): void {
  let bytes = 0;
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > VALUE_DEPTH_MAX) throw new ValidationError(path, `nested deeper than ${VALUE_DEPTH_MAX} levels`);
    if (v === null || typeof v === 'boolean') {
      bytes += 1;
      return;
    }
    if (typeof v === 'number') {
      if (Object.is(v, -0)) throw new ValidationError(path, 'a number other than -0 (it would read back as 0)');
      bytes += 9;
      return;
    }
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) throw new ValidationError(path, WELL_FORMED);
      bytes += (v.length < 64 ? v.length * 3 : encoder.encode(v).byteLength) + 5;
      return;
    }
    if (v === undefined) throw new ValidationError(path, 'a value (undefined is not storable; use delete to remove a key)');
    if (v instanceof Uint8Array) {
      bytes += v.byteLength + 5;
      return;
    }
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) {
        const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'array';
        throw new ValidationError(path, `a plain array (a ${name} would come back as a plain Array)`);
      }
      bytes += 5;
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) throw new ValidationError(`${path}[${i}]`, 'an element (an array with holes would not come back as it was)');
        walk(v[i], `${path}[${i}]`, depth + 1);
      }
      // Every index is there (no holes): more own keys are named ones, which the codec drops
      // (a String.match result's index, input and groups; found by an audit, session 58).
      if (Object.keys(v).length !== v.length) {
        const named = Object.keys(v).find((k) => !/^(0|[1-9]\d*)$/.test(k)) ?? '';
        throw new ValidationError(`${path}.${named}`, 'an array without named properties (they would be dropped)');
      }
      if (Object.getOwnPropertySymbols(v).length > 0) throw new ValidationError(path, 'an array without symbol keys (they would be dropped)');
      return;
    }
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      bytes += 5;
      if (Object.getOwnPropertySymbols(v).length > 0) throw new ValidationError(path, 'an object with string keys only (symbol keys would be dropped)');
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        if (k === '__proto__') throw new ValidationError(`${path}.${k}`, 'a key other than "__proto__" (the decoder renames it)');
        if (LONE_SURROGATE.test(k)) throw new ValidationError(`${path}.${JSON.stringify(k)}`, WELL_FORMED);
        bytes += k.length * 3 + 5;
        if (item === undefined) throw new ValidationError(`${path}.${k}`, 'a value (undefined is not storable)');
        walk(item, `${path}.${k}`, depth + 1);
      }
      return;
    }
    const what = typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v;
    throw new ValidationError(path, `plain data (null, boolean, number, string, array, plain object, Uint8Array), got ${what}`);
  };
  walk(value, field, 0);
  // `bytes` is at most what the value encodes to, up to 8x more (9 a number, 3 a character of
  // a short string): over the limit, the codec measures it before it is refused. Refusing the
  // estimate refused values the docs allow (8,000 small ints, 8,003 bytes, as "about 72005";
  // found by an audit, session 58).
  if (bytes > VALUE_BYTES_MAX) {
    const exact = encodedBytes(value);
    if (exact > VALUE_BYTES_MAX) throw new ValidationError(field, `at most ${VALUE_BYTES_MAX} bytes encoded (${exact} here)`);
  }
}
