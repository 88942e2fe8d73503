/** Client operations as the replication layer executes them (the cluster's wire types reuse these). */
export type OpName = 'get' | 'put' | 'delete' | 'cas' | 'txn';

export interface TxnOp {
  /** get: read the key; append: add `value` to the list at key (missing = empty list). */
  op: 'put' | 'delete' | 'check' | 'get' | 'append';
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
  /**
   * A transaction's coordinator, chosen once by the balancer that routed it (its region's
   * coordinator, or the next region's while the runtime reports that one crashed). Every copy
   * of the request carries it, so a copy the network delivers late goes where the first went,
   * whatever the server it reaches believes or has forgotten (a restart). Absent: the server
   * chooses.
   */
  co?: string;
}

/**
 * Testing only: deliberately broken variants of the transaction layer, which the transactional
 * check must catch. 'release-locks-at-prepare': a participant releases its locks once it has
 * voted, instead of at commit or abort. 'vote-before-prepare-durable': a participant votes yes
 * (with what it read) as soon as a prepare reaches its leader, judged on the leader's applied
 * state, before the prepare is chosen in the shard's log; the prepare applied later locks
 * nothing when it meets a lock, yet still commits.
 */
export type TxnUnsafe = 'release-locks-at-prepare' | 'vote-before-prepare-durable';
export const TXN_UNSAFE_VARIANTS: readonly TxnUnsafe[] = ['release-locks-at-prepare', 'vote-before-prepare-durable'];

/**
 * What a transaction read at one shard: one entry per `get` op of the shard's part, in order;
 * `[]` for a missing key, `[value]` otherwise (so a stored null and a missing key differ).
 */
export type TxnReads = Array<[] | [unknown]>;
