/**
 * Histories of client operations: plain data (no classes inside a history), so a history
 * survives the codec and can be posted to a checker worker thread. The cluster records them
 * (src/cluster/history.ts), the metrics read them, and the checkers in src/harness check them.
 *
 * Two shapes: per-key operations with invoke and completion times, for the linearizability
 * checker; and transactions in Elle's shape, for the transactional checker.
 */
import { ValidationError, describe } from './errors.js';
import { HISTORY_NESTING_MAX } from './limits.js';

export type OpKind = 'get' | 'put' | 'delete' | 'cas' | 'append' | 'read' | 'write';

/**
 * 'ok': completed with a known output. 'fail': definitely did not take effect (the checker
 * drops it). 'unknown': may have taken effect at any time after its invocation, or never.
 */
export type OpOutcome = 'ok' | 'fail' | 'unknown';

export interface HistoryOp {
  /** Unique within the history. */
  id: number;
  /**
   * A client/process id. A Meridian client's calls each have one of their own (`address#slot`),
   * open one at a time; the checker does not rely on it (it orders operations by their times
   * alone, which already order one client's), so overlapping operations of one id are taken.
   */
  client: string;
  /** Operations on different keys are checked independently ('' for a single register). */
  key: string;
  kind: OpKind;
  /** put/write: the value; cas: { expected, next }; append: a string (the kv model), the values appended in order (a cluster's list append); get/read/delete: undefined. */
  input: unknown;
  /** When invoked, on any monotonic clock; equal times count as concurrent. */
  invokeMs: number;
  outcome: OpOutcome;
  /** get/read: the value read (undefined = missing); cas: true (swapped) or false (value differed). */
  output?: unknown;
  /** When the response arrived; absent when the outcome is 'unknown'. */
  completeMs?: number;
}

export type History = HistoryOp[];

export const OP_KINDS: readonly OpKind[] = ['get', 'put', 'delete', 'cas', 'append', 'read', 'write'];
export const OP_OUTCOMES: readonly OpOutcome[] = ['ok', 'fail', 'unknown'];

/** What a caller says when it invokes an operation. */
export interface InvokeInput {
  client: string;
  key: string;
  kind: OpKind;
  input?: unknown;
}

/*
 * Transaction histories in Elle's shape (Kingsbury & Alvaro, "Elle: Inferring Isolation
 * Anomalies from Experimental Observations", 2020): one event per invocation and one per
 * completion, in real-time order. `cluster.history({ format: 'elle' })` returns them; the
 * transactional checker reads them.
 */

/** ['append', key, v] | ['r', key, list | null] (list-append); ['w', key, v] | ['r', key, v | null] (rw-register). */
export type TxnMicroOp = ['append', string, unknown] | ['r', string, unknown] | ['w', string, unknown];

/** 'invoke', then one of 'ok': committed; 'fail': definitely did not happen; 'info': may or may not have happened. */
export type TxnEventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface TxnHistoryOp {
  /** Position in the history, from 0. */
  index: number;
  /** A logical single-threaded process; a process that ends in 'info' is not used again. */
  process: number | string;
  type: TxnEventType;
  f: 'txn';
  /** The micro-ops; an invocation's reads are null, an ok completion's hold what was read. */
  value: TxnMicroOp[];
  /** When it was recorded, ms on the cluster's clock (virtual in the simulator), as HistoryOp's invokeMs and completeMs (cluster.history() sets it; optional for histories made elsewhere). */
  time?: number;
}

/**
 * A copy of a value checkValue accepts (or the decoder gives back), for the history: plain
 * objects, arrays and byte arrays are copied all the way down; anything else is kept as is.
 * Not codec.ts's copyEncoded (it would copy a byte array as an object of indexes), nor
 * structuredClone (its serialization for every recorded number and short list of a check run,
 * where this returns a primitive at once).
 */
export function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(copyValue);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = copyValue(item);
  return out;
}

const PLAIN_DATA = 'plain data (null, a boolean, number, string or bigint, an array, a plain object, a Map, a byte array)';

/**
 * A recorded input or output the checker can compare (src/harness/models.ts's canonical), and
 * historyToJson writes and reads back: plain data, Maps and byte arrays. A Date, a Set or a class instance compared equal to any other (by their own
 * keys: none), a function passed inline and failed to clone on the pool, and a cycle overflowed
 * the stack (found by an audit, session 55). `within`: the objects it is inside.
 */
export function checkRecordedValue(value: unknown, path: string, within: object[] = []): void {
  const type = typeof value;
  if (type !== 'object') {
    if (type === 'function' || type === 'symbol') throw new ValidationError(path, `${PLAIN_DATA}, got a ${type}`);
    return;
  }
  if (value === null || ArrayBuffer.isView(value)) return;
  const object = value as object;
  if (within.includes(object)) throw new ValidationError(path, `${PLAIN_DATA} without cycles, got an object inside itself`);
  if (within.length >= HISTORY_NESTING_MAX) throw new ValidationError(path, `${PLAIN_DATA} nested at most ${HISTORY_NESTING_MAX} deep`);
  within.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) checkRecordedValue(object[i], `${path}[${i}]`, within);
  } else if (object instanceof Map) {
    for (const [k, v] of object) {
      checkRecordedValue(k, `${path} (a key)`, within);
      checkRecordedValue(v, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : String(k)})`, within);
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null)
      throw new ValidationError(path, `${PLAIN_DATA}, got ${(object as { constructor?: { name?: string } }).constructor?.name ?? 'an object of another kind'}`);
    for (const [k, v] of Object.entries(object)) checkRecordedValue(v, `${path}.${k}`, within);
  }
  within.pop();
}

/*
 * What the checkers (src/harness) and `meridian verify` require of each entry of a history, as
 * its model reads it, and historyToJson (src/cluster/history.ts) of each entry it writes, so that
 * verify reads what it writes (it wrote entries verify then refused as malformed: found by an
 * audit). Here, in core, since the cluster writes histories and the harness reads them. What
 * spans entries (pairing, a value written twice) stays with the checkers, and so does the kv
 * model's rule (Porcupine's strings, src/harness/models.ts): no history of a cluster is one.
 */

/**
 * The name of entry `i`'s `field` ('' for the entry itself) in a message: `history[i].field` by
 * default; a parser that knows where each entry came from may name its line instead.
 */
export type EntryField = (i: number, field: string) => string;
export const HISTORY_FIELD: EntryField = (i, field) => `history[${i}]${field === '' ? '' : `.${field}`}`;

/**
 * How many entries look like Elle's events (an `f`, no `kind`) and how many like single-key
 * operations (a `kind`, no `f`). A history is read as the kind most of its entries are (single-key
 * operations when none is, or on a tie), an entry that does not fit refused by that kind's
 * validation: by `meridian verify` without --model, and by historyToJson.
 */
export function entryKinds(history: readonly unknown[]): { events: number; operations: number } {
  let events = 0;
  let operations = 0;
  for (const entry of history) {
    if (typeof entry !== 'object' || entry === null) continue;
    if ('f' in entry && !('kind' in entry)) events++;
    else if ('kind' in entry && !('f' in entry)) operations++;
  }
  return { events, operations };
}

/**
 * A single-key operation's fields (entry `index`), as HistoryOp says them; a ValidationError
 * naming the first bad one. `ids`: the ids of the entries before it (each is unique), to which
 * this one's is added.
 */
export function validateOpFields(op: HistoryOp, index: number, ids: Set<number>): void {
  const at = `history[${index}]`;
  if (typeof op !== 'object' || op === null) throw new ValidationError(at, 'expected an operation object');
  if (!Number.isInteger(op.id)) throw new ValidationError(`${at}.id`, 'expected an integer');
  if (ids.has(op.id)) throw new ValidationError(`${at}.id`, `duplicate id ${op.id}`);
  ids.add(op.id);
  if (typeof op.client !== 'string') throw new ValidationError(`${at}.client`, 'expected a string');
  if (typeof op.key !== 'string') throw new ValidationError(`${at}.key`, 'expected a string');
  if (!OP_KINDS.includes(op.kind)) throw new ValidationError(`${at}.kind`, `expected one of ${OP_KINDS.join(', ')}`);
  if (!OP_OUTCOMES.includes(op.outcome)) {
    throw new ValidationError(`${at}.outcome`, `expected one of ${OP_OUTCOMES.join(', ')}`);
  }
  if (typeof op.invokeMs !== 'number' || !Number.isFinite(op.invokeMs)) {
    throw new ValidationError(`${at}.invokeMs`, 'expected a finite number');
  }
  if (op.outcome === 'ok') {
    if (typeof op.completeMs !== 'number' || !Number.isFinite(op.completeMs)) {
      throw new ValidationError(`${at}.completeMs`, 'expected a finite number for an ok operation');
    }
    if (op.completeMs < op.invokeMs) throw new ValidationError(`${at}.completeMs`, 'is before invokeMs');
  } else if (op.outcome === 'unknown' && op.completeMs !== undefined) {
    // No response came (HistoryOp: absent when the outcome is 'unknown'); a time given was taken
    // with the time ignored, the operation left open for ever (an audit, session 61).
    throw new ValidationError(
      `${at}.completeMs`,
      `expected no completeMs for an unknown operation (no response came: it may take effect at any time after invokeMs), got ${describe(op.completeMs)}; an operation that answered is ok or fail`,
    );
  } else if (op.completeMs !== undefined && (typeof op.completeMs !== 'number' || !Number.isFinite(op.completeMs) || op.completeMs < op.invokeMs)) {
    // The checker reads no completion time of a failed operation, but the timeline draws one (a
    // null from a file crashed verify --timeline, Infinity drew a bar NaN wide: found by an audit, session 55).
    throw new ValidationError(
      `${at}.completeMs`,
      `expected a finite number not before invokeMs, or no completeMs at all, for a failed operation, got ${describe(op.completeMs)}`,
    );
  }
  checkRecordedValue(op.input, `${at}.input`, []);
  checkRecordedValue(op.output, `${at}.output`, []);
}

/** A cas's input, as recorded. */
export interface CasInput {
  /** Absent: the key is expected missing (as `undefined`; JSON, which has no undefined, leaves the field out). */
  expected?: unknown;
  next: unknown;
}

/**
 * What the register model (cluster.history()'s, and verify's default) refuses of an operation
 * beyond its fields (validateOpFields): a cas's input that is not { expected, next }, or an ok
 * one's output that is not a boolean. Undefined when nothing; a failed operation is not read.
 */
export function casProblem(op: { kind: OpKind; input: unknown; outcome: OpOutcome; output?: unknown }): string | undefined {
  if (op.kind !== 'cas' || op.outcome === 'fail') return undefined;
  if (typeof op.input !== 'object' || op.input === null || !('next' in op.input))
    return 'cas input must be { expected, next } (expected left out: the key is expected missing)';
  if (op.outcome === 'ok' && typeof op.output !== 'boolean') return 'cas output must be true or false';
  return undefined;
}

const TXN_EVENT_TYPES: readonly TxnEventType[] = ['invoke', 'ok', 'fail', 'info'];

/** A micro-op's key, or an event's process: a string or a finite number. */
function isTxnKey(k: unknown): boolean {
  return typeof k === 'string' || (typeof k === 'number' && Number.isFinite(k));
}

/** The transactional models: what a history of Elle's events is checked by (src/harness/elle's TxnModel). */
export type TxnHistoryModel = 'list-append' | 'rw-register';

/**
 * An Elle event (entry `i`) as `model` reads it: its fields, and its micro-ops' kinds, keys and
 * values; a ValidationError naming the first bad field (by `name`). `indexes`: the entry
 * holding each index so far (each is unique: the anomalies name transactions by it), to which
 * this one's is added.
 */
export function validateEvent(event: unknown, i: number, indexes: Map<number, number>, model: TxnHistoryModel, name: EntryField = HISTORY_FIELD): void {
  const op = event as Partial<TxnHistoryOp> | null;
  const at = (field: string): string => name(i, field);
  if (typeof op !== 'object' || op === null || Array.isArray(op)) throw new ValidationError(at(''), `expected an operation object, got ${describe(op)}`);
  if (typeof op.index !== 'number' || !Number.isSafeInteger(op.index) || op.index < 0)
    throw new ValidationError(at('index'), `expected an integer >= 0, got ${describe(op.index)}`);
  const other = indexes.get(op.index);
  if (other !== undefined) throw new ValidationError(at('index'), `${op.index} again (${name(other, 'index')} has it): each entry needs its own index`);
  indexes.set(op.index, i);
  if (!isTxnKey(op.process)) throw new ValidationError(at('process'), `expected a number or a string, got ${describe(op.process)}`);
  if (!TXN_EVENT_TYPES.includes(op.type as TxnEventType))
    throw new ValidationError(at('type'), `expected one of ${TXN_EVENT_TYPES.join(', ')}, got ${describe(op.type)}`);
  if (op.f !== 'txn') throw new ValidationError(at('f'), `expected "txn", got ${describe(op.f)}`);
  if (op.time !== undefined && (typeof op.time !== 'number' || !Number.isFinite(op.time)))
    throw new ValidationError(at('time'), `expected a finite number of ms, or none, got ${describe(op.time)}`);
  const value = op.value as unknown;
  if (!Array.isArray(value)) throw new ValidationError(at('value'), `expected an array of micro-ops, got ${describe(value)}`);
  const listAppend = model === 'list-append';
  for (let j = 0; j < value.length; j++) {
    const mop = value[j] as unknown;
    const mat = `value[${j}]`;
    if (!Array.isArray(mop) || mop.length !== 3) throw new ValidationError(at(mat), `expected a micro-op [f, key, value], got ${describe(mop)}`);
    const f = mop[0] as unknown;
    const write = listAppend ? 'append' : 'w';
    if (f !== 'r' && f !== write) {
      // A put beside appends (or an append beside puts): the other model refuses the other kind,
      // so such a history fits neither; say that, not only which kind this model takes (an audit, session 61).
      const other = f === (listAppend ? 'w' : 'append');
      throw new ValidationError(
        at(`${mat}[0]`),
        `expected "r" or "${write}" (model ${model}), got ${describe(f)}${other ? `: a history that ${listAppend ? 'writes (puts) some keys and appends to others' : 'appends to some keys and writes (puts) others'} mixes register keys and list keys, which no model checks (list-append takes appends, rw-register writes; each kind of key checked in a history of its own finds the anomalies within it, but two passes are no pass of the whole)` : ''}`,
      );
    }
    if (!isTxnKey(mop[1])) throw new ValidationError(at(`${mat}[1]`), `expected a key (a string or a finite number), got ${describe(mop[1])}`);
    const v = mop[2] as unknown;
    if (f !== 'r' || !listAppend) {
      if (!isTxnKey(v) && !(f === 'r' && v === null)) {
        // A write of null is how cluster.history({ format: 'elle', model: 'rw-register' }) records a
        // delete: say so, since the refusal read as a malformed history (found by an audit, session 55).
        // A read of a list is a read of a key that was appended to.
        const why =
          f === 'w' && v === null
            ? ' (a delete: rw-register checks histories of puts, not deletes)'
            : f === 'r' && Array.isArray(v)
              ? ` (key ${describe(mop[1])} holds a list: in a cluster's history an append wrote it; the history mixes registers and lists on that key and cannot be checked as rw-register)`
              : '';
        throw new ValidationError(at(`${mat}[2]`), `expected ${f === 'r' ? 'null or ' : ''}a value (a string or a finite number), got ${describe(v)}${why}`);
      }
    } else if (v !== null) {
      // A key given a plain put (cluster.history() records the read as the value it read): the
      // refusal read as a malformed history (an audit, session 58). Say what it is.
      if (!Array.isArray(v))
        throw new ValidationError(
          at(`${mat}[2]`),
          `expected null or a list of values, got ${describe(v)} (key ${describe(mop[1])} holds a register value, not a list: in a cluster's history a put or cas wrote it; the history mixes registers and lists on that key and cannot be checked as list-append)`,
        );
      for (let m = 0; m < v.length; m++) {
        const e = v[m] as unknown;
        if (typeof e === 'number' ? Number.isFinite(e) : typeof e === 'string') continue;
        if (!isTxnKey(v[m])) throw new ValidationError(at(`${mat}[2][${m}]`), `expected a value (a string or a finite number), got ${describe(v[m])}`);
      }
    }
  }
}
