/**
 * Input validation, and the step from a history of invocations and completions to
 * transactions: pairing each completion with its process's invocation, and the real-time
 * and process orders between transactions.
 */
import { describe, ValidationError } from '../../core/errors.js';
import { HISTORY_FIELD, validateEvent, type EntryField } from '../../core/history.js';
import { checkOptions } from '../../core/validate.js';
import { CYCLE_SEARCH_BUDGET } from './classify.js';
import { repeatedWrite } from './per-key.js';
import {
  PROCESS,
  pushEdge,
  RT,
  TXN_FAIL,
  TXN_INFO,
  TXN_OK,
  type EdgeList,
  type ElleOp,
  type LevelOrder,
  type MicroOp,
  type TxnCheckOptions,
  type TxnConsistency,
  type TxnModel,
  type TxnView,
} from './types.js';

export const TXN_MODELS: readonly TxnModel[] = ['list-append', 'rw-register'];
/** Every level, each after those it implies (TxnConsistency). */
export const TXN_CONSISTENCIES: readonly TxnConsistency[] = [
  'read-uncommitted',
  'read-committed',
  'snapshot-isolation',
  'strong-session-snapshot-isolation',
  'strong-snapshot-isolation',
  'serializable',
  'strong-session-serializable',
  'strict-serializable',
];

/** The four levels in a line that say which phenomena of the data are allowed, weakest first. */
export const DATA_LEVELS = ['read-uncommitted', 'read-committed', 'snapshot-isolation', 'serializable'] as const;
export type DataLevel = (typeof DATA_LEVELS)[number];

/**
 * Each level as a data level and the order between transactions it keeps (as Elle relates
 * them): 'process', each process's committed transactions in the order it ran them; 'realtime',
 * real time, which holds each process's order too (a process runs one transaction at a time).
 */
export const LEVELS: Readonly<Record<TxnConsistency, { data: DataLevel; order: LevelOrder }>> = {
  'read-uncommitted': { data: 'read-uncommitted', order: 'none' },
  'read-committed': { data: 'read-committed', order: 'none' },
  'snapshot-isolation': { data: 'snapshot-isolation', order: 'none' },
  'strong-session-snapshot-isolation': { data: 'snapshot-isolation', order: 'process' },
  'strong-snapshot-isolation': { data: 'snapshot-isolation', order: 'realtime' },
  serializable: { data: 'serializable', order: 'none' },
  'strong-session-serializable': { data: 'serializable', order: 'process' },
  'strict-serializable': { data: 'serializable', order: 'realtime' },
};

export function validateOptions(options: unknown, more: readonly string[] = []): { model: TxnModel; consistency: TxnConsistency; searchBudget: number } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('options', `expected an object { model, consistency? }, got ${describe(options)}`);
  }
  checkOptions(options, 'options', ['model', 'consistency', 'searchBudget', ...more]);
  const o = options as Partial<TxnCheckOptions>;
  if (!(TXN_MODELS as readonly unknown[]).includes(o.model)) {
    throw new ValidationError('options.model', `expected one of ${TXN_MODELS.join(', ')}, got ${describe(o.model)}`);
  }
  if (o.consistency !== undefined && !(TXN_CONSISTENCIES as readonly unknown[]).includes(o.consistency)) {
    throw new ValidationError('options.consistency', `expected one of ${TXN_CONSISTENCIES.join(', ')}, got ${describe(o.consistency)}`);
  }
  const budget = o.searchBudget;
  if (budget !== undefined && (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget < 1)) {
    throw new ValidationError('options.searchBudget', `expected a positive integer (edges looked at), got ${describe(budget)}`);
  }
  return { model: o.model as TxnModel, consistency: o.consistency ?? 'serializable', searchBudget: budget ?? CYCLE_SEARCH_BUDGET };
}

// In core since historyToJson names entries with them too; here still for edn.ts and verify.
export { HISTORY_FIELD, type EntryField };

/**
 * Checks every entry's shape, and that no two entries share an index (the anomalies name
 * transactions by it); throws a ValidationError naming the first bad field.
 */
export function validateHistory(history: unknown, model: TxnModel, name: EntryField = HISTORY_FIELD): asserts history is ElleOp[] {
  if (!Array.isArray(history)) throw new ValidationError('history', `expected an array of operations, got ${describe(history)}`);
  /** Entry by index. */
  const indexes = new Map<number, number>();
  // In core: historyToJson refuses what it refuses too.
  for (let i = 0; i < history.length; i++) validateEvent(history[i], i, indexes, model, name);
}

/**
 * Everything checkTransactions refuses, before any of the checking: each entry's shape
 * (validateHistory), each completion paired with its process's invocation (collectTxns), and
 * each value written to a key once (what list-append.ts and rw-register.ts stop on). Throws a
 * ValidationError naming the first bad field (`name`).
 */
export function validateTransactions(history: unknown, model: TxnModel, name: EntryField = HISTORY_FIELD): asserts history is ElleOp[] {
  validateHistory(history, model, name);
  const { views } = collectTxns(history, undefined, undefined, name);
  const repeat = repeatedWrite(views, model);
  if (repeat !== undefined) throw new ValidationError(name(repeat.view.pos, `value[${repeat.j}][2]`), repeat.message);
}

/**
 * A ValidationError when a completion's micro-ops are not its invocation's: as many, each of the
 * same kind on the same key, and writing the same value (a read's value comes with the
 * completion). The checker reads the completion's; one that differed from what was invoked was
 * taken without a word (an audit, session 61). `at(j)` names the completion's micro-op j (its
 * value when undefined), `invokedAt` the invocation's value.
 */
function completionMismatch(invoked: readonly MicroOp[], completed: readonly MicroOp[], at: (j?: number) => string, invokedAt: string): void {
  if (completed.length !== invoked.length)
    throw new ValidationError(
      at(),
      `expected the ${invoked.length === 1 ? 'micro-op' : `${invoked.length} micro-ops`} invoked (${invokedAt}), each read with its value, got ${completed.length}`,
    );
  for (let j = 0; j < invoked.length; j++) {
    const [f, k, v] = invoked[j] as MicroOp;
    const c = completed[j] as MicroOp;
    if (c[0] !== f || c[1] !== k || (f !== 'r' && c[2] !== v))
      throw new ValidationError(
        at(j),
        `expected the micro-op invoked (${invokedAt}[${j}]: ${mopText(invoked[j] as MicroOp)}${f === 'r' ? ', with the value read' : ''}), got ${mopText(c)}`,
      );
  }
}

/** A micro-op as a message shows it: its JSON, cut short. */
function mopText(mop: MicroOp): string {
  const text = JSON.stringify(mop);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface Txns {
  views: TxnView[];
  /** The op that names each transaction (completion, or invocation if none). */
  ops: ElleOp[];
  committed: number;
  failed: number;
  indeterminate: number;
}

/**
 * Pairs completions with invocations (one outstanding invocation per process) and returns
 * the transactions in invocation order; `realtime` receives, when given, the rt edges, and
 * `process` the process edges: from each committed transaction to the next one its process
 * committed (as Elle's process graph has them: what failed or has no known outcome is left
 * out, and the process's order goes round it). An invocation that never completes is
 * indeterminate, like an 'info' completion. A pairing error names its entry by `name`.
 */
export function collectTxns(history: ElleOp[], realtime?: EdgeList, process?: EdgeList, name: EntryField = HISTORY_FIELD): Txns {
  const views: TxnView[] = [];
  const ops: ElleOp[] = [];
  const invokePos: number[] = [];
  const pending = new Map<number | string, number>(); // process -> txn id
  // Real time: a transaction is invoked after every member of `frontier` completed; the
  // frontier holds completed ok transactions none of which completed before another's invocation.
  const frontier: number[] = [];
  /** History position at which each member of the frontier completed. */
  const completedAt: number[] = [];
  /** Each process's latest committed transaction. */
  const lastOk = new Map<number | string, number>();
  for (let i = 0; i < history.length; i++) {
    const op = history[i] as ElleOp;
    if (op.type === 'invoke') {
      const open = pending.get(op.process);
      if (open !== undefined) {
        throw new ValidationError(
          name(i, 'process'),
          `process ${describe(op.process)} invokes again while its invocation at ${name(invokePos[open] as number, '')} has not completed`,
        );
      }
      const id = views.length;
      pending.set(op.process, id);
      invokePos.push(i);
      views.push({ id, index: op.index, status: TXN_INFO, pos: i, invokePos: i, process: op.process, ops: op.value });
      ops.push(op);
      if (realtime !== undefined) for (const p of frontier) pushEdge(realtime, p, id, RT, undefined, undefined, undefined);
      continue;
    }
    const id = pending.get(op.process);
    if (id === undefined) {
      throw new ValidationError(name(i, 'process'), `a completion (${op.type}) of process ${describe(op.process)}, which has no invocation outstanding`);
    }
    pending.delete(op.process);
    const view = views[id] as TxnView;
    completionMismatch(view.ops, op.value, (j) => name(i, `value${j === undefined ? '' : `[${j}]`}`), name(invokePos[id] as number, 'value'));
    view.status = op.type === 'ok' ? TXN_OK : op.type === 'fail' ? TXN_FAIL : TXN_INFO;
    view.index = op.index;
    view.pos = i;
    view.ops = op.value;
    ops[id] = op;
    if (process !== undefined && op.type === 'ok') {
      const prev = lastOk.get(op.process);
      if (prev !== undefined) pushEdge(process, prev, id, PROCESS, undefined, op.process, undefined);
      lastOk.set(op.process, id);
    }
    if (realtime !== undefined && op.type === 'ok') {
      // Members that completed before this one was invoked now precede it: it stands for them.
      const invokedAt = invokePos[id] as number;
      let keep = 0;
      for (const p of frontier) if ((completedAt[p] as number) > invokedAt) frontier[keep++] = p;
      frontier.length = keep;
      frontier.push(id);
      completedAt[id] = i;
    }
  }
  let committed = 0;
  let failed = 0;
  for (const v of views) {
    if (v.status === TXN_OK) committed++;
    else if (v.status === TXN_FAIL) failed++;
  }
  return { views, ops, committed, failed, indeterminate: views.length - committed - failed };
}
