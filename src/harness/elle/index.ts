/**
 * `checkTransactions`: an Elle-style checker of transactional histories. It infers the
 * dependencies between transactions from what they read (per key, in about linear time: see
 * list-append.ts and rw-register.ts), adds real-time edges for strict serializability and
 * strong snapshot isolation and process edges for the strong-session levels, and looks for
 * cycles in the dependency graph by strongly connected components (classify.ts).
 *
 * `checkTransactionsParallel` spreads the per-key analysis over a piscina pool for large
 * histories (keys are independent there); the graph and its cycles are searched in the
 * calling thread. Both give the same result for the same history.
 */
import { fileURLToPath } from 'node:url';
import { keysText, runPoolTasks } from '../pool-tasks.js';
import { describe, ValidationError } from '../../core/errors.js';
import { findCycles, cycleEdges, explainCycle } from './classify.js';
import { buildGraph } from './graph.js';
import { collectTxns, DATA_LEVELS, LEVELS, validateHistory, validateOptions, type DataLevel, type Txns } from './history.js';
import { analyzeListAppend } from './list-append.js';
import { analyzeRwRegister } from './rw-register.js';
import {
  emptyEdges,
  TXN_FAIL,
  type Anomaly,
  type EdgeList,
  type ElleOp,
  type KeyAnalysis,
  type LevelOrder,
  type LocalAnomaly,
  type MicroOp,
  type TxnCheckOptions,
  type TxnCheckResult,
  type TxnConsistency,
  type TxnKey,
  type TxnModel,
  type TxnParallelCheckOptions,
  type TxnView,
} from './types.js';
import type { ElleTask } from '../../../workers/elle.js';
import type { TxnHistoryOp } from '../../core/history.js';

export type {
  Anomaly,
  CycleEdge,
  EdgeKind,
  ElleOp,
  ElleOpType,
  MicroOp,
  TxnCheckOptions,
  TxnCheckResult,
  TxnCheckStats,
  TxnConsistency,
  TxnKey,
  TxnModel,
  TxnParallelCheckOptions,
  TxnValue,
} from './types.js';

/** The longest line describeAnomaly gives: a longer one is cut, and ends in an ellipsis. */
export const ANOMALY_LINE_MAX = 2_000;

/**
 * One anomaly as a line: its type, the explanation, then its cycle (edges with kind and key),
 * at most ANOMALY_LINE_MAX characters, a cut marked with an ellipsis. The cycle went first, and
 * one of 61 edges was cut mid-word without a mark and without the explanation (an audit,
 * session 57).
 */
export function describeAnomaly(a: Anomaly): string {
  const cycle = a.cycle === undefined ? '' : `; cycle ${JSON.stringify(a.cycle)}`;
  const line = `${a.type}: ${a.explanation}${cycle}`;
  return line.length <= ANOMALY_LINE_MAX ? line : `${line.slice(0, ANOMALY_LINE_MAX - 1)}…`;
}

/** Threads by default (the machine this was written for has two cores). */
export const TXN_CHECK_WORKERS_DEFAULT = 2;
export const TXN_CHECK_WORKERS_MAX = 64;
/**
 * Histories with fewer transactions are checked inline: starting a pool and copying the
 * transactions to it (structured clone, micro-op by micro-op) costs more than the per-key
 * analysis it takes over. On the 2-core machine this was written on, the pool was still 2-3
 * times slower than inline at 100,000 transactions (see docs/testing.md), hence the high bar.
 */
export const TXN_PARALLEL_MIN = 250_000;

/**
 * The per-key analysis; `order`, the order the level keeps between transactions, lets
 * rw-register order versions by each process's order (the strong-session levels and those
 * with real time) and by real time (strict serializability, strong snapshot isolation).
 */
export function analyze(model: TxnModel, views: readonly TxnView[], txnCount: number, order: LevelOrder): KeyAnalysis {
  return model === 'list-append' ? analyzeListAppend(views, txnCount) : analyzeRwRegister(views, txnCount, order);
}

/**
 * What the checkers take: Elle's events, as a JSON or EDN history holds them, or a cluster's
 * own (`cluster.history({ format: 'elle' })`), whose values are typed `unknown` because a
 * transaction may append anything: the history is validated either way, and a value that is
 * not a string or a number is a ValidationError naming it. Typed ElleOp[] alone, a cluster's
 * history needed a cast to be checked.
 */
export type TxnHistoryInput = ElleOp[] | TxnHistoryOp[];

/** Checks a history in this thread. Throws a ValidationError naming the first bad field. */
export function checkTransactions(history: TxnHistoryInput, options: TxnCheckOptions): TxnCheckResult {
  const { model, consistency, searchBudget } = validateOptions(options);
  validateHistory(history, model);
  const { rt, process } = orderEdges(consistency);
  const txns = collectTxns(history, rt, process);
  const analysis = analyze(model, txns.views, txns.views.length, LEVELS[consistency].order);
  return finish(txns, [analysis], rt ?? process, model, consistency, searchBudget);
}

/** Like `checkTransactions`, with the per-key analysis on a piscina pool for large histories. */
export async function checkTransactionsParallel(history: TxnHistoryInput, options: TxnParallelCheckOptions): Promise<TxnCheckResult> {
  const { model, consistency, searchBudget } = validateOptions(options, ['workers', 'inline']);
  const workers = options.workers === undefined ? TXN_CHECK_WORKERS_DEFAULT : options.workers;
  if (!Number.isInteger(workers) || workers < 1 || workers > TXN_CHECK_WORKERS_MAX) {
    throw new ValidationError('options.workers', `expected an integer from 1 to ${TXN_CHECK_WORKERS_MAX}, got ${describe(workers)}`);
  }
  if (options.inline !== undefined && typeof options.inline !== 'boolean') {
    throw new ValidationError('options.inline', `expected a boolean, got ${describe(options.inline)}`);
  }
  validateHistory(history, model);
  const { rt, process } = orderEdges(consistency);
  const txns = collectTxns(history, rt, process);
  const order = rt ?? process;
  const inline = options.inline ?? (txns.views.length < TXN_PARALLEL_MIN || workers < 2);
  if (inline) return finish(txns, [analyze(model, txns.views, txns.views.length, LEVELS[consistency].order)], order, model, consistency, searchBudget);

  const groups = splitByKey(txns.views, workers);
  const tasks = groups.map((views): ElleTask => ({ model, views, txnCount: txns.views.length, order: LEVELS[consistency].order }));
  const pool = { filename: workerFile, minThreads: Math.min(workers, groups.length), maxThreads: workers };
  const analyses = await runPoolTasks<ElleTask, KeyAnalysis>('checkTransactionsParallel', pool, tasks, (task) =>
    keysText(new Set(task.views.flatMap((view) => view.ops.map((mop) => String(mop[1]))))),
  );
  return finish(txns, analyses, order, model, consistency, searchBudget);
}

/** Lists for the order the level keeps between transactions: real time, each process's order, or none. */
function orderEdges(consistency: TxnConsistency): { rt: EdgeList | undefined; process: EdgeList | undefined } {
  const { order } = LEVELS[consistency];
  return { rt: order === 'realtime' ? emptyEdges() : undefined, process: order === 'process' ? emptyEdges() : undefined };
}

const workerFile = fileURLToPath(new URL('../../../workers/elle.js', import.meta.url));

/** Splits each transaction's micro-ops into `count` groups of keys (keys dealt round-robin in order of appearance). */
function splitByKey(views: readonly TxnView[], count: number): TxnView[][] {
  const groupOf = new Map<TxnKey, number>();
  const groups: TxnView[][] = Array.from({ length: count }, () => []);
  const parts: Array<TxnView | undefined> = new Array<TxnView | undefined>(count);
  for (const view of views) {
    parts.fill(undefined);
    for (let j = 0; j < view.ops.length; j++) {
      const mop = view.ops[j] as MicroOp;
      let g = groupOf.get(mop[1]);
      if (g === undefined) {
        g = groupOf.size % count;
        groupOf.set(mop[1], g);
      }
      let part = parts[g];
      if (part === undefined) {
        part = { id: view.id, index: view.index, status: view.status, pos: view.pos, invokePos: view.invokePos, process: view.process, ops: [], opIdx: [] };
        parts[g] = part;
        (groups[g] as TxnView[]).push(part);
      }
      part.ops.push(mop);
      part.opIdx!.push(j);
    }
  }
  return groups.filter((g) => g.length > 0);
}

const LOCAL_ORDER = ['G1a', 'G1b', 'lost-update', 'internal', 'garbage-read', 'incompatible-order', 'duplicate-elements'];

/**
 * The weakest data level (DATA_LEVELS) that proscribes each phenomenon: a level reports those
 * whose entry is at most its own data level (LEVELS). What has no entry (internal,
 * garbage-read, incompatible-order, duplicate-elements) every level reports. A cycle's
 * `-process` form counts as it at the levels that keep an order (process or real time), its
 * `-realtime` form at those that keep real time, as in Elle's consistency-model graph (where
 * G-single-process implies G-single-realtime, and strict serializability implies strong
 * session serializability and strong snapshot isolation). G-nonadjacent (two or more rw
 * edges, none adjacent) is looked for at snapshot isolation and its strong variants only: at
 * the serializable levels the same cycle is a G2.
 */
const WEAKEST_PROSCRIBING: Readonly<Record<string, DataLevel>> = {
  G0: 'read-uncommitted',
  G1a: 'read-committed',
  G1b: 'read-committed',
  G1c: 'read-committed',
  'G-single': 'snapshot-isolation',
  G2: 'serializable',
  'G-nonadjacent': 'snapshot-isolation',
  'lost-update': 'snapshot-isolation',
};

function proscribed(type: string, consistency: TxnConsistency): boolean {
  const { data, order } = LEVELS[consistency];
  let base = type;
  if (type.endsWith('-realtime')) {
    if (order !== 'realtime') return false;
    base = type.slice(0, -'-realtime'.length);
  } else if (type.endsWith('-process')) {
    if (order === 'none') return false;
    base = type.slice(0, -'-process'.length);
  }
  const weakest = WEAKEST_PROSCRIBING[base];
  return weakest === undefined || DATA_LEVELS.indexOf(weakest) <= DATA_LEVELS.indexOf(data);
}

/** `order`: the rt or process edges, if the level keeps an order between transactions. */
function finish(
  txns: Txns,
  analyses: readonly KeyAnalysis[],
  order: EdgeList | undefined,
  model: TxnModel,
  consistency: TxnConsistency,
  searchBudget: number,
): TxnCheckResult {
  const invalid = analyses.find((a) => a.invalid !== undefined)?.invalid;
  if (invalid !== undefined) throw new ValidationError(invalid.field, invalid.message);
  const { views, ops } = txns;
  const locals: LocalAnomaly[] = [];
  let keys = 0;
  const lists: EdgeList[] = [];
  for (const a of analyses) {
    for (const x of a.anomalies) locals.push(x);
    keys += a.keys;
    lists.push(a.edges);
  }
  if (order !== undefined) lists.push(order);
  // Deterministic whatever the split: by type, then the transactions involved, then the text.
  locals.sort(
    (x, y) =>
      LOCAL_ORDER.indexOf(x.type) - LOCAL_ORDER.indexOf(y.type) ||
      compareIds(x.txns, y.txns) ||
      (x.explanation < y.explanation ? -1 : x.explanation > y.explanation ? 1 : 0),
  );
  const anomalies: Anomaly[] = locals.map((x) => ({ type: x.type, ops: x.txns.map((t) => ops[t] as ElleOp), explanation: x.explanation }));

  const n = views.length;
  const graph = buildGraph(n, lists, (id) => (views[id] as TxnView).status === TXN_FAIL);
  const indexOf = (id: number): number => (views[id] as TxnView).index;
  const level = LEVELS[consistency];
  const { cycles, components, unfinished } = findCycles(graph, level.order, level.data === 'snapshot-isolation', searchBudget);
  for (const c of cycles) {
    anomalies.push({
      type: c.type,
      cycle: cycleEdges(graph, c.edges, indexOf),
      ops: c.edges.map((e) => ops[graph.src[e]!] as ElleOp),
      explanation: explainCycle(graph, c.edges, c.type, model, indexOf),
    });
  }
  const found = anomalies.filter((a) => proscribed(a.type, consistency));
  // A search out of budget shows neither a cycle nor its absence: unless another anomaly fails
  // the history, it is undecided (not ok, and not a failure either).
  const undecided = found.length > 0 ? [] : unfinished.filter((type) => proscribed(type, consistency));
  return {
    ok: found.length === 0 && undecided.length === 0,
    anomalies: found,
    ...(undecided.length > 0 ? { undecided } : {}),
    stats: { transactions: n, committed: txns.committed, failed: txns.failed, indeterminate: txns.indeterminate, keys, edges: graph.src.length, components },
  };
}

function compareIds(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
