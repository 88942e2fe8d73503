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
