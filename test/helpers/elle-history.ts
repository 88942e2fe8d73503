/** Builds small Elle histories by hand: invocations and completions in real-time order. */
import type { ElleOp, ElleOpType, MicroOp } from '../../src/harness/elle/index.js';

export class HistoryBuilder {
  readonly ops: ElleOp[] = [];

  /** The micro-ops as invoked: reads carry null. */
  static invoked(value: MicroOp[]): MicroOp[] {
    return value.map((m) => (m[0] === 'r' ? ['r', m[1], null] : m) as MicroOp);
  }

  invoke(process: number | string, value: MicroOp[]): this {
    this.ops.push({ index: this.ops.length, process, type: 'invoke', f: 'txn', value: HistoryBuilder.invoked(value) });
    return this;
  }

  complete(process: number | string, type: Exclude<ElleOpType, 'invoke'>, value: MicroOp[]): this {
    this.ops.push({ index: this.ops.length, process, type, f: 'txn', value });
    return this;
  }

  /** A transaction invoked and completed before the next one starts. */
  txn(process: number | string, value: MicroOp[], type: Exclude<ElleOpType, 'invoke'> = 'ok'): this {
    return this.invoke(process, value).complete(process, type, value);
  }
}

export function h(): HistoryBuilder {
  return new HistoryBuilder();
}

/**
 * T1 appends 1 to x and commits; T2, invoked after that, reads x empty; T3 reads [1] later (a
 * version is known only once a read shows it). Serializable (T2 before T1), not strict
 * serializable (T1 ended before T2 began): a G-single-realtime.
 */
export const STALE_READ: readonly ElleOp[] = [
  { index: 0, process: 0, type: 'invoke', f: 'txn', value: [['append', 'x', 1]] },
  { index: 1, process: 0, type: 'ok', f: 'txn', value: [['append', 'x', 1]] },
  { index: 2, process: 1, type: 'invoke', f: 'txn', value: [['r', 'x', null]] },
  { index: 3, process: 1, type: 'ok', f: 'txn', value: [['r', 'x', []]] },
  { index: 4, process: 2, type: 'invoke', f: 'txn', value: [['r', 'x', null]] },
  { index: 5, process: 2, type: 'ok', f: 'txn', value: [['r', 'x', [1]]] },
];

/**
 * Write skew: T1 reads x empty and appends y, T2 reads y empty and appends x, concurrently (two
 * rw edges, G2). Allowed at snapshot isolation, which proscribes G-single and G-nonadjacent: to
 * show the history free of those, their cycle searches try both rw anchors (test/elle-budget.part.ts
 * and test/check-budget.test.ts give them one edge).
 */
export const writeSkew: ElleOp[] = new HistoryBuilder()
  .invoke(0, [
    ['r', 'x', []],
    ['append', 'y', 1],
  ])
  .invoke(1, [
    ['r', 'y', []],
    ['append', 'x', 1],
  ])
  .complete(0, 'ok', [
    ['r', 'x', []],
    ['append', 'y', 1],
  ])
  .complete(1, 'ok', [
    ['r', 'y', []],
    ['append', 'x', 1],
  ]).ops;
