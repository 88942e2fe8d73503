/**
 * Histories of client operations, as recorded against a running cluster and read by the
 * linearizability checker. Everything here is plain data (no classes inside a history) so a
 * history survives the codec and can be posted to a checker worker thread.
 */
import type { Clock } from '../core/clock.js';
import { ValidationError } from '../core/errors.js';

export type OpKind = 'get' | 'put' | 'delete' | 'cas' | 'append' | 'read' | 'write';

/**
 * 'ok': completed with a known output. 'fail': definitely did not take effect (the checker
 * drops it). 'unknown': may have taken effect at any time after its invocation, or never.
 */
export type OpOutcome = 'ok' | 'fail' | 'unknown';

export interface HistoryOp {
  /** Unique within the history. */
  id: number;
  /** A client/process id; a client has at most one operation open at a time. */
  client: string;
  /** Operations on different keys are checked independently ('' for a single register). */
  key: string;
  kind: OpKind;
  /** put/write: the value; cas: { expected, next }; append: a string; get/read/delete: undefined. */
  input: unknown;
  /** When invoked, on any monotonic clock; equal times count as concurrent. */
  invokeMs: number;
  outcome: OpOutcome;
  /** get/read: the value read (undefined = missing); cas: true (swapped) or false (value differed). */
  output?: unknown;
  /** When the response arrived; absent when the outcome is 'unknown'. */
  completeMs?: number;
}

export type History = HistoryOp[];

export const OP_KINDS: readonly OpKind[] = ['get', 'put', 'delete', 'cas', 'append', 'read', 'write'];
export const OP_OUTCOMES: readonly OpOutcome[] = ['ok', 'fail', 'unknown'];

/** What a caller says when it invokes an operation. */
export interface InvokeInput {
  client: string;
  key: string;
  kind: OpKind;
  input?: unknown;
}

const performanceClock: Clock = { now: () => performance.now() };

/**
 * Records operations as they are invoked and completed. Time comes from an injected clock so
 * the simulator can record in virtual time; the default is `performance.now()`.
 */
export class HistoryRecorder {
  private readonly clock: Clock;
  private readonly ops: HistoryOp[] = [];
  /** Index into `ops` of each operation still open, by id. */
  private readonly open = new Map<number, number>();
  /** The id of the operation each client has open, if any. */
  private readonly openByClient = new Map<string, number>();
  private nextId = 0;

  constructor(clock: Clock = performanceClock) {
    this.clock = clock;
  }

  /** Starts an operation and returns its id. A client may have only one operation open. */
  invoke(call: InvokeInput): number {
    const busy = this.openByClient.get(call.client);
    if (busy !== undefined) {
      throw new ValidationError('client', `${JSON.stringify(call.client)} already has operation ${busy} open`);
    }
    const id = this.nextId++;
    const op: HistoryOp = {
      id,
      client: call.client,
      key: call.key,
      kind: call.kind,
      input: call.input,
      invokeMs: this.clock.now(),
      outcome: 'unknown',
    };
    this.open.set(id, this.ops.length);
    this.openByClient.set(call.client, id);
    this.ops.push(op);
    return id;
  }

  /**
   * Completes an open operation. An 'unknown' outcome closes it without a completion time:
   * the client gave up waiting, so the operation may still take effect later.
   */
  complete(id: number, outcome: OpOutcome, output?: unknown): void {
    const index = this.open.get(id);
    if (index === undefined) throw new ValidationError('id', `operation ${id} is not open`);
    const op = this.ops[index] as HistoryOp;
    this.open.delete(id);
    this.openByClient.delete(op.client);
    op.outcome = outcome;
    if (outcome === 'unknown') return;
    op.completeMs = Math.max(this.clock.now(), op.invokeMs);
    if (outcome === 'ok' && output !== undefined) op.output = output;
  }

  /** The number of operations still open. */
  get pending(): number {
    return this.open.size;
  }

  /**
   * A copy of the history so far. Operations still open appear with an 'unknown' outcome,
   * which is what they are: they may yet take effect.
   */
  toHistory(): History {
    return this.ops.map((op) => ({ ...op }));
  }
}
