/**
 * Types of the transactional checker (an Elle-style one: Kingsbury and Alvaro, "Elle:
 * Inferring Isolation Anomalies from Experimental Observations", VLDB 2020). The history
 * shape is Elle's JSON one, so histories can be exchanged with Elle itself.
 */

/** A key of a micro-op. 1 and '1' are different keys. */
export type TxnKey = string | number;
/** An appended or written value. Values are unique per key across the whole history. */
export type TxnValue = string | number;

/**
 * One step of a transaction: `['append', k, v]`, `['r', k, list | null]` (list-append) or
 * `['w', k, v]`, `['r', k, v | null]` (rw-register). A list-append read of a missing key is
 * `[]`; there `null` means "not known" (as in an invocation) and the read is ignored. An
 * rw-register read of null is a read of the initial state.
 */
export type MicroOp = ['append', TxnKey, TxnValue] | ['r', TxnKey, TxnValue[] | TxnValue | null] | ['w', TxnKey, TxnValue];

export type ElleOpType = 'invoke' | 'ok' | 'fail' | 'info';

/** One entry of a history, in real-time order: an invocation or a completion of a transaction. */
export interface ElleOp {
  index: number;
  process: number | string;
  type: ElleOpType;
  f: 'txn';
  value: MicroOp[];
  /** When it happened, in ms (optional: the checker reads only the order; the timeline draws it). */
  time?: number;
}

export type TxnModel = 'list-append' | 'rw-register';
/**
 * The isolation level a history is checked against (Adya's, and Elle's names for its session and
 * real-time variants). Four levels in a line, weakest first, each proscribing the phenomena of
 * those before it and more: read-uncommitted G0; read-committed G1a, G1b, G1c;
 * snapshot-isolation G-single, G-nonadjacent and lost-update; serializable G2. Then what adds
 * an order between transactions: strong-session-snapshot-isolation and
 * strong-session-serializable add each process's own order (process edges: the `-process`
 * cycles), strong-snapshot-isolation and strict-serializable real time (rt edges: the
 * `-realtime` cycles; real time holds each process's order too). Internal, garbage-read,
 * incompatible-order and duplicate-elements are reported at every level.
 */
export type TxnConsistency =
  | 'read-uncommitted'
  | 'read-committed'
  | 'snapshot-isolation'
  | 'strong-session-snapshot-isolation'
  | 'strong-snapshot-isolation'
  | 'serializable'
  | 'strong-session-serializable'
  | 'strict-serializable';

/** The order a level keeps between transactions (history.ts's LEVELS): none, each process's, or real time. */
export type LevelOrder = 'none' | 'process' | 'realtime';

export interface TxnCheckOptions {
  model: TxnModel;
  /** Default 'serializable'; the strong-session levels add process edges, strong-snapshot-isolation and strict-serializable real-time (rt) edges (TxnConsistency). */
  consistency?: TxnConsistency;
  /**
   * Edges a cycle search may look at, per anomaly type and strongly connected component, before
   * it settles for what it found (default 1,000,000): one that found nothing by then leaves the
   * result `undecided`, not ok.
   */
  searchBudget?: number;
}

export type EdgeKind = 'ww' | 'wr' | 'rw' | 'rt' | 'process';

/** One dependency of a cycle, between two transactions named by the `index` of their completion. */
export interface CycleEdge {
  from: number;
  to: number;
  kind: EdgeKind;
  /** The key that makes the edge; absent for rt and process. */
  key?: TxnKey;
  /** For a process edge: the process that ran `from` and then `to`. */
  process?: number | string;
}

export interface Anomaly {
  /**
   * G0, G1a, G1b, G1c, G-single, G-nonadjacent, G2 (and G0-realtime ... G2-realtime when the
   * cycle needs a real-time edge, G0-process ... G2-process when it needs a process edge),
   * lost-update (committed transactions that read one version of a key and each wrote it),
   * incompatible-order, duplicate-elements, internal (a transaction that does not see its own
   * earlier reads and writes) or garbage-read (a value nobody wrote).
   */
  type: string;
  /** For cycle anomalies: the cycle, its last edge ending where its first starts. */
  cycle?: CycleEdge[];
  /** The completions involved (the invocation for a transaction that never completed). */
  ops: ElleOp[];
  explanation: string;
}

export interface TxnCheckStats {
  /** Transactions (invocations) in the history. */
  transactions: number;
  committed: number;
  failed: number;
  /** 'info' completions and invocations that never completed. */
  indeterminate: number;
  keys: number;
  /** Dependency edges after merging duplicates, rt and process edges included. */
  edges: number;
  /** Strongly connected components of more than one transaction. */
  components: number;
}

export interface TxnCheckResult {
  /** True only when the history was shown free of every anomaly the level proscribes. */
  ok: boolean;
  anomalies: Anomaly[];
  /**
   * Set only when no anomaly was found but the cycle search for these types ran out of its
   * budget (searchBudget, default CYCLE_SEARCH_BUDGET) in some component: the history is neither shown valid nor
   * invalid (`ok` false, `anomalies` empty): a checker's unknown, not a pass.
   */
  undecided?: string[];
  stats?: TxnCheckStats;
}

export interface TxnParallelCheckOptions extends TxnCheckOptions {
  /** Threads in the pool; default 2. */
  workers?: number;
  /** true: check in this thread; false: use a pool even for a small history; default: a pool only for large histories. */
  inline?: boolean;
}

// --- Internal: what the per-key analyses exchange (plain data, it crosses threads) ---------

export const WW = 0;
export const WR = 1;
export const RW = 2;
export const RT = 3;
/** Process order: consecutive committed transactions of one process (its id in the edge's `a`). */
export const PROCESS = 4;
export const EDGE_KINDS: readonly EdgeKind[] = ['ww', 'wr', 'rw', 'rt', 'process'];

export const TXN_OK = 0;
export const TXN_FAIL = 1;
export const TXN_INFO = 2;

/** A transaction as the analyses see it: `ops` may be only the micro-ops of some keys. */
export interface TxnView {
  /** Dense id, in invocation order. */
  id: number;
  /** `index` of the op that names it (completion, or invocation when it never completed). */
  index: number;
  /** TXN_OK, TXN_FAIL or TXN_INFO. */
  status: number;
  /** Position in the history of the op whose `value` these micro-ops come from. */
  pos: number;
  /** Position in the history of its invocation. */
  invokePos: number;
  /** The process that ran it. */
  process: number | string;
  ops: MicroOp[];
  /** Original position of each micro-op in that value, when `ops` is a subset. */
  opIdx?: number[];
}

/**
 * Edges as parallel arrays. `a`/`b` are the values that explain the edge: ww: the two
 * versions; wr: the value read; rw: what was read (null: nothing) and the later version;
 * process: the process (in `a`).
 */
export interface EdgeList {
  from: number[];
  to: number[];
  kind: number[];
  key: Array<TxnKey | undefined>;
  a: Array<TxnValue | null | undefined>;
  b: Array<TxnValue | undefined>;
}

/** An anomaly found by looking at one key, naming transactions by id. */
export interface LocalAnomaly {
  type: string;
  txns: number[];
  explanation: string;
}

export interface KeyAnalysis {
  edges: EdgeList;
  anomalies: LocalAnomaly[];
  keys: number;
  /** A bad input found while indexing (a value written twice): field and message. */
  invalid?: { field: string; message: string };
}

export function emptyEdges(): EdgeList {
  return { from: [], to: [], kind: [], key: [], a: [], b: [] };
}

export function pushEdge(
  e: EdgeList,
  from: number,
  to: number,
  kind: number,
  key: TxnKey | undefined,
  a: TxnValue | null | undefined,
  b: TxnValue | undefined,
): void {
  e.from.push(from);
  e.to.push(to);
  e.kind.push(kind);
  e.key.push(key);
  e.a.push(a);
  e.b.push(b);
}

/** Lists longer than this are shown by their ends only, so explanations stay short. */
const SHOW_LIST_MAX = 16;

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (!Array.isArray(v)) return String(v);
  if (v.length <= SHOW_LIST_MAX) return `[${v.map(show).join(' ')}]`;
  const half = SHOW_LIST_MAX / 2;
  return `[${v.slice(0, half).map(show).join(' ')} ... (${v.length - SHOW_LIST_MAX} more) ... ${v.slice(-half).map(show).join(' ')}]`;
}

export function fieldOf(view: TxnView, mop: number, part?: number): string {
  const j = view.opIdx === undefined ? mop : (view.opIdx[mop] as number);
  return `history[${view.pos}].value[${j}]${part === undefined ? '' : `[${part}]`}`;
}
