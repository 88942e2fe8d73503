/**
 * The shape every protocol core shares, in the style of etcd-raft's `Ready`.
 *
 * A core is a pure state machine: the host feeds it messages (`step`), logical clock ticks
 * (`tick`) and proposals, then drains `ready()` and must, in this order,
 *   1. make every record in `persist` durable (append to its log),
 *   2. send every envelope in `messages`,
 *   3. act on every entry of `decisions`, in order.
 * Records persisted earlier are handed back to the core's constructor after a restart.
 * Messages to the core's own address are ordinary messages: the host delivers them back.
 */
export interface Envelope<M> {
  to: string;
  msg: M;
}

export interface Ready<M, R, D> {
  /** Records the host must make durable BEFORE sending `messages`. */
  persist: R[];
  /** Messages to send. */
  messages: Envelope<M>[];
  /** Decisions / applied entries to report to the host, in order. */
  decisions: D[];
}

/** What a host (or a test network) needs from any core. */
export interface Core<M, R, D> {
  step(from: string, msg: M): void;
  tick(): void;
  ready(): Ready<M, R, D>;
  hasReady(): boolean;
}

/** The outbox a core appends to; `take()` hands it over and starts a new one. */
export class Outbox<M, R, D> {
  private persistList: R[] = [];
  private messageList: Envelope<M>[] = [];
  private decisionList: D[] = [];

  persist(record: R): void {
    this.persistList.push(record);
  }

  send(to: string, msg: M): void {
    this.messageList.push({ to, msg });
  }

  decide(decision: D): void {
    this.decisionList.push(decision);
  }

  has(): boolean {
    return this.persistList.length > 0 || this.messageList.length > 0 || this.decisionList.length > 0;
  }

  /**
   * Hands the outbox over and starts a new one. An empty list is handed over as one shared
   * frozen empty list (the outbox keeps its own): no new lists for what did not happen.
   * Hosts only read what they are handed (a frozen list throws if written to).
   */
  take(): Ready<M, R, D> {
    const ready: Ready<M, R, D> = {
      persist: this.persistList.length === 0 ? NONE : this.persistList,
      messages: this.messageList.length === 0 ? NONE : this.messageList,
      decisions: this.decisionList.length === 0 ? NONE : this.decisionList,
    };
    if (this.persistList.length > 0) this.persistList = [];
    if (this.messageList.length > 0) this.messageList = [];
    if (this.decisionList.length > 0) this.decisionList = [];
    return ready;
  }
}

/** The shared empty list take() hands over. */
const NONE = Object.freeze([]) as never[];
