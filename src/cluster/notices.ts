/**
 * The runtime's crash and restart notices (SystemMessage) travel like any message from the
 * node's location: late, reordered, duplicated. A node's notices are ranked by incarnation
 * (restart i, then crash i, then restart i + 1, ...), and only one ranked above every notice
 * seen before is news. Without this, a crash notice delayed past the restart that followed it
 * (a restart storm under reordered messages) left a balancer routing nothing to a live server
 * for good: `meridian check --seed 195091 --mode active --nemesis swarm --txn-share 0.3
 * --commit paxos-commit --regions 2 --servers 1 --factor 2 --shards 5` was not live.
 */
import type { SystemMessage } from '../runtime/actor.js';

export class NodeNotices {
  private readonly ranks = new Map<string, number>();

  /** Whether `msg` is news about its node (false: stale or a duplicate, to ignore); remembers it. */
  current(msg: SystemMessage): boolean {
    const rank = 2 * msg.incarnation + (msg.event === 'node-crashed' ? 1 : 0);
    if (rank <= (this.ranks.get(msg.node) ?? -1)) return false;
    this.ranks.set(msg.node, rank);
    return true;
  }
}
