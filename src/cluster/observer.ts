/**
 * What a client reports as its calls run, and to whom: the client takes these observers
 * (ClientDeps), so it does not know what records its calls. The cluster plugs in its history
 * recorders (src/cluster/history.ts), which `cluster.history()` reads.
 */
import type { InvokeInput, OpOutcome, TxnEventType, TxnMicroOp } from '../core/history.js';

/**
 * Per-key operations: a single-key call is one, a transaction one per key it touches (see
 * client.ts, projectTransaction). Local reads are not reported (they may be stale by design).
 */
export interface OpObserver {
  /** An operation begins; returns its id. A client (`call.client`) has at most one open. */
  invoke(call: InvokeInput): number;
  /**
   * Operation `id` ended: 'ok' with what it read (get, cas), 'fail' (definitely did not take
   * effect) or 'unknown' (no answer in time: it may still take effect).
   */
  complete(id: number, outcome: OpOutcome, output?: unknown): void;
}

/** Transactions in Elle's shape: one event at the invocation, one at the completion. */
export interface TxnObserver {
  /** A logical process id never handed out before (a process whose transaction ended 'info' is not reused). */
  newProcess(): number;
  /** `process` invoked a transaction, or its transaction completed ('ok', 'fail', 'info'). */
  record(process: number, type: TxnEventType, value: TxnMicroOp[]): void;
}
