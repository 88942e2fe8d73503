/**
 * The cluster's history recorders: they observe its clients (src/cluster/observer.ts) and
 * keep what `cluster.history()` returns. The history data types are in src/core/history.ts.
 */
import type { Clock } from '../core/clock.js';
import { ValidationError, describe } from '../core/errors.js';
import { allKeys } from '../core/validate.js';
import {
  copyValue,
  OP_KINDS,
  OP_OUTCOMES,
  type History,
  type HistoryOp,
  type InvokeInput,
  type OpOutcome,
  type TxnEventType,
  type TxnHistoryOp,
  type TxnMicroOp,
} from '../core/history.js';
import type { OpObserver, TxnObserver } from './observer.js';

const performanceClock: Clock = { now: () => performance.now() };

/** What invoke() is given, whatever its type says: undefined failed with a TypeError reading 'client'. */
function checkInvoke(call: InvokeInput): void {
  const given: unknown = call;
  if (typeof given !== 'object' || given === null) throw new ValidationError('call', `{ client, key, kind, input? }, got ${describe(given)}`);
  if (typeof call.client !== 'string') throw new ValidationError('call.client', `a string, got ${describe(call.client)}`);
  if (typeof call.key !== 'string') throw new ValidationError('call.key', `a string, got ${describe(call.key)}`);
  if (!OP_KINDS.includes(call.kind)) throw new ValidationError('call.kind', `one of ${OP_KINDS.join(', ')}, got ${describe(call.kind)}`);
  // A misspelt field ({ inptu: 5 }) was dropped without a word, and the operation recorded with
  // no input (found by an audit, session 55). for-in: nothing allocated, on every client call.
  for (const field in call) {
    if (!INVOKE_FIELDS.includes(field)) throw new ValidationError(`call.${field}`, `not a field of a call (${INVOKE_FIELDS.join(', ')} are)`);
  }
}

const INVOKE_FIELDS: readonly string[] = allKeys<InvokeInput>()(['client', 'key', 'kind', 'input']);

/**
 * The clock's time, checked: a clock that gave NaN (or no number) was recorded as it was, and
 * the history failed only later, in checkHistory (found by an audit, session 55).
 */
function readClock(clock: Clock): number {
  const now: unknown = clock.now();
  if (typeof now !== 'number' || !Number.isFinite(now))
    throw new ValidationError('clock', `an object whose now() gives finite milliseconds; it gave ${describe(now)}`);
  return now;
}

/**
 * Records operations as they are invoked and completed. Time comes from an injected clock so
 * the simulator can record in virtual time; the default is `performance.now()`.
 */
export class HistoryRecorder implements OpObserver {
  private readonly clock: Clock;
  private readonly ops: HistoryOp[] = [];
  /** Index into `ops` of each operation still open, by id. */
  private readonly open = new Map<number, number>();
  /** The id of the operation each client has open, if any. */
  private readonly openByClient = new Map<string, number>();
  private nextId = 0;

  constructor(clock: Clock = performanceClock) {
    // A clock without now() failed at the first invoke(), as a bare TypeError.
    if (typeof clock !== 'object' || clock === null || typeof (clock as Partial<Clock>).now !== 'function')
      throw new ValidationError('clock', `an object with now() (milliseconds), got ${describe(clock)}`);
    this.clock = clock;
  }

  /** Starts an operation and returns its id. A client may have only one operation open. */
  invoke(call: InvokeInput): number {
    checkInvoke(call);
    const busy = this.openByClient.get(call.client);
    if (busy !== undefined) {
      throw new ValidationError('client', `${JSON.stringify(call.client)} already has operation ${busy} open`);
    }
    // Read before anything is recorded: a clock refused leaves the recorder as it was.
    const invokeMs = readClock(this.clock);
    const id = this.nextId++;
    const op: HistoryOp = {
      id,
      client: call.client,
      key: call.key,
      kind: call.kind,
      input: call.input,
      invokeMs,
      outcome: 'unknown',
    };
    this.open.set(id, this.ops.length);
    this.openByClient.set(call.client, id);
    this.ops.push(op);
    return id;
  }

  /**
   * Completes an open operation. An 'unknown' outcome closes it without a completion time:
   * the client gave up waiting, so the operation may still take effect later.
   */
  complete(id: number, outcome: OpOutcome, output?: unknown): void {
    if (!OP_OUTCOMES.includes(outcome)) throw new ValidationError('outcome', `one of ${OP_OUTCOMES.join(', ')}, got ${describe(outcome)}`);
    const index = this.open.get(id);
    if (index === undefined) throw new ValidationError('id', `operation ${id} is not open`);
    const op = this.ops[index] as HistoryOp;
    // Read before the operation is closed (an 'unknown' one gets no completion time): a clock
    // refused leaves it open.
    const now = outcome === 'unknown' ? 0 : readClock(this.clock);
    this.open.delete(id);
    this.openByClient.delete(op.client);
    op.outcome = outcome;
    if (outcome === 'unknown') return;
    op.completeMs = Math.max(now, op.invokeMs);
    if (outcome === 'ok' && output !== undefined) op.output = output;
  }

  /** The number of operations still open. */
  get pending(): number {
    return this.open.size;
  }

  /**
   * A copy of the history so far. Operations still open appear with an 'unknown' outcome,
   * which is what they are: they may yet take effect.
   */
  toHistory(): History {
    // Values copied all the way down: a shallow copy shared them with the record, and editing
    // one history()'s output changed the next's (an audit, session 57).
    return this.ops.map((op) => {
      const copy = { ...op, input: copyValue(op.input) };
      if (op.output !== undefined) copy.output = copyValue(op.output);
      return copy;
    });
  }
}

/** Events the history keeps at most; then it stops recording (see `truncated`). */
export const TXN_HISTORY_EVENTS_MAX = 2_000_000;

/** Records transaction events as they happen (the recorder's order is the real-time order). */
export class TxnHistoryRecorder implements TxnObserver {
  private readonly events: TxnHistoryOp[] = [];
  private nextProcess = 0;
  truncated = false;

  /** `now`: the clock each event's `time` is read from. */
  constructor(private readonly now: () => number) {}

  /** A process id never handed out before. */
  newProcess(): number {
    return this.nextProcess++;
  }

  record(process: number, type: TxnEventType, value: TxnMicroOp[]): void {
    if (this.events.length >= TXN_HISTORY_EVENTS_MAX) {
      this.truncated = true;
      return;
    }
    this.events.push({ index: this.events.length, process, type, f: 'txn', value, time: this.now() });
  }

  /**
   * A copy of every event so far. Invocations without completion are left open (Elle reads
   * them as info). A completed read of a missing key (recorded as undefined) becomes `[]` for
   * 'list-append' (an empty list: what the checker reads as "nothing appended yet") and
   * `null` for 'rw-register' (the initial state); an invocation's reads stay null (unknown).
   */
  toHistory(model: 'list-append' | 'rw-register' = 'list-append'): TxnHistoryOp[] {
    const missing = (): unknown => (model === 'list-append' ? [] : null);
    return this.events.map((e) => ({ ...e, value: e.value.map((m) => [m[0], m[1], m[2] === undefined ? missing() : copyValue(m[2])] as TxnMicroOp) }));
  }
}
