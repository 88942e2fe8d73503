/** Named limits. Every queue, batch, size and retry count has one (TigerBeetle's rule). */
/** threads/nats: each worker's V8 old-generation maximum, MB (see WORKER_OLD_GENERATION_MB_MAX in threads.ts for the measurements). */
export const WORKER_HEAP_MB_DEFAULT = 1_024;
export const MESSAGE_BYTES_MAX_DEFAULT = 1024 * 1024;
/** The most `messageBytesMax` takes (and the least, MESSAGE_BYTES_MAX_MIN). */
export const MESSAGE_BYTES_MAX_MAX = 64 * 1024 * 1024;
export const MESSAGE_BYTES_MAX_MIN = 64;
export const MAILBOX_CAPACITY_DEFAULT = 10_000;
/** The most `mailboxCapacity` takes. */
export const MAILBOX_CAPACITY_MAX = 10_000_000;
/** The largest `seed` (seeds are 32-bit). */
export const SEED_MAX = 0xffffffff;
/** The most a server's clock may be skewed (`setClockSkew`), either way: a day. */
export const CLOCK_SKEW_MS_MAX = 86_400_000;
/**
 * The longest wait a public call takes, ms (an hour): `cluster.sleep`, `Nemesis.run`'s duration,
 * `eventually`'s timeout and interval. Unbounded, a slip of units (3_000_000 for 3,000 s, or
 * ms for s) held a test for most of an hour, and `sleep(1e300)` in sim ran for ever (session
 * 64's input audit).
 */
export const WAIT_MS_MAX = 3_600_000;
/** The longest latency, jitter or delay the network model takes, ms. */
export const NETWORK_DELAY_MS_MAX = 600_000;
/** A history read from a file (JSON or EDN) nested deeper than this is refused: its readers and checkers recurse. */
export const HISTORY_NESTING_MAX = 1_000;
/**
 * A frame is flushed early once it holds this many bytes. Small frames let the receiving
 * thread start while the sender is still working (measured here: small frames move about
 * 2x the messages of 256 KiB frames between two busy actors; 2 KiB did best of 2-32).
 */
export const FRAME_BYTES_FLUSH = 2 * 1024;
/** Messages handled per host per scheduling turn before yielding to the event loop. */
export const DRAIN_BUDGET_MESSAGES = 4_096;
export const REQUEST_TIMEOUT_MS_DEFAULT = 5_000;
export const RESTART_BACKOFF_MS_BASE = 10;
export const RESTART_BACKOFF_MS_MAX = 2_000;
/** Errors kept per host for reporting; older ones are counted but not kept. */
export const ERRORS_KEPT_MAX = 100;
export const KEY_BYTES_MAX = 1024;
export const VALUE_BYTES_MAX = 64 * 1024;
export const HOST_READY_TIMEOUT_MS = 20_000;
export const TIMERS_PER_ACTOR_MAX = 10_000;
/**
 * A replica snapshots its state machine (and drops the log before it) every `snapshotEvery`
 * slots, or as soon as the slots applied since the last snapshot hold this many commands:
 * with batching a slot carries up to 64 commands, so 1,000 slots could hold 64,000 commands
 * per shard in memory (and in the server's log kept for checkpoints). Commands held until a
 * snapshot were most of a worker's heap under steady load (bench soak, heap snapshots: 14 MB
 * of 40 at 4,096); a snapshot copies the shard's data and remembered request ids, so much
 * fewer would trade memory for copying.
 */
export const SNAPSHOT_EVERY_COMMANDS = 1_024;
/**
 * Request ids a shard's state machine remembers with their results, to answer a duplicate
 * without executing it again. A duplicate comes within a request timeout (5 s by default) of
 * the original; at the ~800 puts/s per shard of the replication bench that is about 4,000
 * requests. Each is held twice (the map, and the snapshot's copy).
 */
export const SEEN_REQUESTS_MAX = 4_096;
/**
 * Clients whose highest forgotten request id a state machine keeps (see
 * KvStateMachine.forgottenUpTo): past it, the client whose mark was made first loses it (a
 * raised mark keeps its place; a copy of that client's requests later than SEEN_REQUESTS_MAX
 * others is then executed again).
 */
export const SEEN_CLIENTS_MAX = 65_536;
/** Transactions a shard remembers as finished, so a late duplicate prepare is refused. */
export const FINISHED_TXNS_MAX = 10_000;
/** Transaction request ids a coordinator remembers against duplicates. */
export const BEGUN_REMEMBERED_MAX = 10_000;
/** Requests a balancer remembers as answered (routed or refused), per balancer. */
export const ROUTED_REMEMBERED_MAX = 4_096;

/**
 * The memory bounds of replicated state that a cluster may shrink (`ClusterConfig.limits`),
 * as FoundationDB's simulator shrinks its knobs: with small bounds a test run forgets, and
 * must still refuse late copies of what it forgot, within a few seconds instead of hours.
 */
export interface MemoryLimits {
  /** Request ids with results a shard's state machine remembers (SEEN_REQUESTS_MAX). */
  seenRequests: number;
  /** Finished transactions a shard remembers (FINISHED_TXNS_MAX). */
  finishedTxns: number;
  /** Transaction request ids a coordinator remembers (BEGUN_REMEMBERED_MAX). */
  begunRequests: number;
  /** Requests a balancer remembers as answered (ROUTED_REMEMBERED_MAX). */
  routedRequests: number;
}
export const MEMORY_LIMITS_DEFAULT: Readonly<MemoryLimits> = Object.freeze({
  seenRequests: SEEN_REQUESTS_MAX,
  finishedTxns: FINISHED_TXNS_MAX,
  begunRequests: BEGUN_REMEMBERED_MAX,
  routedRequests: ROUTED_REMEMBERED_MAX,
});
/** The smallest bound `limits` may set. */
export const MEMORY_LIMIT_MIN = 1;
