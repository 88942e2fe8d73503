/**
 * Serial transactional histories from a seed: each transaction is invoked, applied to an
 * in-memory store and completed before the next one starts, so the result is strict
 * serializable by construction. Used by the tests (always clean) and the bench.
 */
import { ConfigError } from '../../core/errors.js';
import { Prng } from '../../core/prng.js';
import type { ElleOp, MicroOp, TxnModel, TxnValue } from './types.js';

export interface SerialHistoryOptions {
  model: TxnModel;
  seed: number;
  txns: number;
  keys: number;
  /** Micro-ops per transaction: 1 .. opsMax (default 4). */
  opsMax?: number;
  /** Share of reads among micro-ops (default 0.5). */
  readRatio?: number;
  /** Share of transactions that fail (no effect, default 0.02) and end as info (default 0.02; half of those take effect). */
  failRatio?: number;
  infoRatio?: number;
  /** Processes the transactions are spread over, round-robin (default 5). */
  processes?: number;
}

function positiveInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(field, 'an integer >= 1', v);
}

function ratio(field: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(field, 'a number from 0 to 1', v);
}

export function serialHistory(options: SerialHistoryOptions): ElleOp[] {
  const { model, seed, txns, keys } = options;
  if (model !== 'list-append' && model !== 'rw-register') throw new ConfigError('model', 'list-append or rw-register', model);
  if (!Number.isFinite(seed)) throw new ConfigError('seed', 'a finite number', seed);
  positiveInt('txns', txns);
  positiveInt('keys', keys);
  const opsMax = options.opsMax ?? 4;
  positiveInt('opsMax', opsMax);
  const processes = options.processes ?? 5;
  positiveInt('processes', processes);
  const readRatio = options.readRatio ?? 0.5;
  const failRatio = options.failRatio ?? 0.02;
  const infoRatio = options.infoRatio ?? 0.02;
  ratio('readRatio', readRatio);
  ratio('failRatio', failRatio);
  ratio('infoRatio', infoRatio);
  const prng = new Prng(seed);
  const lists = new Map<number, TxnValue[]>();
  const registers = new Map<number, TxnValue>();
  const history: ElleOp[] = [];
  let next = 1;
  const append = model === 'list-append';
  for (let i = 0; i < txns; i++) {
    const process = i % processes;
    const n = 1 + prng.int(opsMax);
    const draw = prng.next();
    const type = draw < failRatio ? 'fail' : draw < failRatio + infoRatio ? 'info' : 'ok';
    const applied = type === 'ok' || (type === 'info' && prng.chance(0.5));
    const invoke: MicroOp[] = [];
    const done: MicroOp[] = [];
    // A transaction sees its own writes: apply to a private copy of what it touches.
    const localLists = new Map<number, TxnValue[]>();
    const localRegs = new Map<number, TxnValue | null>();
    for (let j = 0; j < n; j++) {
      const key = prng.int(keys);
      if (prng.chance(readRatio)) {
        invoke.push(['r', key, null]);
        if (append) {
          let list = localLists.get(key);
          if (list === undefined) list = (lists.get(key) ?? []).slice();
          localLists.set(key, list);
          done.push(['r', key, type === 'ok' ? list.slice() : null]);
        } else {
          const v = localRegs.has(key) ? localRegs.get(key)! : (registers.get(key) ?? null);
          localRegs.set(key, v);
          done.push(['r', key, type === 'ok' ? v : null]);
        }
      } else {
        const v = next++;
        if (append) {
          let list = localLists.get(key);
          if (list === undefined) list = (lists.get(key) ?? []).slice();
          list.push(v);
          localLists.set(key, list);
          invoke.push(['append', key, v]);
          done.push(['append', key, v]);
        } else {
          localRegs.set(key, v);
          invoke.push(['w', key, v]);
          done.push(['w', key, v]);
        }
      }
    }
    if (applied) {
      for (const [k, list] of localLists) lists.set(k, list);
      for (const [k, v] of localRegs) if (v !== null) registers.set(k, v);
    }
    history.push({ index: history.length, process, type: 'invoke', f: 'txn', value: invoke });
    history.push({ index: history.length, process, type, f: 'txn', value: done });
  }
  return history;
}
