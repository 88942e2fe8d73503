/**
 * What the two per-key analyses (list-append.ts, rw-register.ts) do alike before their models
 * part ways: index the transactions by id, and stop on a value written to a key twice (both
 * name a value's writer by the value alone, so it must be unique per key).
 */
import { fieldOf, show, type KeyAnalysis, type TxnKey, type TxnValue, type TxnView } from './types.js';

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
  return {
    ...found,
    invalid: {
      field: fieldOf(view, j, 2),
      message: `value ${show(value)} is ${wrote} key ${show(key)} more than once (also by the transaction at index ${otherIndex}); ${model} needs unique values per key`,
    },
  };
}
