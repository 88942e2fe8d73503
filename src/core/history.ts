/**
 * Histories of client operations: plain data (no classes inside a history), so a history
 * survives the codec and can be posted to a checker worker thread. The cluster records them
 * (src/cluster/history.ts), the metrics read them, and the checkers in src/harness check them.
 *
 * Two shapes: per-key operations with invoke and completion times, for the linearizability
 * checker; and transactions in Elle's shape, for the transactional checker.
 */
import { ValidationError } from './errors.js';
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
