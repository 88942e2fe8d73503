/**
 * Transaction histories in Elle's shape (Kingsbury & Alvaro, "Elle: Inferring Isolation
 * Anomalies from Experimental Observations", 2020): one event per invocation and one per
 * completion, in real-time order. `cluster.history({ format: 'elle' })` returns them; the
 * transactional checker reads them.
 */

/** ['append', key, v] | ['r', key, list | null] (list-append); ['w', key, v] | ['r', key, v | null] (rw-register). */
export type TxnMicroOp = ['append', string, unknown] | ['r', string, unknown] | ['w', string, unknown];

export interface TxnHistoryOp {
  /** Position in the history, from 0. */
  index: number;
  /** A logical single-threaded process; a process that ends in 'info' is not used again. */
  process: number | string;
  /** 'ok': committed; 'fail': definitely did not happen; 'info': may or may not have happened. */
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: 'txn';
  /** The micro-ops; an invocation's reads are null, an ok completion's hold what was read. */
  value: TxnMicroOp[];
}

/** Events the history keeps at most; then it stops recording (see `truncated`). */
export const TXN_HISTORY_EVENTS_MAX = 2_000_000;

/** Records transaction events as they happen (the recorder's order is the real-time order). */
export class TxnHistoryRecorder {
  private readonly events: TxnHistoryOp[] = [];
  private nextProcess = 0;
  truncated = false;

  /** A process id never handed out before. */
  newProcess(): number {
    return this.nextProcess++;
  }

  record(process: number, type: TxnHistoryOp['type'], value: TxnMicroOp[]): void {
    if (this.events.length >= TXN_HISTORY_EVENTS_MAX) {
      this.truncated = true;
      return;
    }
    this.events.push({ index: this.events.length, process, type, f: 'txn', value });
  }

  /**
   * A copy of every event so far. Invocations without completion are left open (Elle reads
   * them as info). A completed read of a missing key (recorded as undefined) becomes `[]` for
   * 'list-append' (an empty list: what the checker reads as "nothing appended yet") and
   * `null` for 'rw-register' (the initial state); an invocation's reads stay null (unknown).
   */
  toHistory(model: 'list-append' | 'rw-register' = 'list-append'): TxnHistoryOp[] {
    const missing = (): unknown => (model === 'list-append' ? [] : null);
    return this.events.map((e) => ({ ...e, value: e.value.map((m) => (m[2] === undefined ? [m[0], m[1], missing()] : [...m]) as TxnMicroOp) }));
  }
}
