/**
 * The rw-register analysis. Writes are unique per key, so a read names its writer (wr). A
 * register's read does not show the versions before it, so the version order is only partly
 * known, from these facts:
 *
 *   - the initial state (null) comes before every written version;
 *   - a transaction that read version x of a key and then wrote y installs y after x (Elle
 *     assumes this only when asked, its `wfr-keys?` option: a database whose versions are
 *     ordered by something other than commit, such as start timestamps, may break it);
 *   - at the levels that keep each process's order (the strong-session ones, and those with
 *     real time, which holds it too), the version of a key a process last read or wrote in a
 *     committed transaction comes before what its next committed transaction writes there
 *     first (its snapshot holds what the process saw; Elle's `sequential-keys?` option, which
 *     Elle takes only when asked, gives the same order);
 *   - under strict serializability and strong snapshot isolation (each key then is
 *     linearizable), a version written by a transaction that completed before another writer
 *     of the key was invoked comes first. Like the rt edges, this links each writer only to
 *     the frontier of latest completed writers of the key, so it stays linear for histories of
 *     bounded concurrency.
 *
 * From each known "x before y": ww writer(x) -> writer(y), and rw reader(x) -> writer(y) for
 * every external reader of x. Both facts only ever relate a version to a later one, not
 * necessarily to the next, which is sound: in any total order the next-version edges give a
 * path with the same rw edges.
 */
import {
  emptyEdges,
  pushEdge,
  RW,
  show,
  TXN_FAIL,
  TXN_OK,
  WR,
  WW,
  type KeyAnalysis,
  type LevelOrder,
  type LocalAnomaly,
  type TxnKey,
  type TxnValue,
  type TxnView,
} from './types.js';
import { INITIAL, lostUpdates, notUnique, txnTables, type Version } from './per-key.js';

interface KeyState {
  key: TxnKey;
  /** value -> writer id * 2, + 1 when the writer wrote this key again afterwards. */
  writers: Map<TxnValue, number>;
  /** Final writers of the key (one entry per transaction), failed ones included. */
  writerTxns: number[];
  /** Each writer's last write to the key. */
  finals: Map<number, TxnValue>;
  /** Committed external reads: version -> readers. */
  readers: Map<Version, number[]>;
  /** "version < the final write of txn": [version, txn] pairs from read-then-write transactions. */
  follows: Array<[Version, number]>;
  /** The same from each process's order (with `order` other than 'none'): the version its last committed transaction left it knowing, and its next writer. */
  sessionFollows: Array<[Version, number]>;
  /** Process -> the version of the key its committed transactions last read or wrote. */
  sessionKnown: Map<number | string, Version>;
  cur: number;
  curWrote: boolean;
  curLast: TxnValue | undefined;
  /** What the transaction knows the key holds: a value, INITIAL, or undefined (nothing). */
  curKnown: Version | undefined;
  curRead: Version | undefined;
}

export function analyzeRwRegister(views: readonly TxnView[], txnCount: number, order: LevelOrder = 'none'): KeyAnalysis {
  const { status, index } = txnTables(views, txnCount);
  const realtime = order === 'realtime';
  const session = order !== 'none';
  // Real time: invocation and (ok) completion positions.
  const invokeAt = realtime ? new Int32Array(txnCount) : undefined;
  const completeAt = realtime ? new Int32Array(txnCount) : undefined;
  if (invokeAt !== undefined && completeAt !== undefined) {
    for (const v of views) {
      invokeAt[v.id] = v.invokePos;
      completeAt[v.id] = v.pos;
    }
  }
  const keys = new Map<TxnKey, KeyState>();
  const anomalies: LocalAnomaly[] = [];
  const edges = emptyEdges();

  for (const view of views) {
    const ok = view.status === TXN_OK;
    const ops = view.ops;
    for (let j = 0; j < ops.length; j++) {
      const mop = ops[j]!;
      const key = mop[1];
      let ks = keys.get(key);
      if (ks === undefined) {
        ks = {
          key,
          writers: new Map(),
          writerTxns: [],
          finals: new Map(),
          readers: new Map(),
          follows: [],
          sessionFollows: [],
          sessionKnown: new Map(),
          cur: -1,
          curWrote: false,
          curLast: undefined,
          curKnown: undefined,
          curRead: undefined,
        };
        keys.set(key, ks);
      }
      if (ks.cur !== view.id) {
        ks.cur = view.id;
        ks.curWrote = false;
        ks.curLast = undefined;
        ks.curKnown = undefined;
        ks.curRead = undefined;
      }
      if (mop[0] === 'w') {
        const value = mop[2];
        const seen = ks.writers.get(value);
        if (seen !== undefined)
          return notUnique({ edges, anomalies, keys: keys.size }, view, j, key, value, index[seen >> 1] as number, 'written to', 'rw-register');
        if (ks.curLast !== undefined) {
          ks.writers.set(ks.curLast, (ks.writers.get(ks.curLast) as number) | 1);
        } else {
          ks.writerTxns.push(view.id);
          if (ks.curRead !== undefined && ok) ks.follows.push([ks.curRead, view.id]);
          else if (session && ok && ks.curKnown === undefined) {
            const known = ks.sessionKnown.get(view.process);
            if (known !== undefined) ks.sessionFollows.push([known, view.id]);
          }
        }
        ks.writers.set(value, view.id * 2);
        ks.finals.set(view.id, value);
        ks.curLast = value;
        ks.curWrote = true;
        ks.curKnown = value;
        if (session && ok) ks.sessionKnown.set(view.process, value);
      } else if (ok) {
        const raw = mop[2] as TxnValue | null;
        const version: Version = raw === null ? INITIAL : raw;
        if (ks.curKnown === undefined) {
          ks.curRead = version;
          const list = ks.readers.get(version);
          if (list === undefined) ks.readers.set(version, [view.id]);
          else list.push(view.id);
        } else if (ks.curKnown !== version) {
          anomalies.push({
            type: 'internal',
            txns: [view.id],
            explanation: `the transaction at index ${view.index} read ${show(raw)} from key ${show(key)} (micro-op ${j}) where its own earlier micro-ops imply ${show(ks.curKnown === INITIAL ? null : ks.curKnown)}`,
          });
        }
        ks.curKnown = version;
        if (session) ks.sessionKnown.set(view.process, version);
      }
    }
  }

  for (const ks of keys.values()) {
    analyzeKey(ks, status, index, edges, anomalies);
    lostUpdates(ks.key, ks.follows, index, (v) => show(v === INITIAL ? null : v), anomalies);
    if (invokeAt !== undefined && completeAt !== undefined) realtimeOrder(ks, status, invokeAt, completeAt, edges);
  }
  return { edges, anomalies, keys: keys.size };
}

/**
 * Strict serializability: writer W1 completed before writer W2 was invoked, so W1's version
 * precedes W2's and every reader of it precedes W2 (rw). W1 -> W2 itself is an rt edge already.
 */
function realtimeOrder(ks: KeyState, status: Int8Array, invokeAt: Int32Array, completeAt: Int32Array, edges: ReturnType<typeof emptyEdges>): void {
  const writers = ks.writerTxns.filter((w) => status[w] !== TXN_FAIL); // in invocation order
  if (writers.length < 2) return;
  const completions = writers.filter((w) => status[w] === TXN_OK).sort((a, b) => completeAt[a]! - completeAt[b]!);
  const frontier: number[] = [];
  let next = 0;
  for (const w of writers) {
    const invoked = invokeAt[w]!;
    for (; next < completions.length && completeAt[completions[next]!]! < invoked; next++) {
      const c = completions[next]!;
      // Members that completed before c was invoked precede c: c stands for them from now on.
      let keep = 0;
      for (const f of frontier) if (completeAt[f]! > invokeAt[c]!) frontier[keep++] = f;
      frontier.length = keep;
      frontier.push(c);
    }
    const written = ks.finals.get(w) as TxnValue;
    for (const f of frontier) {
      const version = ks.finals.get(f) as TxnValue;
      const readers = ks.readers.get(version);
      if (readers !== undefined) for (const r of readers) if (r !== w) pushEdge(edges, r, w, RW, ks.key, version, written);
    }
  }
}

function analyzeKey(ks: KeyState, status: Int8Array, index: number[], edges: ReturnType<typeof emptyEdges>, anomalies: LocalAnomaly[]): void {
  const key = ks.key;
  const at = (t: number): number => index[t] as number;
  // wr, and the reads no committed write explains.
  for (const [version, readers] of ks.readers) {
    if (version === INITIAL) continue;
    const code = ks.writers.get(version);
    for (const t of readers) {
      if (code === undefined) {
        anomalies.push({
          type: 'garbage-read',
          txns: [t],
          explanation: `the transaction at index ${at(t)} read ${show(version)} from key ${show(key)}, but no transaction wrote that value`,
        });
        continue;
      }
      const w = code >> 1;
      if (w === t) {
        anomalies.push({
          type: 'internal',
          txns: [t],
          explanation: `the transaction at index ${at(t)} read ${show(version)} from key ${show(key)} before writing that value itself`,
        });
      } else if (status[w] === TXN_FAIL) {
        anomalies.push({
          type: 'G1a',
          txns: [t, w],
          explanation: `the transaction at index ${at(t)} read ${show(version)} from key ${show(key)}, written by the transaction at index ${at(w)}, which failed (aborted read)`,
        });
      } else {
        if ((code & 1) === 1) {
          anomalies.push({
            type: 'G1b',
            txns: [t, w],
            explanation: `the transaction at index ${at(t)} read ${show(version)} from key ${show(key)}, an intermediate write of the transaction at index ${at(w)}, which wrote the key again later (intermediate read)`,
          });
        }
        pushEdge(edges, w, t, WR, key, version, undefined);
      }
    }
  }
  const finalOf = (t: number): TxnValue => ks.finals.get(t) as TxnValue;
  // The initial state precedes every version: every reader of null precedes every writer.
  const initialReaders = ks.readers.get(INITIAL);
  if (initialReaders !== undefined && ks.writerTxns.length > 0) {
    const finals = ks.writerTxns.map((w) => (status[w] === TXN_FAIL ? undefined : finalOf(w)));
    for (const t of initialReaders) {
      for (let i = 0; i < ks.writerTxns.length; i++) {
        const w = ks.writerTxns[i]!;
        const v = finals[i];
        if (w !== t && v !== undefined) pushEdge(edges, t, w, RW, key, null, v);
      }
    }
  }
  // Read-then-write, in one transaction or (sessionFollows) one process: the version read precedes the one written.
  for (const [version, w] of [...ks.follows, ...ks.sessionFollows]) {
    const v = finalOf(w);
    if (version !== INITIAL) {
      const code = ks.writers.get(version);
      if (code !== undefined) {
        const prev = code >> 1;
        if (prev !== w && status[prev] !== TXN_FAIL) pushEdge(edges, prev, w, WW, key, version, v);
      }
      const readers = ks.readers.get(version);
      if (readers !== undefined) for (const r of readers) if (r !== w) pushEdge(edges, r, w, RW, key, version, v);
    }
  }
}
