/**
 * What the two per-key analyses (list-append.ts, rw-register.ts) do alike before their models
 * part ways: index the transactions by id, stop on a value written to a key twice (both name a
 * value's writer by the value alone, so it must be unique per key), and find lost updates.
 */
import { fieldOf, show, type KeyAnalysis, type LocalAnomaly, type TxnKey, type TxnModel, type TxnValue, type TxnView } from './types.js';

/** Stands for the initial state (a read of null, or of the empty list) in maps of versions. */
export const INITIAL = Symbol('initial');
export type Version = TxnValue | typeof INITIAL;

/** Each transaction's status and history index, by id (`txnCount` dense ids). */
export function txnTables(views: readonly TxnView[], txnCount: number): { status: Int8Array; index: number[] } {
  const status = new Int8Array(txnCount);
  const index: number[] = new Array<number>(txnCount);
  for (const v of views) {
    status[v.id] = v.status;
    index[v.id] = v.index;
  }
  return { status, index };
}

/**
 * The analysis's answer when micro-op `j` of `view` writes `value` to `key` again (the
 * transaction at history index `otherIndex` wrote it before): what was found so far, and the
 * input marked invalid. `wrote` and `model` word the message ('appended to', 'list-append').
 */
export function notUnique(
  found: Omit<KeyAnalysis, 'invalid'>,
  view: TxnView,
  j: number,
  key: TxnKey,
  value: TxnValue,
  otherIndex: number,
  wrote: string,
  model: string,
): KeyAnalysis {
  return { ...found, invalid: { field: fieldOf(view, j, 2), message: notUniqueMessage(key, value, otherIndex, wrote, model) } };
}

function notUniqueMessage(key: TxnKey, value: TxnValue, otherIndex: number, wrote: string, model: string): string {
  return `value ${show(value)} is ${wrote} key ${show(key)} more than once (also by the transaction at index ${otherIndex}); ${model} needs unique values per key`;
}

/**
 * The first value written to a key a second time, in the order the analyses meet it (views in
 * order, each one's micro-ops in order): micro-op `j` of `view`, and what notUnique says of it.
 */
export function repeatedWrite(views: readonly TxnView[], model: TxnModel): { view: TxnView; j: number; message: string } | undefined {
  const write = model === 'list-append' ? 'append' : 'w';
  /** Per key, each value written and the index of the transaction that wrote it first. */
  const writers = new Map<TxnKey, Map<TxnValue, number>>();
  for (const view of views) {
    for (let j = 0; j < view.ops.length; j++) {
      const [f, key, value] = view.ops[j]!;
      if (f !== write) continue;
      let values = writers.get(key);
      if (values === undefined) writers.set(key, (values = new Map()));
      const other = values.get(value);
      if (other !== undefined) return { view, j, message: notUniqueMessage(key, value, other, model === 'list-append' ? 'appended to' : 'written to', model) };
      values.set(value, view.index);
    }
  }
  return undefined;
}

/**
 * Lost updates (Elle's lost-update): two or more committed transactions that each read the same
 * version of `key` and then wrote the key. Whichever committed second wrote over a version
 * that was no longer the latest without seeing the other's write; snapshot isolation's
 * first-committer-wins forbids it. A cycle shows it too (two rw edges, a G2) wherever both
 * writes are ordered, but snapshot isolation allows G2, so it is looked for by itself.
 * `follows`: [version read, transaction] of committed read-then-write transactions, in
 * history order; `read` words a version.
 */
export function lostUpdates(
  key: TxnKey,
  follows: ReadonlyArray<readonly [Version, number]>,
  index: readonly number[],
  read: (v: Version) => string,
  anomalies: LocalAnomaly[],
): void {
  if (follows.length < 2) return;
  const byVersion = new Map<Version, number[]>();
  for (const [v, t] of follows) {
    const txns = byVersion.get(v);
    if (txns === undefined) byVersion.set(v, [t]);
    else if (txns[txns.length - 1] !== t) txns.push(t);
  }
  for (const [v, txns] of byVersion) {
    if (txns.length < 2) continue;
    anomalies.push({
      type: 'lost-update',
      txns: txns.slice().sort((a, b) => a - b),
      explanation: `the transactions at index ${txns.map((t) => index[t] as number).join(', ')} each read ${read(v)} from key ${show(key)} and then wrote the key: all but one of the writes went over a version that was no longer the latest (lost update)`,
    });
  }
}
