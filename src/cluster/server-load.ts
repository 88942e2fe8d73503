/**
 * A server's bookkeeping beside the replication it adapts: the load figures it reports to its
 * heartbeat actor, and the requests it passed on to other servers (failed at once when the
 * runtime reports that server crashed). Pure state; the server acts on what it returns.
 */
import type { Origin } from '../replication/group.js';
import type { Load } from './messages.js';

/** Weight of the newest sample in the server's latency EWMA. */
export const LATENCY_EWMA_ALPHA = 0.2;
/** Requests whose arrival time a server keeps for its latency figure, at most. */
export const ARRIVALS_TRACKED_MAX = 10_000;
/** A request unanswered this long is no longer counted as in flight. */
export const ARRIVAL_MAX_AGE_MS = 60_000;

/** Forwarded requests remembered for crash notices, at most, and for how long. */
export const FORWARDED_TRACKED_MAX = 10_000;
export const FORWARD_TRACK_MS = 10_000;

function keyOf(origin: Origin): string {
  return `${origin.to}#${origin.rid}`;
}

/** Requests served, requests in flight, their latency and the time spent busy. */
export class ServerLoad {
  /** Requests answered successfully. */
  requests = 0;
  /** Requests submitted as leader and not answered (as of the last report). */
  inflight = 0;
  latencyEwmaMs = 0;
  /** Busy time in the last report's interval. */
  busyMs = 0;
  /** Arrival time of each request this server submitted as leader, by origin, until answered. */
  private readonly arrivals = new Map<string, number>();
  /** Busy time at the last load report, to report busy time per interval. */
  private busyAtLastReport = 0;

  /** A request this server submits to a group it leads. */
  submitted(origin: Origin, now: number): void {
    if (this.arrivals.size < ARRIVALS_TRACKED_MAX) this.arrivals.set(keyOf(origin), now);
  }

  /** A submitted request the group refused: it is answered at once and not timed. */
  refused(origin: Origin): void {
    this.arrivals.delete(keyOf(origin));
  }

  /** A group answered a request: its latency counts if this server submitted it. */
  answered(origin: Origin, now: number): void {
    const key = keyOf(origin);
    const arrived = this.arrivals.get(key);
    if (arrived === undefined) return;
    this.arrivals.delete(key);
    const latency = now - arrived;
    this.latencyEwmaMs = this.latencyEwmaMs === 0 ? latency : this.latencyEwmaMs + LATENCY_EWMA_ALPHA * (latency - this.latencyEwmaMs);
  }

  /**
   * The figures of a load report: busy time since the last report, and requests in flight
   * (those never answered, lost with a leader change, stop counting after ARRIVAL_MAX_AGE_MS).
   */
  report(now: number, busyMsTotal: number, mailbox: number): Load {
    this.busyMs = busyMsTotal - this.busyAtLastReport;
    this.busyAtLastReport = busyMsTotal;
    const cutoff = now - ARRIVAL_MAX_AGE_MS;
    for (const [key, at] of this.arrivals) if (at < cutoff) this.arrivals.delete(key);
    this.inflight = this.arrivals.size;
    return this.current(mailbox);
  }

  current(mailbox: number): Load {
    return { inflight: this.inflight, mailbox, latencyEwmaMs: this.latencyEwmaMs, busyMs: this.busyMs, requests: this.requests };
  }
}

/** Requests passed on to another server, by origin, until they age out or that server crashes. */
export class ForwardedRequests {
  private readonly forwarded = new Map<string, { to: string; origin: Origin; atMs: number }>();

  track(origin: Origin, to: string, now: number): void {
    if (this.forwarded.size >= FORWARDED_TRACKED_MAX) this.forwarded.delete(this.forwarded.keys().next().value as string);
    this.forwarded.set(keyOf(origin), { to, origin, atMs: now });
  }

  /** `node` crashed: the requests passed to it (forgotten here), whose callers are told now. */
  takeFor(node: string): Origin[] {
    const out: Origin[] = [];
    for (const [key, f] of this.forwarded) {
      if (f.to !== node) continue;
      this.forwarded.delete(key);
      out.push(f.origin);
    }
    return out;
  }

  /** Forget requests passed on longer than FORWARD_TRACK_MS ago. */
  ageOut(now: number): void {
    const cutoff = now - FORWARD_TRACK_MS;
    for (const [key, f] of this.forwarded) {
      if (f.atMs >= cutoff) break; // Oldest first: the rest are younger.
      this.forwarded.delete(key);
    }
  }
}
