/**
 * The commit protocols `meridian check` runs, apart from the transactional scenario itself
 * (src/harness/txn-scenario.ts), so that the check runner names them without loading that
 * scenario and its Elle checker in every pool worker of a kv check.
 */
export type TxnCommit = '2pc' | 'paxos-commit' | '3pc';
/**
 * The commit protocols that claim strict serializability under crashes, restarts and
 * partitions: what `meridian check --workload txn` runs when no protocol is named.
 */
export const TXN_CHECK_COMMITS: readonly TxnCommit[] = ['2pc', 'paxos-commit'];
/**
 * Every protocol a check can be asked for (`--commit`). 3PC is among them though it does not
 * claim what the checker checks (src/protocols/threepc.ts: safe only under crash-stop and
 * synchrony; the nemesis restarts what it crashes, partitions, loses and delays): a check of it
 * shows where it breaks, and its failures are expected (THREEPC_NOTE).
 */
export const TXN_COMMITS: readonly TxnCommit[] = ['2pc', 'paxos-commit', '3pc'];

/** What a check of 3PC says in its header, so that its failed seeds are not read as a bug. */
export const THREEPC_NOTE =
  '3PC is safe only when crashed nodes stay down and no message is late (src/protocols/threepc.ts), and these faults break both: failed seeds are expected';
