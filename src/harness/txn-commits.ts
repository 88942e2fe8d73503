/**
 * The commit protocols `meridian check --workload txn` runs, apart from the transactional
 * scenario itself (src/harness/txn-scenario.ts), so that the check runner names them without
 * loading that scenario and its Elle checker in every pool worker of a kv check.
 */
export type TxnCommit = '2pc' | 'paxos-commit';
/** The commit protocols that claim strict serializability under crashes and partitions (3PC does not). */
export const TXN_CHECK_COMMITS: readonly TxnCommit[] = ['2pc', 'paxos-commit'];
