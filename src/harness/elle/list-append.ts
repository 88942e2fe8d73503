/**
 * The list-append analysis. Every append of a value to a key is unique, so a read of a key
 * (a list) names the transactions that appended each of its elements, in the order the
 * database applied them. All committed reads of a key must be prefixes of the longest one,
 * which is therefore the key's version order (as far as it was observed), and from it:
 *
 *   ww  T1 -> T2  T2 appended the element right after T1's;
 *   wr  T1 -> T2  T2's first read of the key ends with T1's (last) append;
 *   rw  T1 -> T2  T1's first read of the key has n elements and T2 appended element n+1.
 *
 * An append no read shows came after the order's last element: ww from its writer, and rw
 * from the reads of the whole order.
 *
 * Only a transaction's external reads (the first read of a key, before it appends to it) give
 * wr and rw edges; later reads must agree with what it read and appended before ('internal').
 * One pass over the micro-ops indexes the appends and reads, one pass per key derives the
 * edges: time linear in the size of the history, but for the unread appends' rw edges (per key,
 * the reads of the whole order times the appends no read shows, as in Elle).
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
  type LocalAnomaly,
  type TxnKey,
  type TxnValue,
  type TxnView,
} from './types.js';
import { INITIAL, lostUpdates, notUnique, txnTables, type Version } from './per-key.js';

interface KeyState {
  key: TxnKey;
  /** value -> writer id * 2, + 1 when the writer appended to this key again afterwards. */
  writers: Map<TxnValue, number>;
  /** Committed reads: reader id * 2, + 1 for an external read; and the lists read. */
  readTxns: number[];
  readLists: TxnValue[][];
  longest: TxnValue[] | undefined;
  longestTxn: number;
  /** Committed transactions that read the key and then appended to it: [the read's last element or INITIAL, txn]. */
  follows: Array<[Version, number]>;
  // The transaction being indexed, and what it did to this key so far.
  cur: number;
  /** Its appends to the key: curAppends[0 .. curAppendCount - 1] (the array is reused). */
  curAppends: TxnValue[];
  curAppendCount: number;
  /** The list it knows the key holds (after a read), or undefined. */
  curKnown: TxnValue[] | undefined;
  curKnownShared: boolean;
  /** Its last committed read of the key, or undefined. */
  curRead: TxnValue[] | undefined;
}

const NO_WRITER = -1;

export function analyzeListAppend(views: readonly TxnView[], txnCount: number): KeyAnalysis {
  const { status, index } = txnTables(views, txnCount);
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
          readTxns: [],
          readLists: [],
          longest: undefined,
          longestTxn: -1,
          follows: [],
          cur: -1,
          curAppends: [],
          curAppendCount: 0,
          curKnown: undefined,
          curKnownShared: false,
          curRead: undefined,
        };
        keys.set(key, ks);
      }
      if (ks.cur !== view.id) {
        ks.cur = view.id;
        ks.curAppendCount = 0;
        ks.curKnown = undefined;
        ks.curRead = undefined;
      }
      if (mop[0] === 'append') {
        const value = mop[2];
        const seen = ks.writers.get(value);
        if (seen !== undefined)
          return notUnique({ edges, anomalies, keys: keys.size }, view, j, key, value, index[seen >> 1] as number, 'appended to', 'list-append');
        // A read of an element the transaction appends only now (Elle's future read).
        if (ks.curRead !== undefined && ks.curRead.includes(value)) {
          anomalies.push({
            type: 'internal',
            txns: [view.id],
            explanation: `the transaction at index ${view.index} read ${show(ks.curRead)} from key ${show(key)} before it appended ${show(value)} itself (micro-op ${j})`,
          });
        }
        const n = ks.curAppendCount;
        if (n === 0 && ok && ks.curRead !== undefined) ks.follows.push([ks.curRead.length > 0 ? ks.curRead[ks.curRead.length - 1]! : INITIAL, view.id]);
        if (n > 0) {
          const prev = ks.curAppends[n - 1]!;
          ks.writers.set(prev, (ks.writers.get(prev) as number) | 1);
        }
        ks.writers.set(value, view.id * 2);
        ks.curAppends[n] = value;
        ks.curAppendCount = n + 1;
        if (ks.curKnown !== undefined) {
          if (ks.curKnownShared) {
            ks.curKnown = ks.curKnown.slice();
            ks.curKnownShared = false;
          }
          ks.curKnown.push(value);
        }
      } else if (ok) {
        const list = mop[2] as TxnValue[] | null;
        if (list === null) continue; // nothing known
        const first = ks.curKnown === undefined && ks.curAppendCount === 0;
        if (!first) {
          const expected = ks.curKnown;
          let consistent: boolean;
          let wanted: string;
          if (expected !== undefined) {
            consistent = sameList(list, expected);
            wanted = show(expected);
          } else {
            consistent = endsWith(list, ks.curAppends, ks.curAppendCount);
            wanted = `a list ending in ${show(ks.curAppends.slice(0, ks.curAppendCount))}`;
          }
          if (!consistent) {
            anomalies.push({
              type: 'internal',
              txns: [view.id],
              explanation: `the transaction at index ${view.index} read ${show(list)} from key ${show(key)} (micro-op ${j}) where its own earlier micro-ops imply ${wanted}`,
            });
          }
        }
        ks.curKnown = list;
        ks.curKnownShared = true;
        ks.curRead = list;
        ks.readTxns.push(view.id * 2 + (first ? 1 : 0));
        ks.readLists.push(list);
        if (ks.longest === undefined || list.length > ks.longest.length) {
          ks.longest = list;
          ks.longestTxn = view.id;
        }
      }
    }
  }

  for (const ks of keys.values()) {
    analyzeKey(ks, status, index, edges, anomalies);
    lostUpdates(ks.key, ks.follows, index, (v) => (v === INITIAL ? '[]' : `a list ending in ${show(v)}`), anomalies);
  }
  return { edges, anomalies, keys: keys.size };
}

function sameList(a: readonly TxnValue[], b: readonly TxnValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function endsWith(a: readonly TxnValue[], suffix: readonly TxnValue[], count: number): boolean {
  const off = a.length - count;
  if (off < 0) return false;
  for (let i = 0; i < count; i++) if (a[off + i] !== suffix[i]) return false;
  return true;
}

function isPrefix(a: readonly TxnValue[], of: readonly TxnValue[]): boolean {
  if (a.length > of.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== of[i]) return false;
  return true;
}

/** Position of the first element that repeats an earlier one, or -1. */
function firstDuplicate(list: readonly TxnValue[]): number {
  const seen = new Set<TxnValue>();
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (seen.has(v)) return i;
    seen.add(v);
  }
  return -1;
}

function analyzeKey(ks: KeyState, status: Int8Array, index: number[], edges: ReturnType<typeof emptyEdges>, anomalies: LocalAnomaly[]): void {
  if (ks.longest === undefined) return; // appended, never read: nothing is known of its order
  const key = ks.key;
  const writers = ks.writers;
  const order = ks.longest;
  const writerOf = (v: TxnValue): number => {
    const w = writers.get(v);
    return w === undefined ? NO_WRITER : w >> 1;
  };
  // Facts about the version order, by position: the first repeat, failed and unknown writers.
  const dupAt = firstDuplicate(order);
  let badAt = -1;
  for (let p = 0; p < order.length; p++) {
    const w = writerOf(order[p]!);
    if (w === NO_WRITER || status[w] === TXN_FAIL) {
      badAt = p;
      break;
    }
  }

  // Appends (of transactions that did not fail) that no read shows come after every element the
  // longest read shows, if they happened at all: lists only grow, and a read that shows an element
  // shows everything appended before it. Their order among themselves is not known, but each
  // follows the order's last element: a ww edge from its writer, and an rw edge from every read
  // that shows the whole order (Elle links an append it never saw read to the element last read
  // the same way, previously-appended-element). An appender of unknown outcome that never
  // happened has no observed effect, so no edge out of it and no cycle through it. Not the
  // writer of the last element itself: a read that ends in its earlier append is the
  // intermediate read reported as G1b, not also a G-single.
  const unshown: TxnValue[] = [];
  if (writers.size > order.length || dupAt >= 0 || badAt >= 0) {
    const shown = new Set(order);
    for (const [v, code] of writers) if (!shown.has(v) && status[code >> 1] !== TXN_FAIL) unshown.push(v);
  }
  let lastW = NO_WRITER;
  for (let p = order.length - 1; p >= 0 && lastW === NO_WRITER; p--) {
    const w = writerOf(order[p]!);
    if (w !== NO_WRITER && status[w] !== TXN_FAIL) lastW = w;
  }
  if (unshown.length > 0 && lastW !== NO_WRITER) {
    let keep = 0;
    for (const v of unshown) if (writerOf(v) !== lastW) unshown[keep++] = v;
    unshown.length = keep;
  }

  // Where elements of failed or unknown writers sit in the order: the first valid position at or after each.
  let nextValid: Int32Array | undefined;
  if (badAt >= 0) {
    nextValid = new Int32Array(order.length + 1);
    nextValid[order.length] = -1;
    for (let p = order.length - 1; p >= 0; p--) {
      const w = writerOf(order[p]!);
      nextValid[p] = w !== NO_WRITER && status[w] !== TXN_FAIL ? p : nextValid[p + 1]!;
    }
  }
  for (let r = 0; r < ks.readTxns.length; r++) {
    const list = ks.readLists[r]!;
    const t = ks.readTxns[r]! >> 1;
    const external = (ks.readTxns[r]! & 1) === 1;
    const prefix = list === order || isPrefix(list, order);
    if (!prefix) {
      anomalies.push({
        type: 'incompatible-order',
        txns: [t, ks.longestTxn],
        explanation: `key ${show(key)}: the transaction at index ${index[t] as number} read ${show(list)} and the one at index ${index[ks.longestTxn] as number} read ${show(order)}; neither is a prefix of the other`,
      });
    }
    const dup = prefix ? (dupAt >= 0 && dupAt < list.length ? dupAt : -1) : firstDuplicate(list);
    if (dup >= 0) {
      anomalies.push({
        type: 'duplicate-elements',
        txns: [t],
        explanation: `the transaction at index ${index[t] as number} read ${show(list)} from key ${show(key)}, which holds ${show(list[dup])} more than once`,
      });
    }
    // Elements written by failed transactions, or by nobody.
    if (!prefix || (badAt >= 0 && badAt < list.length)) {
      const seen = new Set<number>();
      for (const v of list) {
        const w = writerOf(v);
        if (w === NO_WRITER) {
          anomalies.push({
            type: 'garbage-read',
            txns: [t],
            explanation: `the transaction at index ${index[t] as number} read ${show(list)} from key ${show(key)}, but no transaction appended ${show(v)} to it`,
          });
        } else if (status[w] === TXN_FAIL && !seen.has(w)) {
          seen.add(w);
          anomalies.push({
            type: 'G1a',
            txns: [t, w],
            explanation: `the transaction at index ${index[t] as number} read ${show(list)} from key ${show(key)}, which includes ${show(v)}, appended by the transaction at index ${index[w] as number}, which failed (aborted read)`,
          });
        }
      }
    }
    if (!external) continue;
    // wr: the writer of the last element; G1b when that was not its last append to the key.
    if (list.length > 0) {
      const last = list[list.length - 1]!;
      const code = writers.get(last);
      if (code !== undefined) {
        const w = code >> 1;
        // w === t: a read of its own later append, reported as internal where it appends.
        if (w !== t && status[w] !== TXN_FAIL) {
          if ((code & 1) === 1) {
            anomalies.push({
              type: 'G1b',
              txns: [t, w],
              explanation: `the transaction at index ${index[t] as number} read ${show(list)} from key ${show(key)}, ending in ${show(last)}, an intermediate append of the transaction at index ${index[w] as number}, which appended to the key again later (intermediate read)`,
            });
          }
          pushEdge(edges, w, t, WR, key, last, undefined);
        }
      }
    }
    // rw: the writer of the next element in the version order (the next one with a committed
    // or indeterminate writer).
    const at = nextValid === undefined ? list.length : nextValid[list.length]!;
    const read = list.length > 0 ? list[list.length - 1]! : null;
    if (prefix && at >= 0 && at < order.length) {
      const next = order[at]!;
      const w = writerOf(next);
      if (w !== t) pushEdge(edges, t, w, RW, key, read, next);
    } else if (prefix) {
      // It shows the whole order: every unshown append came after it.
      for (const v of unshown) {
        const w = writerOf(v);
        if (w !== t) pushEdge(edges, t, w, RW, key, read, v);
      }
    }
  }
  // ww: consecutive elements of the version order, passing over those of failed or unknown
  // writers (reported above).
  let prevW = NO_WRITER;
  let prevV: TxnValue | undefined;
  for (let p = 0; p < order.length; p++) {
    const v = order[p]!;
    const w = writerOf(v);
    if (w === NO_WRITER || status[w] === TXN_FAIL) continue;
    if (prevW !== NO_WRITER && w !== prevW) pushEdge(edges, prevW, w, WW, key, prevV, v);
    prevW = w;
    prevV = v;
  }
  if (prevW !== NO_WRITER) for (const v of unshown) pushEdge(edges, prevW, writerOf(v), WW, key, prevV, v);
}
