/** Client operations as the replication layer executes them (the cluster's wire types reuse these). */
export type OpName = 'get' | 'put' | 'delete' | 'cas' | 'txn';

export interface TxnOp {
  op: 'put' | 'delete' | 'check';
  key: string;
  value?: unknown;
}

export interface RequestBody {
  op: OpName;
  key: string;
  value?: unknown;
  expected?: unknown;
  ops?: TxnOp[];
  /** 'local': read the nearest replica, may be stale. */
  consistency?: 'linearizable' | 'local';
  /**
   * The request's unique id (client id and call number). The network may deliver a request
   * twice; a state machine that has seen this id answers with the first result instead of
   * executing again, so a duplicated cas or put is not applied twice.
   */
  rq?: string;
}
