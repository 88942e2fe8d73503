/**
 * A linearizability checker: the Wing–Gong algorithm with Lowe's memoisation, as Porcupine
 * implements it (github.com/anishathalye/porcupine, checker.go). Operations become call and
 * return entries in one doubly linked list sorted by time; the search repeatedly linearizes
 * the first call it can (the model accepts it and the pair (linearized set, model state) has
 * not been seen before), lifting the call and its return out of the list, and backtracks when
 * it reaches a return whose call is not linearized yet. The history is split by key first
 * (P-compositionality: each key is an independent object for both models).
 *
 * Unknown outcomes: an operation that may have taken effect at any time after its invocation,
 * or never, gets a return at +Infinity. "Never" needs no case of its own because such an
 * operation's output is unconstrained, so it can always be linearized after everything
 * else. For the same reason the search may stop as soon as every definite operation is
 * linearized.
 *
 * Beyond Porcupine, three things keep the search small (each is argued where it is coded):
 * model transitions are memoised on numbered states; a configuration whose unknown
 * operations are a superset of a seen one's (same definite set, same state) is skipped; and
 * unknown operations with the same kind and input are used in invocation order only.
 */
import { ValidationError, describe } from '../core/errors.js';
import { allKeys, checkOptions as checkOptionKeys } from '../core/validate.js';
import { Prng } from '../core/prng.js';
import { validateOpFields, type History, type HistoryOp } from '../core/history.js';
import { canonical, isModelName, MODEL_NAMES, modelByName, type Model, type ModelName, type ModelOp } from './models.js';

/**
 * Search steps (one step = one call tried or one backtrack) allowed per key before the key's
 * verdict is 'unknown'. Porcupine's hardest test histories need well under a million; the
 * cap keeps a pathological history from hanging a test run (a few seconds per key: some 20
 * million steps a second here). It was 10 million until `meridian check --seed 192 --mode
 * hybrid` (with the checkpoint-crash and crash-coordinator faults) left a key of 10 unknown
 * writes undecided at that bound; it is linearizable, decided within 50 million (in 0.5 s).
 */
export const CHECK_STEPS_MAX = 50_000_000;

/**
 * Words of configuration records one search may fill (256 MiB) before its key's verdict is
 * 'unknown', whatever steps are left: the bound on the checker's memory. The keys of crowded
 * check runs that were decided (`--clients 60 --keys 4`, `--clients 32 --keys 2`, 40 seeds
 * each) filled at most 4 million words; `check --seed 1 --clients 48 --keys 1`, undecided,
 * filled some 110 million before its steps ran out (600 MB of memory in all; 2.9 GB before
 * records kept only the window of open calls).
 */
export const CHECK_RECORD_WORDS_MAX = 1 << 26;

/**
 * Search steps per key once another key has failed. The verdict is settled by then, and a
 * failing key costs a full search of its failing prefix, so other keys get a short look
 * (Porcupine stops at the first failure); those that need more are listed in `timedOut`.
 */
export const AFTER_VIOLATION_STEPS_MAX = 100_000;

/**
 * Search steps for the first look at a key without its unseen unknown writes (see
 * `withoutUnseenUnknownWrites`), as a share of the key's budget; the full search follows with its own.
 */
const UNSEEN_FIRST_STEPS_SHARE = 0.2;

/** Words of configuration records a search allocates at most before it has recorded any (1 MiB). */
const RECORDS_INITIAL_WORDS = 262_144;

/**
 * The state key of every state no operation compares with (see `compared` in models.ts). No
 * model's hash gives it: it starts with a character `canonical` never begins with.
 */
const OPAQUE_STATE_KEY = '\u0000opaque';

/** How often (steps - 1, a power of two minus one) a search looks at the shared failure flag. */
const FAILED_POLL_MASK = 4095;

/**
 * Search steps allowed, in total over all violations of one check, to shrink failing prefixes
 * to small witnesses. Finding the shortest failing prefix is not counted here: it costs a
 * few searches of the size of the one that found the violation.
 */
export const SHRINK_STEPS_MAX = 500_000;

/** Search steps allowed for one trial while shrinking; a trial that runs out keeps its ops. */
export const SHRINK_TRIAL_STEPS_MAX = 30_000;

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** The keys of CheckOptions. */
export const CHECK_OPTION_KEYS = allKeys<CheckOptions>()(['stepsMax', 'shrink', 'unseenFirst']);

export interface CheckOptions {
  /** Search steps per key before giving up with 'unknown'; default CHECK_STEPS_MAX. */
  stepsMax?: number;
  /** Shrink each violation to a small witness (default true); off, `ops` is the failing prefix. */
  shrink?: boolean;
  /**
   * Search each key first without its unknown writes whose values no read saw (default true;
   * sound, see `withoutUnseenUnknownWrites`). Off only to measure what it saves.
   */
  unseenFirst?: boolean;
}

/**
 * Why a key is not linearizable, in two parts, both sound on their own:
 *
 * - `failedOp` ends the shortest failing prefix: the history cut just after this operation's
 *   completion (operations still open at the cut count as unknown) is already not
 *   linearizable, and the cut just before it is (or could not be decided). It is the first
 *   operation whose response cannot be explained.
 * - `ops` is a witness inside that prefix: definite operations that cannot be ordered even
 *   when every other operation of the key is weakened: those that changed nothing (reads, a
 *   cas that answered false) removed, the others made unknown (they may have happened at any
 *   time after their invocation, or never). Weakening only adds orders, so a witness that
 *   fails proves the whole key fails, with no hidden context. It is shrunk by delta debugging
 *   (ddmin) until weakening any single member makes it linearizable (`minimal: true`), unless
 *   the shrinking budget ran out first (`minimal: false`: still a witness, maybe not the
 *   smallest; with `shrink: false`, the definite operations of the shortest failing prefix).
 *   `failedOp` is always a member.
 *
 * A window of the longest linearizable prefix would be long and would not say which earlier
 * operations matter; a witness usually names three to six operations.
 */
export interface Violation {
  key: string;
  failedOp: HistoryOp;
  /** The witness, sorted by invocation time. */
  ops: HistoryOp[];
  minimal: boolean;
}

export interface CheckResult {
  /** True only when every key was proved linearizable. */
  ok: boolean;
  verdict: Verdict;
  /** Keys checked. */
  keys: number;
  /** Operations checked (failed operations, and unknown reads, are not counted). */
  ops: number;
  /** One per key that is not linearizable, sorted by key. */
  violations: Violation[];
  /** Keys whose search ran out of steps or memory (see `memoryBound`), or was cut short once another key failed. */
  timedOut: string[];
  /**
   * The keys of `timedOut` whose search stopped on the checker's memory bound, not on steps: its
   * records of configurations seen filled CHECK_RECORD_WORDS_MAX (256 MiB). The bound is fixed:
   * a larger stepsMax (`--check-budget`) does not help them. The other keys of `timedOut` ran
   * out of steps (or were cut short once another key failed): more steps may decide them.
   * Added in session 61; "ran out of budget" was said of both, and more budget could not help.
   */
  memoryBound: string[];
  /**
   * Keys the model cannot check, not searched: with 'register', keys a list append wrote
   * (a transaction's append, which cluster.history() records as kind 'append' with the values
   * appended; lists are checked as transactions, `cluster.history({ format: 'elle' })`).
   * Judged as registers, such a key read a list no write made: a false violation.
   */
  unchecked: string[];
  /** Search steps spent, shrinking included. */
  steps: number;
}

/** An operation as the search sees it. */
interface CheckOp {
  op: HistoryOp;
  modelOp: ModelOp;
  invokeMs: number;
  /** +Infinity when the outcome is unknown. */
  completeMs: number;
  definite: boolean;
}

type SearchVerdict = 'ok' | 'fail' | 'unknown';

interface SearchResult {
  verdict: SearchVerdict;
  steps: number;
  /** 'unknown' because the records filled CHECK_RECORD_WORDS_MAX (not steps, nor another key's failure). */
  memoryBound?: true;
}

/** Cells of the array that the checks of one history's parts share, maybe across threads. */
export const SHARED_FAILED = 0;
export const SHARED_SHRINK_STEPS_LEFT = 1;

/**
 * The state that checks of parts of one history share: whether some key has failed (a search
 * that sees it stops after AFTER_VIOLATION_STEPS_MAX steps, leaving its key in `timedOut`,
 * since the verdict is settled: Porcupine stops every search at the first failure), and the
 * shrinking steps left (SHRINK_STEPS_MAX for the whole history). `threads: true` puts it in
 * shared memory, to post to worker threads; it is read and written with Atomics.
 */
export function sharedCheckState(options: CheckOptions, threads: boolean): Int32Array {
  const cells = threads ? new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)) : new Int32Array(2);
  cells[SHARED_SHRINK_STEPS_LEFT] = options.shrink === false ? 0 : SHRINK_STEPS_MAX;
  return cells;
}

/**
 * CPU milliseconds (process.cpuUsage, user + system) spent in `checkHistoryPart` so far, for the
 * sim bench's split of a seed's cost; exact when one thread of the process is busy.
 */
let checkingMs = 0;

export function checkerMsSpent(): number {
  return checkingMs;
}

/** Checks a history against a model, key by key, synchronously. */
export function checkHistory(history: History, modelName: ModelName, options: CheckOptions = {}): CheckResult {
  return checkHistoryPart(history, modelName, options);
}

/**
 * `checkHistory` of one part of a history checked in parts (the check pool's threads):
 * `shared` is what the parts share (see `sharedCheckState`). Not exported from the package:
 * the fourth parameter was in the public signature, for no caller of the package to use.
 */
export function checkHistoryPart(history: History, modelName: ModelName, options: CheckOptions = {}, shared?: Int32Array): CheckResult {
  const started = process.cpuUsage();
  try {
    return checkHistoryTimed(history, modelName, options, shared);
  } finally {
    const spent = process.cpuUsage(started);
    checkingMs += (spent.user + spent.system) / 1000;
  }
}

function checkHistoryTimed(history: History, modelName: ModelName, options: CheckOptions, given: Int32Array | undefined): CheckResult {
  const model = validModel(modelName);
  checkOptionKeys(options, 'options', CHECK_OPTION_KEYS);
  // Made once the options are known to be an object (a default parameter read options.shrink first: options null was a TypeError).
  if (given !== undefined && !(given instanceof Int32Array && given.length >= 2))
    throw new ValidationError('shared', `undefined or what sharedCheckState returns (an Int32Array of 2 cells), got ${describe(given)}`);
  const shared = given ?? sharedCheckState(options, false);
  const stepsMax = validateStepsMax(options.stepsMax);
  validateFlags(options);
  const byKey = splitByKey(model, history);
  const result: CheckResult = {
    ok: true,
    verdict: 'linearizable',
    keys: byKey.size,
    ops: 0,
    violations: [],
    timedOut: [],
    memoryBound: [],
    unchecked: [],
    steps: 0,
  };
  // Smaller keys first: a violation found early shortens the search of the rest.
  const keys = [...byKey.keys()].sort((a, b) => (byKey.get(a) as CheckOp[]).length - (byKey.get(b) as CheckOp[]).length || (a < b ? -1 : 1));
  for (const key of keys) {
    const ops = byKey.get(key) as CheckOp[];
    if (model.checks !== undefined && !ops.every((op) => model.checks!(op.modelOp))) {
      result.unchecked.push(key);
      continue;
    }
    result.ops += ops.length;
    // A stale read refutes the key at once, with its own small witness (no search needed).
    const stale = staleRead(model, key, ops);
    if (stale !== undefined) {
      Atomics.store(shared, SHARED_FAILED, 1);
      result.violations.push(stale);
      continue;
    }
    let outcome: SearchResult | undefined;
    const lighter = options.unseenFirst === false ? undefined : withoutUnseenUnknownWrites(model, ops);
    if (lighter !== undefined) {
      const first = search(model, lighter, Math.max(1, Math.floor(stepsMax * UNSEEN_FIRST_STEPS_SHARE)), shared);
      result.steps += first.steps;
      if (first.verdict === 'ok') outcome = first;
    }
    if (outcome === undefined) {
      outcome = search(model, ops, stepsMax, shared);
      result.steps += outcome.steps;
    }
    if (outcome.verdict === 'unknown') result.timedOut.push(key);
    if (outcome.memoryBound === true) result.memoryBound.push(key);
    if (outcome.verdict !== 'fail') continue;
    Atomics.store(shared, SHARED_FAILED, 1);
    const explained = explain(model, key, ops, outcome.steps, shared);
    result.steps += explained.steps;
    result.violations.push(explained.violation);
  }
  return finish(result);
}

/**
 * The key's operations without its unknown writes whose value no definite operation saw, or
 * undefined when there are none (or the model cannot say). A first search of these decides
 * most keys where unknown writes pile up: each unknown write may be placed at any point after
 * its invocation, so a few of them multiply the orders to try (`check --seed 77 --clients 20
 * --keys 2`: 8 unseen unknown writes, key0 undecided in 50 million steps; 75,000 steps
 * without them).
 *
 * Sound for 'linearizable' only: an operation of unknown outcome may also never take effect,
 * which is the same as placing it after every other operation (its return is at +Infinity,
 * so nothing must follow it, and its output is unconstrained). A linearization of the rest
 * followed by the dropped writes is one of the whole. If the rest is not linearizable (an
 * unseen write was needed: a cas that failed because of it), the full search decides.
 */
function withoutUnseenUnknownWrites(model: Model<unknown>, ops: readonly CheckOp[]): CheckOp[] | undefined {
  const { written, seen } = model;
  if (written === undefined || seen === undefined) return undefined;
  const seenValues = new Set<string>();
  for (const op of ops) {
    const s = seen(op.modelOp);
    if (s !== undefined) seenValues.add(canonical(s.value));
  }
  const kept = ops.filter((op) => {
    if (op.definite) return true;
    const w = written(op.modelOp);
    return w === undefined || seenValues.has(canonical(w.value));
  });
  return kept.length === ops.length ? undefined : kept;
}

/**
 * A read no linearization explains, found from real time alone, or undefined. For a model that
 * says what operations write and see (`written`, `seen`): a definite operation that saw value
 * v (a read's answer, a cas's expected value) when v's only writer (the initial state counts)
 * is one of
 * - none: v was never written;
 * - invoked after the read returned: the read saw the future;
 * - completed before some definite write of another value (a put, a delete, a cas that
 *   answered true) was invoked, and that write completed before the read was invoked: the
 *   read saw a value overwritten for good.
 * Sound, and cheap (a sort and a binary search per read), but far from complete: the search
 * is the checker. Run before it: a search proves a violation only by trying every order, as
 * costly on a crowded key as a pass (the recorded crowded keys with one read made stale stayed
 * unknown after 50 million steps), and the pattern names its own witness of two or three
 * operations, minimal (with the rest weakened, the writer is still v's only one).
 */
function staleRead(model: Model<unknown>, key: string, ops: readonly CheckOp[]): Violation | undefined {
  const { written, seen } = model;
  if (written === undefined || seen === undefined) return undefined;
  // Writers of each value (by its hash), with the initial state as one that completed at -Infinity.
  const writers = new Map<string, Array<CheckOp | undefined>>();
  const addWriter = (value: unknown, op: CheckOp | undefined): void => {
    const h = model.hash(value);
    const list = writers.get(h);
    if (list === undefined) writers.set(h, [op]);
    else list.push(op);
  };
  addWriter(model.init(), undefined);
  // Definite writes that take effect, by invocation time, with the one that completes first
  // among those invoked at or after each position.
  const overwrites: CheckOp[] = [];
  for (const op of ops) {
    const w = written.call(model, op.modelOp);
    if (w === undefined) continue;
    // A definite cas that answered false wrote nothing; an unknown one may have.
    if (op.definite && !model.mutates(op.modelOp)) continue;
    addWriter(w.value, op);
    if (op.definite) overwrites.push(op);
  }
  overwrites.sort((a, b) => a.invokeMs - b.invokeMs);
  const firstDone: Array<CheckOp | undefined> = new Array<CheckOp | undefined>(overwrites.length + 1);
  for (let i = overwrites.length - 1; i >= 0; i--) {
    const o = overwrites[i] as CheckOp;
    const later = firstDone[i + 1];
    firstDone[i] = later === undefined || o.completeMs < later.completeMs ? o : later;
  }
  const firstInvokedAfter = (ms: number): number => {
    let lo = 0;
    let hi = overwrites.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((overwrites[mid] as CheckOp).invokeMs > ms) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (const r of ops) {
    if (!r.definite) continue;
    const saw = seen.call(model, r.modelOp);
    if (saw === undefined) continue;
    const list = writers.get(model.hash(saw.value));
    if (list === undefined) return { key, failedOp: r.op, ops: [r.op], minimal: true };
    if (list.length !== 1) continue;
    const w = list[0];
    if (w !== undefined && r.completeMs < w.invokeMs) return { key, failedOp: r.op, ops: [r.op], minimal: true };
    const wCompleteMs = w === undefined ? Number.NEGATIVE_INFINITY : w.completeMs;
    // The overwrite that completed first among those invoked after the writer completed (never
    // r itself, a cas that answered true: it cannot complete before it was invoked).
    const between = firstDone[firstInvokedAfter(wCompleteMs)];
    if (between === undefined || !(between.completeMs < r.invokeMs)) continue;
    const witness = w === undefined ? [between.op, r.op] : [w.op, between.op, r.op];
    witness.sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
    return { key, failedOp: r.op, ops: witness, minimal: true };
  }
  return undefined;
}

/** Sets `ok` and `verdict` from the violations and time-outs: a violation is definite. */
export function finish(result: CheckResult): CheckResult {
  result.violations.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  result.timedOut.sort();
  result.memoryBound.sort();
  result.unchecked.sort();
  result.verdict = result.violations.length > 0 ? 'not-linearizable' : result.timedOut.length > 0 || result.unchecked.length > 0 ? 'unknown' : 'linearizable';
  result.ok = result.verdict === 'linearizable';
  return result;
}

function validModel(modelName: ModelName): Model<unknown> {
  if (!isModelName(modelName)) {
    throw new ValidationError('modelName', `expected one of ${MODEL_NAMES.join(', ')}, got ${String(modelName)}`);
  }
  return modelByName(modelName);
}

/**
 * Throws a ValidationError naming the first malformed operation or option, as `checkHistory`
 * would; for callers that hand the history to another thread, where error classes are lost.
 */
export function validateHistory(history: History, modelName: ModelName, options: CheckOptions = {}): void {
  const model = validModel(modelName);
  validateStepsMax(options.stepsMax);
  validateFlags(options);
  if (!Array.isArray(history)) throw new ValidationError('history', 'expected an array of operations');
  const ids = new Set<number>();
  // An index loop, not forEach: forEach skips an array's holes, which the search then read as
  // operations (a TypeError), and checkHistory passed over (found by an audit, session 55).
  for (let index = 0; index < history.length; index++) validateOp(model, history[index]!, index, ids);
}

/** `shrink` and `unseenFirst`: true, false or absent (anything else read as true, a misspelt `'false'` too). */
function validateFlags(options: CheckOptions): void {
  for (const flag of ['shrink', 'unseenFirst'] as const) {
    const value: unknown = options[flag];
    if (value !== undefined && typeof value !== 'boolean') throw new ValidationError(`options.${flag}`, `expected a boolean, got ${describe(value)}`);
  }
}

function validateStepsMax(stepsMax: number | undefined): number {
  if (stepsMax === undefined) return CHECK_STEPS_MAX;
  if (!Number.isInteger(stepsMax) || stepsMax < 1) {
    throw new ValidationError('options.stepsMax', `expected a positive integer, got ${String(stepsMax)}`);
  }
  return stepsMax;
}

/**
 * Validates every operation and groups the ones that matter by key. Failed operations did not
 * happen; unknown operations that cannot change the state (reads) constrain nothing.
 */
function splitByKey(model: Model<unknown>, history: History): Map<string, CheckOp[]> {
  if (!Array.isArray(history)) throw new ValidationError('history', 'expected an array of operations');
  const ids = new Set<number>();
  const byKey = new Map<string, CheckOp[]>();
  for (let index = 0; index < history.length; index++) {
    const op = history[index]!;
    validateOp(model, op, index, ids);
    if (op.outcome === 'fail') continue;
    const definite = op.outcome === 'ok';
    const modelOp: ModelOp = definite
      ? { kind: op.kind, input: op.input, outcome: 'ok', output: op.output }
      : { kind: op.kind, input: op.input, outcome: 'unknown' };
    if (!definite && !model.mutates(modelOp)) continue;
    const checkOp: CheckOp = {
      op,
      modelOp,
      invokeMs: op.invokeMs,
      completeMs: definite ? (op.completeMs as number) : Number.POSITIVE_INFINITY,
      definite,
    };
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [checkOp]);
    else list.push(checkOp);
  }
  return byKey;
}

function validateOp(model: Model<unknown>, op: HistoryOp, index: number, ids: Set<number>): void {
  // The fields any model requires (what historyToJson refuses to write too); then the model's kinds and values.
  validateOpFields(op, index, ids);
  const at = `history[${index}]`;
  if (!model.kinds.includes(op.kind)) {
    throw new ValidationError(`${at}.kind`, `the ${model.name} model accepts ${model.kinds.join(', ')}, got ${op.kind}`);
  }
  if (op.outcome === 'fail') return;
  const problem = model.validate({ kind: op.kind, input: op.input, outcome: op.outcome, output: op.output });
  if (problem !== undefined) throw new ValidationError(at, problem);
}

// ---------------------------------------------------------------------------------------------
// The search.

/** Zobrist keys, one per operation index, so the linearized set hashes in O(1) per change. */
const zobrist: number[] = [];
const zobristPrng = new Prng('meridian/linearizability/zobrist');

function zobristKeys(n: number): number[] {
  while (zobrist.length < n) zobrist.push(zobristPrng.nextUint32() | 0);
  return zobrist;
}

/**
 * Node 2i is the call of operation i and node 2i + 1 its return. Sorted by time; at equal
 * times calls come first, so operations that touch at a single instant count as concurrent.
 */
function sortedNodes(ops: readonly CheckOp[]): Int32Array {
  const nodes = new Int32Array(ops.length * 2);
  for (let i = 0; i < nodes.length; i++) nodes[i] = i;
  const time = (node: number): number => {
    const op = ops[node >> 1] as CheckOp;
    return (node & 1) === 0 ? op.invokeMs : op.completeMs;
  };
  nodes.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a & 1) - (b & 1) || a - b;
  });
  return nodes;
}

/**
 * Decides whether `ops` (one key) is linearizable, within `stepsMax` steps. When `shared` is
 * given and some key (maybe in another thread) has failed, the search also stops once it is
 * past AFTER_VIOLATION_STEPS_MAX steps.
 */
function search(model: Model<unknown>, ops: readonly CheckOp[], stepsMax: number, shared?: Int32Array): SearchResult {
  const n = ops.length;
  let definiteLeft = 0;
  for (const op of ops) if (op.definite) definiteLeft++;
  if (definiteLeft === 0) return { verdict: 'ok', steps: 0 };

  // The entry list: next/prev links over nodes, with a sentinel head at index 2n.
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = head;
  // Unknown operations with the same kind and input are interchangeable once invoked: using
  // the earlier-invoked one first loses nothing, since the later one stays available (neither
  // ever returns). So an unknown operation is tried only when the previous one of its kind and
  // input is linearized; `sameBefore[i]` is that previous one, or -1. Without this, a history
  // with many unknown writes of a few values would search every subset of them.
  const sameBefore = new Int32Array(n).fill(-1);
  const lastSame = new Map<string, number>();
  for (const node of sortedNodes(ops)) {
    next[last] = node;
    prev[node] = last;
    last = node;
    const op = ops[node >> 1] as CheckOp;
    if ((node & 1) === 0 && !op.definite) {
      const sameKey = `${op.modelOp.kind}:${canonical(op.modelOp.input)}`;
      sameBefore[node >> 1] = lastSame.get(sameKey) ?? -1;
      lastSame.set(sameKey, node >> 1);
    }
  }
  // Removes a call and its return from the list; `unlift` puts them back in reverse order.
  const lift = (call: number): void => {
    const ret = call + 1;
    next[prev[call] as number] = next[call] as number;
    prev[next[call] as number] = prev[call] as number; // a call is always followed by its return
    next[prev[ret] as number] = next[ret] as number;
    if (next[ret] !== -1) prev[next[ret] as number] = prev[ret] as number;
  };
  const unlift = (call: number): void => {
    const ret = call + 1;
    next[prev[ret] as number] = ret;
    if (next[ret] !== -1) prev[next[ret] as number] = ret;
    next[prev[call] as number] = call;
    prev[next[call] as number] = call;
  };

  // The linearized set, as two bitsets: definite operations and unknown ones. Each operation
  // has a slot in its own bitset.
  const slot = new Int32Array(n);
  let definiteCount = 0;
  let unknownCount = 0;
  ops.forEach((op, i) => {
    slot[i] = op.definite ? definiteCount++ : unknownCount++;
  });
  // Int32 words: what a cache record keeps in a plain array stays small integers there.
  const definiteBits = new Int32Array((definiteCount + 31) >>> 5);
  const unknownBits = new Int32Array((unknownCount + 31) >>> 5);
  const keys = zobristKeys(definiteCount);
  let hash = 0; // of the definite bits

  // Model states are numbered by their keys, and each transition (state number, operation) is
  // computed once: the search revisits the same few transitions many times, and a number
  // compares and hashes in O(1) where a key (a long string of appends, say) does not.
  //
  // States that no operation of the key compares with (a value no read answered and no cas
  // expected) behave alike under every operation here, so they share one number (`opaque`,
  // when the model lists what it compares: `compared`): the orders of writes nobody read
  // then end in one configuration, not one per last value written.
  // `check --seed 85100 --mode hybrid --clients 32 --keys 8`: key5, 25 writes open at once
  // during an outage, 3 of their values read, undecided in 60 million steps without this.
  const compared = model.compared;
  let observed: Set<string> | undefined;
  if (compared !== undefined) {
    observed = new Set();
    for (const op of ops) for (const value of compared.call(model, op.modelOp)) observed.add(model.hash(value));
  }
  const stateValues: unknown[] = [];
  const stateNumbers = new Map<string, number>();
  const numberOf = (value: unknown): number => {
    let stateKey = model.hash(value);
    if (observed !== undefined && !observed.has(stateKey)) stateKey = OPAQUE_STATE_KEY;
    let number = stateNumbers.get(stateKey);
    if (number === undefined) {
      number = stateValues.length;
      stateNumbers.set(stateKey, number);
      stateValues.push(value);
    }
    return number;
  };
  // (state number * n + operation) -> the next state number, or -1 when the model rejects: an
  // open-addressing table (linear probing) of typed arrays, kept at most half full, so a
  // lookup allocates nothing. A key is below 2^53 (states and operations are array indexes).
  let memoKeys = new Float64Array(256).fill(-1);
  let memoValues = new Int32Array(256);
  let memoMask = 255;
  let memoCount = 0;
  const memoSlot = (memoKey: number): number => {
    let at = Math.imul(memoKey | 0, 0x9e3779b1) & memoMask;
    while (memoKeys[at] !== memoKey && memoKeys[at] !== -1) at = (at + 1) & memoMask;
    return at;
  };
  const memoGrow = (): void => {
    const oldKeys = memoKeys;
    const oldValues = memoValues;
    memoMask = memoMask * 2 + 1;
    memoKeys = new Float64Array(memoMask + 1).fill(-1);
    memoValues = new Int32Array(memoMask + 1);
    for (let at = 0; at < oldKeys.length; at++) {
      if (oldKeys[at] === -1) continue;
      const to = memoSlot(oldKeys[at] as number);
      memoKeys[to] = oldKeys[at] as number;
      memoValues[to] = oldValues[at] as number;
    }
  };
  const transition = (state: number, i: number): number => {
    const memoKey = state * n + i;
    const at = memoSlot(memoKey);
    if (memoKeys[at] === memoKey) return memoValues[at] as number;
    const op = ops[i] as CheckOp;
    const stepped = model.step(stateValues[state], op.modelOp);
    if (!stepped.ok && !op.definite) {
      throw new Error(`assertion failed: model ${model.name} rejected an operation whose outcome is unknown`);
    }
    const after = stepped.ok ? numberOf(stepped.state) : -1;
    memoKeys[at] = memoKey;
    memoValues[at] = after;
    if (++memoCount * 2 > memoMask) memoGrow();
    return after;
  };

  // The cache of configurations seen: Lowe's memoisation, plus a dominance rule for unknown
  // operations. A configuration (D ∪ U, s) — definite set D, unknown set U, state s — is
  // covered by an earlier (D ∪ U', s) with U' ⊆ U: whatever order completes the former also
  // completes the latter, because the unknowns in U \ U' can be put last (they return at
  // +Infinity, so they never block another operation, and their outputs are unconstrained).
  // With no unknown operations this is exactly Porcupine's cache.
  // The configurations live as flat records in one growing Int32Array (no object or array
  // per configuration: a search remembers tens of thousands, and allocating each was most of
  // the checker's time, in the garbage collector), chained from an open hash table of record
  // offsets. A record: the next record of its chain (or -1), its key, the state, the first
  // definite word kept and how many (see definiteLo), those words, the unknown words. A record
  // covered by a newer one is unlinked (its space is not reused). Whether a configuration is covered depends only on the set of records with its
  // state and definite set, never on the chains' layout or order.
  const definiteWords = definiteBits.length;
  const unknownWords = unknownBits.length;
  // A record keeps the definite words in [definiteLo, definiteHi) only: those below are full
  // (every operation in them linearized), those from definiteHi on empty. Slots follow
  // invocation order, so that window is the calls open around the search's frontier: a key of
  // 1,900 operations needed 63 words a record and 2.9 GB for 12 million records
  // (`check --seed 1 --clients 48 --keys 1`), a few words with the window. Both bounds are a
  // function of the set, so equal sets give equal records.
  const fullWord = (w: number): number => (w < definiteWords - 1 || (definiteCount & 31) === 0 ? -1 : (1 << (definiteCount & 31)) - 1);
  let definiteLo = 0;
  let definiteHi = 0;
  // A record's length varies with its window; four definite words is the guess for sizing.
  const recordLengthGuess = 5 + Math.min(definiteWords, 4) + unknownWords;
  // The table is sized for about two configurations per operation to begin with (a search
  // records at least one per call it linearizes), the records for as many up to about 1 MB;
  // both double as needed.
  let tableMask = 63;
  while (tableMask < 2 * n) tableMask = tableMask * 2 + 1;
  let records = new Int32Array(recordLengthGuess * Math.max(64, Math.min(tableMask + 1, Math.floor(RECORDS_INITIAL_WORDS / recordLengthGuess))));
  let recordsEnd = 0;
  let table = new Int32Array(tableMask + 1).fill(-1);
  let live = 0;
  const grow = (): void => {
    const old = table;
    tableMask = tableMask * 2 + 1;
    table = new Int32Array(tableMask + 1).fill(-1);
    // Relink every live record (a chain's order does not matter, see above).
    for (let oldSlot = 0; oldSlot < old.length; oldSlot++) {
      for (let at = old[oldSlot] as number; at !== -1;) {
        const following = records[at] as number;
        const slotAt = (records[at + 1] as number) & tableMask;
        records[at] = table[slotAt] as number;
        table[slotAt] = at;
        at = following;
      }
    }
  };
  // Returns true when the configuration is not covered, and remembers it.
  const remember = (definiteHash: number, state: number): boolean => {
    const key = (definiteHash ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const slotAt = key & tableMask;
    const count = definiteHi - definiteLo;
    let before = -1;
    for (let at = table[slotAt] as number; at !== -1;) {
      const following = records[at] as number;
      let same = records[at + 1] === key && records[at + 2] === state && records[at + 3] === definiteLo && records[at + 4] === count;
      for (let w = 0; same && w < count; w++) same = records[at + 5 + w] === definiteBits[definiteLo + w];
      if (same) {
        const u = at + 5 + count;
        // The seen unknowns are a subset of these: covered.
        let seenInNew = true;
        for (let w = 0; seenInNew && w < unknownWords; w++) seenInNew = ((records[u + w] as number) & ~(unknownBits[w] as number)) === 0;
        if (seenInNew) return false;
        // Covered by the new record from now on: unlink it to keep chains short.
        let newInSeen = true;
        for (let w = 0; newInSeen && w < unknownWords; w++) newInSeen = ((unknownBits[w] as number) & ~(records[u + w] as number)) === 0;
        if (newInSeen) {
          if (before === -1) table[slotAt] = following;
          else records[before] = following;
          live--;
          at = following;
          continue;
        }
      }
      before = at;
      at = following;
    }
    const length = 5 + count + unknownWords;
    if (recordsEnd + length > records.length) {
      // Past the bound the search stops (see CHECK_RECORD_WORDS_MAX): no larger array than that.
      const larger = new Int32Array(Math.max(Math.min(records.length * 2, CHECK_RECORD_WORDS_MAX + length), recordsEnd + length));
      larger.set(records);
      records = larger;
    }
    const at = recordsEnd;
    recordsEnd += length;
    records[at] = table[slotAt] as number;
    records[at + 1] = key;
    records[at + 2] = state;
    records[at + 3] = definiteLo;
    records[at + 4] = count;
    for (let w = 0; w < count; w++) records[at + 5 + w] = definiteBits[definiteLo + w] as number;
    for (let w = 0; w < unknownWords; w++) records[at + 5 + count + w] = unknownBits[w] as number;
    table[slotAt] = at;
    if (++live > tableMask) grow();
    return true;
  };
  const flip = (i: number): void => {
    const k = slot[i] as number;
    const w = k >>> 5;
    if (!(ops[i] as CheckOp).definite) {
      (unknownBits[w] as number) ^= 1 << (k & 31);
      return;
    }
    const word = ((definiteBits[w] as number) ^ (1 << (k & 31))) | 0;
    definiteBits[w] = word;
    if ((word & (1 << (k & 31))) !== 0) {
      // Linearized: the window's bounds can only widen at the top or close at the bottom.
      if (w >= definiteHi) definiteHi = w + 1;
      while (definiteLo < definiteWords && definiteBits[definiteLo] === fullWord(definiteLo)) definiteLo++;
    } else {
      if (w < definiteLo) definiteLo = w;
      while (definiteHi > 0 && definiteBits[definiteHi - 1] === 0) definiteHi--;
    }
  };

  // Definite operations that leave every state unchanged (a read, a cas that answered false).
  // Such an operation, once it may go next (it is reached before any pending return) and fits
  // the current state, goes next without trying the alternatives: any linearization of the
  // rest can be reordered to start with it (it changes no state, and everything it must
  // follow is linearized already), so if it fails from here, so does every other choice. Without
  // this, k such reads open at once while the state fits them all are tried in every subset
  // (2^k configurations, each remembered apart): `check --seed 80084 --mode passive --clients
  // 24 --keys 4`, a key of 142 operations, undecided in 60 million steps.
  const forcedOp = new Uint8Array(n);
  ops.forEach((op, i) => {
    forcedOp[i] = op.definite && !model.mutates(op.modelOp) ? 1 : 0;
  });

  // Where each level of the search starts (see `pick`): a read that fits goes first (forced,
  // as above), else a write that makes the first read that does not fit fit. Only the order
  // of the tries changes (and a preferred write, undone, sends the search back to the start of
  // its level, where its configuration is then found remembered): a crowded key's writes are
  // otherwise tried in the order they were invoked, and a linearizable history whose reads
  // saw the writes in another order was undecided in 60 million steps (`check --seed 86069
  // --mode hybrid --clients 48 --keys 8`, key5: 45 calls open at once during an outage).
  // An unknown operation waits for the earlier one of its kind and input (see sameBefore).
  const blocked = (i: number): boolean => {
    const before = sameBefore[i] as number;
    if (before === -1) return false;
    const k = slot[before] as number;
    return ((unknownBits[k >>> 5] as number) & (1 << (k & 31))) === 0;
  };
  const pick = (): number => {
    let unfit = -1;
    for (let e = next[head] as number; e !== -1 && (e & 1) === 0; e = next[e] as number) {
      const i = e >> 1;
      if (forcedOp[i] === 0) continue;
      if (transition(state, i) !== -1) return e;
      if (unfit === -1) unfit = i;
    }
    if (unfit === -1) return -1;
    for (let e = next[head] as number; e !== -1 && (e & 1) === 0; e = next[e] as number) {
      const i = e >> 1;
      if (forcedOp[i] === 1 || blocked(i)) continue;
      const after = transition(state, i);
      if (after !== -1 && transition(after, unfit) !== -1) return e;
    }
    return -1;
  };

  // The linearization so far: the calls lifted, the state before each, and how each was
  // chosen: forced (see forcedOp: backtracking goes past it, since its alternatives cannot
  // succeed) or picked first (see pick: backtracking rescans its level from the start).
  const stackCall = new Int32Array(n);
  const stackState = new Int32Array(n);
  const stackForced = new Uint8Array(n);
  const stackPicked = new Uint8Array(n);
  let depth = 0;
  let state = numberOf(model.init());
  let entry = -1;
  let levelStart = true;
  let steps = 0;
  for (;;) {
    if (++steps > stepsMax) return { verdict: 'unknown', steps };
    if (recordsEnd > CHECK_RECORD_WORDS_MAX) return { verdict: 'unknown', steps, memoryBound: true };
    if ((steps & FAILED_POLL_MASK) === 0 && shared !== undefined && steps > AFTER_VIOLATION_STEPS_MAX && Atomics.load(shared, SHARED_FAILED) !== 0) {
      return { verdict: 'unknown', steps };
    }
    let picked = false;
    if (levelStart) {
      levelStart = false;
      const chosen = pick();
      picked = chosen !== -1;
      entry = picked ? chosen : (next[head] as number);
    }
    if (entry === -1) throw new Error('assertion failed: the search ran past the end of the entry list');
    if ((entry & 1) === 0) {
      const i = entry >> 1;
      if (!picked && blocked(i)) {
        entry = next[entry] as number;
        continue;
      }
      const after = transition(state, i);
      if (after === -1) {
        entry = next[entry] as number;
        continue;
      }
      const definite = (ops[i] as CheckOp).definite;
      flip(i);
      const keyed = definite ? (hash ^ (keys[slot[i] as number] as number)) | 0 : hash;
      if (remember(keyed, after)) {
        stackCall[depth] = entry;
        stackState[depth] = state;
        stackForced[depth] = forcedOp[i] as number;
        stackPicked[depth] = picked && forcedOp[i] === 0 ? 1 : 0;
        depth++;
        hash = keyed;
        state = after;
        lift(entry);
        if (definite && --definiteLeft === 0) return { verdict: 'ok', steps };
        levelStart = true;
        continue;
      }
      flip(i);
      // Seen before: a forced operation's configuration was searched and failed (it cannot
      // be on the stack: that holds fewer definite operations), so this one fails too.
      if (forcedOp[i] === 0) {
        // A picked write seen before: the level is scanned from its start.
        entry = picked ? (next[head] as number) : (next[entry] as number);
        continue;
      }
    }
    // A return whose call is not linearized (or a forced call that failed): undo the last
    // linearized call and try the next one after it, going past forced ones.
    for (;;) {
      if (depth === 0) return { verdict: 'fail', steps };
      depth--;
      entry = stackCall[depth] as number;
      state = stackState[depth] as number;
      const i = entry >> 1;
      flip(i);
      if ((ops[i] as CheckOp).definite) hash = (hash ^ (keys[slot[i] as number] as number)) | 0;
      unlift(entry);
      if ((ops[i] as CheckOp).definite) definiteLeft++;
      if (stackForced[depth] === 0) break;
    }
    entry = stackPicked[depth] === 1 ? (next[head] as number) : (next[entry] as number);
  }
}

// ---------------------------------------------------------------------------------------------
// Explaining a violation.

/** `op` with its outcome made unknown, or undefined when it then constrains nothing. */
function weaken(model: Model<unknown>, op: CheckOp): CheckOp | undefined {
  if (!model.mutates(op.modelOp)) return undefined;
  if (!op.definite) return op;
  const modelOp: ModelOp = { kind: op.modelOp.kind, input: op.modelOp.input, outcome: 'unknown' };
  if (!model.mutates(modelOp)) return undefined;
  return { op: op.op, modelOp, invokeMs: op.invokeMs, completeMs: Number.POSITIVE_INFINITY, definite: false };
}

/** The ops with only those in `definite` (by index) kept definite, the rest weakened. */
function weakenAllBut(model: Model<unknown>, ops: readonly CheckOp[], definite: ReadonlySet<number>): CheckOp[] {
  const out: CheckOp[] = [];
  ops.forEach((op, index) => {
    const kept = definite.has(index) ? op : weaken(model, op);
    if (kept !== undefined) out.push(kept);
  });
  return out;
}

function explain(
  model: Model<unknown>,
  key: string,
  ops: readonly CheckOp[],
  searchSteps: number,
  shared: Int32Array,
): { violation: Violation; steps: number } {
  let steps = 0;
  const run = (definite: Iterable<number>, stepsMax: number): SearchVerdict => {
    const outcome = search(model, weakenAllBut(model, ops, new Set(definite)), stepsMax);
    steps += outcome.steps;
    return outcome.verdict;
  };
  // A prefix costs at most about what the whole failing history cost.
  const prefixTrial = (definite: Iterable<number>): SearchVerdict => run(definite, 2 * searchSteps + 1000);
  // A shrinking trial runs within what is left of the shared budget; one cut short answers
  // 'unknown', which every caller treats as "may be linearizable", the safe side.
  const trial = (definite: Iterable<number>): SearchVerdict => {
    const stepsMax = Math.min(SHRINK_TRIAL_STEPS_MAX, Atomics.load(shared, SHARED_SHRINK_STEPS_LEFT));
    if (stepsMax <= 0) return 'unknown';
    const before = steps;
    const verdict = run(definite, stepsMax);
    Atomics.sub(shared, SHARED_SHRINK_STEPS_LEFT, steps - before);
    return verdict;
  };

  // The completions of definite operations, in time order. Cutting the history after the
  // completion at position c keeps definite exactly the operations completed by then; the
  // others were open at the cut or not yet invoked (`weaken` makes those unknowns invoked
  // after everything definite, which can always go last, so they never matter).
  const completions: number[] = [];
  for (const node of sortedNodes(ops)) {
    if ((node & 1) === 1 && (ops[node >> 1] as CheckOp).definite) completions.push(node >> 1);
  }
  const range = (from: number, to: number): number[] => completions.slice(from, to + 1);

  // 1. The shortest failing prefix, by binary search: the whole history (the last cut) fails.
  let lo = 0;
  let hi = completions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefixTrial(range(0, mid)) === 'fail') hi = mid;
    else lo = mid + 1;
  }
  const cut = hi;
  const failedIndex = completions[cut] as number;
  if (Atomics.load(shared, SHARED_SHRINK_STEPS_LEFT) <= 0) return { violation: violationOf(key, ops, failedIndex, range(0, cut), false), steps };

  // 2. The latest start: weakening everything completed before position `from` only adds
  // orders, so whether the window [from, cut] still fails is monotone in `from`.
  lo = 0;
  hi = cut;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (trial(range(mid, cut)) === 'fail') lo = mid;
    else hi = mid - 1;
  }

  // 3. ddmin inside the window, over everything but the failed operation, which every witness
  // in this prefix needs (the prefix one cut shorter is this history with it weakened).
  // Observers (reads) go first: dropping them only makes trials cheaper, while each weakened
  // mutator adds orders to search. A last pass over observers restores 1-minimality, since
  // weakening mutators may have made some observer unnecessary.
  const isObserver = (index: number): boolean => !model.mutates((ops[index] as CheckOp).modelOp);
  const window = range(lo, cut - 1);
  let observers = window.filter(isObserver);
  let mutators = window.filter((index) => !isObserver(index));
  let decided = true;
  const shrinkAll = (candidates: number[], others: () => number[], chunkFirst: number): number[] => {
    for (let chunk = chunkFirst; chunk >= 1 && candidates.length > 0; chunk = Math.ceil(chunk / 2)) {
      for (let start = 0; start < candidates.length;) {
        const without = candidates.slice(0, start).concat(candidates.slice(start + chunk));
        const verdict = trial([...without, ...others(), failedIndex]);
        if (verdict === 'fail') {
          candidates = without;
        } else {
          if (verdict === 'unknown' && chunk === 1) decided = false;
          start += chunk;
        }
      }
      if (chunk === 1) break;
    }
    return candidates;
  };
  observers = shrinkAll(observers, () => mutators, Math.ceil(observers.length / 2));
  const mutatorsBefore = mutators.length;
  mutators = shrinkAll(mutators, () => observers, Math.ceil(mutators.length / 2));
  if (mutators.length < mutatorsBefore) observers = shrinkAll(observers, () => mutators, 1);
  return { violation: violationOf(key, ops, failedIndex, [...observers, ...mutators, failedIndex], decided), steps };
}

function violationOf(key: string, ops: readonly CheckOp[], failedIndex: number, witness: number[], minimal: boolean): Violation {
  const witnessOps = witness.map((index) => (ops[index] as CheckOp).op);
  witnessOps.sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  return { key, failedOp: (ops[failedIndex] as CheckOp).op, ops: witnessOps, minimal };
}
