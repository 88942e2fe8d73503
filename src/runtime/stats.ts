import type { DropCause } from '../net/model.js';

export interface ActorStats {
  sent: number;
  received: number;
  restarts: number;
  counters: Record<string, number>;
}

/** The messages from one region to another, counted by the sending host. */
export interface LinkStats {
  /** Every message sent on the link, dropped or not (as HostStats.sent counts). */
  sent: number;
  /** Those of `sent` dropped on the way: loss, a partition, a dead node, too large... */
  dropped: number;
}

/**
 * Message types one host counts apart (HostStats.types). A message's type is whatever its
 * sender chose: an actor that made up a type per message grew every host's table of types by
 * one a message, for as long as the host ran, and sent it with every stats read (found by a
 * report audit, session 69). Past it, a host counts the messages of types it has not seen under
 * MESSAGE_TYPE_OTHER. The runtime's own protocols use a few dozen.
 */
export const HOST_MESSAGE_TYPES_MAX = 1_000;
/** The type under which a host counts the messages of its types past HOST_MESSAGE_TYPES_MAX (and the metrics theirs past theirs). */
export const MESSAGE_TYPE_OTHER = '(other)';

/** The count of one message type (see HostStats.typeCounter). */
export interface TypeCounter {
  n: number;
}

/** Counters kept by one host. Plain data except for the two accessors, stripped by `snapshot`. */
export interface HostStats {
  sent: number;
  delivered: number;
  bytes: number;
  errors: number;
  dropped: Partial<Record<DropCause, number>>;
  actors: Record<string, ActorStats>;
  links: Record<string, LinkStats>;
  /**
   * Messages sent by type; a wrapped protocol message counts as `wrapper:inner` (`px:accept`).
   * A batch wire (its `m` a list, `pxs`) counts once under its own type and each message it
   * carries as `wrapper:inner` (`pxs:accept`): sum the inner counts for protocol messages, or
   * the wire types for wires, not both.
   * Read from the type counters when read (the router counts in those, without a string-keyed
   * store per message).
   */
  readonly types: Record<string, number>;
  actor(address: string): ActorStats;
  link(fromRegion: string, toRegion: string): LinkStats;
  /**
   * The counter behind `types[type]`, made on first use; once the host counts
   * HOST_MESSAGE_TYPES_MAX types, a type it has not seen gets MESSAGE_TYPE_OTHER's.
   */
  typeCounter(type: string): TypeCounter;
  /** Whether `type` has a counter of its own (or the host has room for one): not counted as MESSAGE_TYPE_OTHER. */
  countsApart(type: string): boolean;
}

export type StatsSnapshot = Omit<HostStats, 'actor' | 'link' | 'typeCounter' | 'countsApart'>;

export function emptyHostStats(): HostStats {
  // Per region pair, so the hot path does not build a key string per message.
  const linkCache = new Map<string, Map<string, LinkStats>>();
  // In the order of each type's first message, as the record had its keys when counted in place.
  const typeCounters = new Map<string, TypeCounter>();
  const types: Record<string, number> = {};
  const stats: HostStats = {
    sent: 0,
    delivered: 0,
    bytes: 0,
    errors: 0,
    dropped: {},
    actors: {},
    links: {},
    get types() {
      for (const [type, counter] of typeCounters) types[type] = counter.n;
      return types;
    },
    actor(address) {
      let a = stats.actors[address];
      if (a === undefined) stats.actors[address] = a = { sent: 0, received: 0, restarts: 0, counters: {} };
      return a;
    },
    link(fromRegion, toRegion) {
      let inner = linkCache.get(fromRegion);
      if (inner === undefined) linkCache.set(fromRegion, (inner = new Map()));
      let l = inner.get(toRegion);
      if (l === undefined) {
        const key = `${fromRegion}->${toRegion}`;
        l = stats.links[key] ??= { sent: 0, dropped: 0 };
        inner.set(toRegion, l);
      }
      return l;
    },
    typeCounter(type) {
      let counter = typeCounters.get(type);
      if (counter === undefined) {
        if (typeCounters.size >= HOST_MESSAGE_TYPES_MAX) type = MESSAGE_TYPE_OTHER;
        counter = typeCounters.get(type);
        if (counter === undefined) typeCounters.set(type, (counter = { n: 0 }));
      }
      return counter;
    },
    countsApart(type) {
      return typeCounters.has(type) || typeCounters.size < HOST_MESSAGE_TYPES_MAX;
    },
  };
  return stats;
}

export function snapshot(stats: HostStats): StatsSnapshot {
  return {
    sent: stats.sent,
    delivered: stats.delivered,
    bytes: stats.bytes,
    errors: stats.errors,
    dropped: { ...stats.dropped },
    actors: structuredClone(stats.actors),
    links: structuredClone(stats.links),
    types: { ...stats.types },
  };
}

/**
 * Counters whose name starts with this are levels of the actor's current incarnation (how far
 * behind something is now), not totals: a new incarnation (a restart, a recovery after a crash,
 * supervision) starts them from 0, and a host that is gone takes its levels with it. Other
 * counters add up over incarnations and hosts.
 */
export const LEVEL_COUNTER_PREFIX = 'level:';

/** Drops the level counters (LEVEL_COUNTER_PREFIX) from `counters`, in place. */
export function clearLevels(counters: Record<string, number>): void {
  for (const name of Object.keys(counters)) if (name.startsWith(LEVEL_COUNTER_PREFIX)) delete counters[name];
}

/** `s` without its actors' level counters: what a host that is gone still counts for. */
export function withoutLevels(s: StatsSnapshot): StatsSnapshot {
  const actors: Record<string, ActorStats> = {};
  for (const [address, a] of Object.entries(s.actors)) {
    const counters = { ...a.counters };
    clearLevels(counters);
    actors[address] = { ...a, counters };
  }
  return { ...s, actors };
}

/**
 * The counters of the hosts a real-time transport retired (a thread or a host process that is
 * gone: crashed, killed or dead), kept as one sum, to merge with the live hosts' snapshots.
 * Until session 64 each transport kept a list of one snapshot a retired host, so a cluster whose
 * dedicated servers crashed and restarted kept one more at every crash for as long as it ran,
 * and summed them all at every stats() read (test/bounded-runtime.part.ts).
 */
export class RetiredStats {
  private sum: StatsSnapshot | undefined;

  /** A host is gone: its totals still count; its actors' levels went with it (see LEVEL_COUNTER_PREFIX). */
  add(last: StatsSnapshot): void {
    const gone = withoutLevels(last);
    this.sum = this.sum === undefined ? gone : mergeSnapshots([this.sum, gone]);
  }

  /** The sum as a list of one snapshot (none before the first host retired), for mergeSnapshots. */
  snapshots(): StatsSnapshot[] {
    return this.sum === undefined ? [] : [this.sum];
  }
}

/** Sums host snapshots into one. */
export function mergeSnapshots(parts: StatsSnapshot[]): StatsSnapshot {
  const out: StatsSnapshot = { sent: 0, delivered: 0, bytes: 0, errors: 0, dropped: {}, actors: {}, links: {}, types: {} };
  for (const p of parts) {
    out.sent += p.sent;
    out.delivered += p.delivered;
    out.bytes += p.bytes;
    out.errors += p.errors;
    for (const [cause, n] of Object.entries(p.dropped)) {
      const c = cause as DropCause;
      out.dropped[c] = (out.dropped[c] ?? 0) + (n ?? 0);
    }
    for (const [address, a] of Object.entries(p.actors)) {
      const o = (out.actors[address] ??= { sent: 0, received: 0, restarts: 0, counters: {} });
      o.sent += a.sent;
      o.received += a.received;
      o.restarts += a.restarts;
      for (const [name, n] of Object.entries(a.counters)) o.counters[name] = (o.counters[name] ?? 0) + n;
    }
    for (const [type, n] of Object.entries(p.types)) out.types[type] = (out.types[type] ?? 0) + n;
    for (const [key, l] of Object.entries(p.links)) {
      const o = (out.links[key] ??= { sent: 0, dropped: 0 });
      o.sent += l.sent;
      o.dropped += l.dropped;
    }
  }
  return out;
}
