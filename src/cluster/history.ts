/**
 * The cluster's history recorders: they observe its clients (src/cluster/observer.ts) and
 * keep what `cluster.history()` returns. The history data types are in src/core/history.ts.
 */
import type { Clock } from '../core/clock.js';
import { ValidationError, describe } from '../core/errors.js';
import { allKeys } from '../core/validate.js';
import { HISTORY_NESTING_MAX } from '../core/limits.js';
import {
  casProblem,
  checkRecordedValue,
  copyValue,
  entryKinds,
  validateEvent,
  validateOpFields,
  type TxnHistoryModel,
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

/** A byte array's (any ArrayBuffer view's) bytes as lowercase hex, two digits each. */
export function bytesHex(view: ArrayBufferView): string {
  let hex = '';
  for (const byte of new Uint8Array(view.buffer, view.byteOffset, view.byteLength)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The `format` of a document historyToJson writes. */
export const HISTORY_JSON_FORMAT = 'meridian-history';

/** The key a value historyToJson could not write as JSON is tagged with (`{ "$meridian": "bytes", "hex": "0102" }`). */
const TAG = '$meridian';
/** An array's hole, as written. */
const HOLE = { [TAG]: 'hole' };

/** A path below a value, as a reader writes it: `[0].input`, `["a b"]`. */
export function pathText(path: ReadonlyArray<string | number>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

/** A path 1,000 deep cut short at a step: the message stays a line a reader can take in. */
export function shortPath(path: string): string {
  if (path.length <= 120) return path;
  const cut = path.slice(0, 100);
  return `${cut.slice(0, Math.max(cut.lastIndexOf('['), cut.lastIndexOf('.')))}...`;
}

/**
 * A nesting deeper than HISTORY_NESTING_MAX in `value` (itself at `depth`): its path below
 * `value`; undefined if there is none. What `meridian verify` refuses in a file, and
 * historyToJson does not write.
 */
export function tooDeep(value: unknown, depth = 0): Array<string | number> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth === HISTORY_NESTING_MAX) return [];
  for (const k of Array.isArray(value) ? value.keys() : Object.keys(value)) {
    const found = tooDeep((value as Record<string | number, unknown>)[k], depth + 1);
    if (found !== undefined) return [k, ...found];
  }
  return undefined;
}

/**
 * A history (cluster.history(), in either format) as JSON that `meridian verify` reads back
 * value for value: `{"format":"meridian-history","version":1,"history":[...]}`, one operation a
 * line. JSON.stringify does not: it writes NaN, Infinity and -Infinity as null, -0 as 0, a byte
 * array as an object of its bytes ({"0":1,"1":2}) and a Map as {}, and drops undefined, so a
 * history saved with it can check linearizable when it is not (a read of NaN taken for a read of
 * null: an audit, session 61). Here such values are written tagged, `{"$meridian": ...}`: a
 * number as its text ("NaN", "Infinity", "-Infinity", "-0"), a byte array (any ArrayBuffer view)
 * as its bytes in hex, a bigint as its digits, a Map as its entries, undefined within a value,
 * an array's hole; a plain object that has a `$meridian` key of its own as its entries.
 * historyFromJson reads it. What it writes, `meridian verify` reads back: a value the checkers
 * refuse (a Date, a Set or a class instance, which JSON wrote as {} and verify then took, a
 * cycle, a nesting deeper than HISTORY_NESTING_MAX) is refused here, the field named, and so
 * is one nested deeper than that as written (a tag takes up to three levels: a Map of Maps),
 * which verify refused as written (an audit, session 62). So is an entry verify refuses, by the
 * functions verify's checkers call: an operation's id (an integer, unique), client, key, kind,
 * outcome, invokeMs and completeMs (validateOpFields); an event's index (unique), process, type,
 * f, time and micro-ops, as the model it is written for reads them (validateEvent; see txnModelOf).
 * A single-key operation is read as the register model reads it (verify's default; casProblem).
 * Left to verify: what spans entries (a completion without its invocation, a value appended twice).
 */
export function historyToJson(history: readonly unknown[]): string {
  if (!Array.isArray(history)) throw new ValidationError('history', `expected an array (what cluster.history() returns), got ${describe(history)}`);
  // Each entry as verify requires it (an operation without a kind, an event with a type verify
  // does not know or an append of an object was written, and verify refused the file: found by
  // an audit): read as the kind most entries are, as verify does, and refused, named, up front.
  const { events, operations } = entryKinds(history);
  const model = events > operations ? txnModelOf(history) : undefined;
  const ids = new Set<number>();
  const indexes = new Map<number, number>();
  for (let i = 0; i < history.length; i++) {
    const op: unknown = history[i];
    if (typeof op !== 'object' || op === null || Array.isArray(op))
      throw new ValidationError(`history[${i}]`, `expected an operation object, got ${describe(op)}`);
    if (model !== undefined) validateEvent(op, i, indexes, model);
    else {
      validateOpFields(op as HistoryOp, i, ids);
      // A single-key history is cluster.history()'s, which verify checks as registers by default.
      const problem = casProblem(op as HistoryOp);
      if (problem !== undefined) throw new ValidationError(`history[${i}]`, problem);
    }
  }
  const lines: string[] = [];
  for (let i = 0; i < history.length; i++) {
    const op = history[i] as object;
    // The operation's own fields as they are (an undefined one, as a get's input, left out:
    // absent reads as undefined), each value tagged where JSON cannot hold it.
    const fields = Object.entries(op).filter(([, value]) => value !== undefined);
    for (const [field, value] of fields) checkRecordedValue(value, `history[${i}].${field}`);
    const written = Object.fromEntries(fields.map(([field, value]) => [field, taggedValue(value, `history[${i}].${field}`)]));
    // Depth 1: the operation, inside the document's history array, as verify counts.
    const deep = tooDeep(written, 1);
    if (deep !== undefined)
      throw new ValidationError(
        `history[${i}]${shortPath(pathText(deep))}`,
        `a value nested at most ${HISTORY_NESTING_MAX} deep as written, with its tags (a Map or a tagged object takes three levels), got one deeper: meridian verify would refuse the file`,
      );
    lines.push(JSON.stringify(written));
  }
  return `{"format":"${HISTORY_JSON_FORMAT}","version":1,"history":[\n${lines.join(',\n')}\n]}\n`;
}

/**
 * The model a history of Elle's events is written for, as cluster.history({ format: 'elle',
 * model }) writes them: rw-register when a micro-op writes ('w'), else list-append. verify reads
 * one with --model rw-register; list-append is its default.
 */
function txnModelOf(history: readonly unknown[]): TxnHistoryModel {
  const writes = (entry: unknown): boolean => {
    const value = (entry as { value?: unknown } | null)?.value;
    return Array.isArray(value) && value.some((mop) => Array.isArray(mop) && mop[0] === 'w');
  };
  return history.some(writes) ? 'rw-register' : 'list-append';
}

/** `value` with what JSON cannot hold as it is tagged (see historyToJson); `path` names it in an error. */
function taggedValue(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { [TAG]: 'number', value: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { [TAG]: 'bigint', value: String(value) };
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      throw new ValidationError(path, `expected plain data, got a ${typeof value}`);
  }
  if (value === null) return null;
  if (ArrayBuffer.isView(value)) return { [TAG]: 'bytes', hex: bytesHex(value) };
  // Array.from, not map: map keeps a hole, which JSON.stringify writes as null (a put of
  // [1, , 3] then read back as [1, null, 3], which the checker tells apart: an audit, session 62).
  if (Array.isArray(value)) return Array.from(value, (v, i) => (i in value ? taggedValue(v, `${path}[${i}]`) : HOLE));
  if (value instanceof Map)
    return { [TAG]: 'map', entries: [...value].map(([k, v], i) => [taggedValue(k, `${path} key ${i}`), taggedValue(v, `${path} value ${i}`)]) };
  const entries = Object.entries(value).map(([k, v]) => [k, taggedValue(v, `${path}.${k}`)] as const);
  return Object.hasOwn(value, TAG) ? { [TAG]: 'object', entries } : Object.fromEntries(entries);
}

/**
 * The history a historyToJson document holds (`text`, or the document JSON.parse read from it),
 * its tagged values read back; a ValidationError naming the field for a document of another
 * shape or a tag it does not know.
 */
export function historyFromJson(text: string | object): unknown[] {
  // Said as what it is: a number was refused as "format: ... got undefined" (an audit, session 61).
  if (typeof text !== 'string' && (typeof text !== 'object' || text === null))
    throw new ValidationError('text', `expected the JSON historyToJson wrote, as a string or parsed, got ${describe(text)}`);
  let doc: unknown = text;
  if (typeof text === 'string') {
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new ValidationError('text', `expected JSON, got ${(error as Error).message}`);
    }
  }
  const d = doc as { format?: unknown; version?: unknown; history?: unknown };
  if (typeof doc !== 'object' || doc === null || d.format !== HISTORY_JSON_FORMAT)
    throw new ValidationError('format', `expected "${HISTORY_JSON_FORMAT}" (a document historyToJson wrote), got ${describe(d?.format)}`);
  if (d.version !== 1) throw new ValidationError('version', `expected 1, got ${describe(d.version)}`);
  if (!Array.isArray(d.history)) throw new ValidationError('history', `expected an array of operations, got ${describe(d.history)}`);
  // Before the tags are undone, which recurses: a document nested 100,000 deep overflowed the stack (a RangeError).
  const deep = tooDeep(d.history);
  if (deep !== undefined) throw new ValidationError(`history${shortPath(pathText(deep))}`, `nested at most ${HISTORY_NESTING_MAX} deep, got one deeper`);
  return d.history.map((op: unknown, i) => {
    if (typeof op !== 'object' || op === null || Array.isArray(op))
      throw new ValidationError(`history[${i}]`, `expected an operation object, got ${describe(op)}`);
    // fromEntries: a key "__proto__" stays a key (an assignment would set the prototype).
    return Object.fromEntries(Object.entries(op).map(([field, value]) => [field, untagged(value, `history[${i}].${field}`)]));
  });
}

/** An array's hole as historyToJson writes it: `{"$meridian": "hole"}` and nothing else. */
function isHole(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.hasOwn(v, TAG) &&
    (v as Record<string, unknown>)[TAG] === 'hole' &&
    Object.keys(v).length === 1
  );
}

/** A value historyToJson wrote, read back: its tags undone. */
function untagged(value: unknown, path: string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    // A hole written as HOLE is left a hole.
    const array: unknown[] = new Array(value.length);
    value.forEach((v, i) => {
      if (!isHole(v)) array[i] = untagged(v, `${path}[${i}]`);
    });
    return array;
  }
  const o = value as Record<string, unknown>;
  if (!Object.hasOwn(o, TAG)) return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, untagged(v, `${path}.${k}`)]));
  const tag = o[TAG];
  const bad = (what: string): never => {
    throw new ValidationError(path, `expected ${what} (a value historyToJson tagged), got ${JSON.stringify(value).slice(0, 80)}`);
  };
  const fields = (...names: string[]): void => {
    if (Object.keys(o).length !== names.length + 1 || !names.every((n) => Object.hasOwn(o, n)))
      bad(`{"${TAG}": "${String(tag)}"${names.map((n) => `, "${n}"`).join('')}} and nothing else`);
  };
  switch (tag) {
    case 'number': {
      fields('value');
      const n = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 }[String(o.value)];
      return n ?? bad('a number: "NaN", "Infinity", "-Infinity" or "-0"');
    }
    case 'bigint':
      fields('value');
      return typeof o.value === 'string' && /^-?\d+$/.test(o.value) ? BigInt(o.value) : bad('a bigint: its digits as a string');
    case 'undefined':
      fields();
      return undefined;
    case 'bytes': {
      fields('hex');
      const hex = o.hex;
      if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(hex)) return bad('bytes: an even number of lowercase hex digits');
      const bytes = new Uint8Array(hex.length / 2);
      for (let b = 0; b < bytes.length; b++) bytes[b] = parseInt(hex.slice(2 * b, 2 * b + 2), 16);
      return bytes;
    }
    case 'map':
      fields('entries');
      if (!Array.isArray(o.entries) || !o.entries.every((e) => Array.isArray(e) && e.length === 2)) return bad('a Map: its entries as [key, value] pairs');
      return new Map((o.entries as Array<[unknown, unknown]>).map(([k, v], i) => [untagged(k, `${path} key ${i}`), untagged(v, `${path} value ${i}`)]));
    case 'object': {
      fields('entries');
      if (!Array.isArray(o.entries) || !o.entries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string'))
        return bad('an object: its entries as [key, value] pairs');
      return Object.fromEntries((o.entries as Array<[string, unknown]>).map(([k, v]) => [k, untagged(v, `${path}.${k}`)]));
    }
    case 'hole':
      fields();
      return bad('an array element, the only place historyToJson writes a hole');
    default:
      return bad(`a tag historyToJson writes: "number", "bigint", "undefined", "bytes", "map", "object" or "hole"`);
  }
}
