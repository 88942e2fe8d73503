import { Membership, type MembershipChange } from '../liveness/membership.js';
import type { ActorContext, Behavior } from '../runtime/actor.js';
import type { ResolvedHeartbeat } from './validate-parts.js';
import type { Digest, DownMembers, Load, MemberDigest, RegionBeat, RegionInbound } from './messages.js';
import { balancerAddress } from './topology.js';
import { newInLife, type Lives } from './lives.js';
import { wireShellBytesMax } from './server.js';
import { chunksWithin, encodedBytes } from '../protocols/snapshot-pieces.js';

export interface RegionParams {
  region: string;
  servers: string[];
  regions: string[];
  heartbeat: ResolvedHeartbeat | Record<string, unknown>;
  /** The host's messageBytesMax: a digest that would be over it goes in parts (see digestParts); unset, whole. */
  messageBytesMax?: number;
}

export interface RegionState {
  params: RegionParams;
  hb: ResolvedHeartbeat;
  servers: Membership;
  peers: Membership;
  loads: Map<string, Load>;
  /** Each server's lives (lives.ts): restarts counted for the view, copies and late heartbeats told apart. */
  incarnations: Map<string, Lives>;
  /** Heartbeats dropped as copies or late (a seq not above the highest seen of their life). */
  stale: number;
  /** Each peer region actor's lives, for its beats (`rhb`) as for the servers' heartbeats. */
  peerLives: Map<string, Lives>;
  /** Peer region beats dropped as copies or late. */
  staleBeats: number;
  seq: number;
  changes: number;
  /** Whether the last tick told the servers of members down (see DownMembers). */
  downTold: boolean;
}

/** A server holds the members a DownMembers notice names down for this many heartbeat intervals after it. */
export const DOWN_MEMBERS_HOLD_INTERVALS = 3;

const ZERO_LOAD: Load = { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 };

/**
 * A region's control point: runs phi-accrual over its servers' heartbeats, beats to the other
 * region actors (cross-region liveness), and every interval sends a digest of its members,
 * their load and its view of the other regions to every balancer.
 */
export const regionBehavior: Behavior<RegionState, RegionParams, RegionInbound> = {
  name: 'region',
  init(ctx, params) {
    const hb = params.heartbeat as ResolvedHeartbeat;
    const options = {
      detector: {
        threshold: hb.phiThreshold,
        minStdDeviationMs: hb.minStdDeviationMs,
        acceptableHeartbeatPauseMs: hb.acceptableHeartbeatPauseMs,
        firstHeartbeatEstimateMs: hb.firstHeartbeatEstimateMs,
        maxSampleSize: hb.maxSampleSize,
      },
      // Passed on, so a configured suspectThreshold or stallFactor takes effect (validating
      // them is not enough).
      suspectThreshold: hb.suspectThreshold,
      checkIntervalMs: hb.intervalMs,
      stallFactor: hb.stallFactor,
    };
    const now = ctx.now();
    const servers = new Membership(options);
    for (const id of params.servers) servers.add(id, now);
    const peers = new Membership(options);
    for (const r of params.regions) if (r !== params.region) peers.add(r, now);
    ctx.setTimer('tick', hb.intervalMs);
    return {
      params,
      hb,
      servers,
      peers,
      loads: new Map(),
      incarnations: new Map(),
      stale: 0,
      peerLives: new Map(),
      staleBeats: 0,
      seq: 0,
      changes: 0,
      downTold: false,
    };
  },
  receive(state, msg, ctx) {
    const now = ctx.now();
    switch (msg.type) {
      case 'hb': {
        // A heartbeat counts once, and only ahead of the ones seen of its life (a server's
        // heartbeat actor numbers them from 1 in each life). A copy the network made, or one
        // delayed past a later one, is dropped: counted, a late copy from a server that had
        // crashed took it back up ('rejoined') seconds after it was convicted, and the
        // balancers routed to it again (a 1 x 3 cluster with 30% of messages copied up to 3 s
        // late: 19 changes of a crashed server's state in 5 s, 17 requests routed to it; found
        // by an audit, session 55), and copies taken as samples widened the detector's spread
        // (detection took twice as long).
        const inc = newInLife(state.incarnations, msg.node, msg.incarnation, msg.seq);
        if (inc === undefined) {
          state.stale++;
          return;
        }
        state.loads.set(msg.node, msg.load);
        state.changes += state.servers.heartbeat(msg.node, now, inc.n).length;
        return;
      }
      case 'rhb': {
        // The same for a peer region actor's beats: a copy or a late one, counted, took a peer
        // region whose region actor had stopped back up, and widened the detector's spread
        // (left open by an audit, session 55).
        const inc = newInLife(state.peerLives, msg.region, msg.incarnation, msg.seq);
        if (inc === undefined) {
          state.staleBeats++;
          return;
        }
        state.peers.heartbeat(msg.region, now, inc.n);
        return;
      }
      case 'timer': {
        const changes: MembershipChange[] = state.servers.evaluate(now);
        state.changes += changes.length;
        state.peers.evaluate(now);
        state.seq++;
        for (const r of state.params.regions) {
          if (r === state.params.region) continue;
          const beat: RegionBeat = { type: 'rhb', region: state.params.region, seq: state.seq, incarnation: ctx.incarnation };
          ctx.send(r, beat);
        }
        const members: MemberDigest[] = state.servers.view().map((m) => ({ id: m.id, state: m.state, load: state.loads.get(m.id) ?? ZERO_LOAD }));
        // Members only: no balancer reads the region's view of its peers (it keeps its own of
        // the regions, from these digests); it is in the region's summary.
        const digest: Digest = {
          type: 'digest',
          region: state.params.region,
          seq: state.seq,
          incarnation: ctx.incarnation,
          version: state.servers.version,
          members,
        };
        // To the balancers only: a coordinator takes no digest (CoordinatorInbound has none;
        // it ignored them, half of the digests sent).
        for (const part of digestParts(state.params, digest)) for (const r of state.params.regions) ctx.send(balancerAddress(r), part);
        tellDown(state, members, ctx);
        ctx.setTimer('tick', state.hb.intervalMs);
        return;
      }
      default:
        return;
    }
  },
  summary(state) {
    return {
      members: state.servers.view(),
      peers: state.peers.view(),
      version: state.servers.version,
      staleHeartbeats: state.stale,
      staleRegionBeats: state.staleBeats,
    };
  },
};

/**
 * `digest` whole if it fits in a message to every balancer, else in parts that each do, all of
 * its seq, numbered from 0 (Digest.part), each with as many members as fit (chunksWithin). A
 * digest grows with the region's servers (about 20 to 50 bytes each): sent whole over
 * messageBytesMax, it was dropped every interval (one warn), and every balancer, its digests
 * stopped, held the region down: each of its servers read 'down' in members() and the metrics,
 * requests went to other regions or were routed in panic, and a server it held down was never
 * told apart (test/gathered-bytes.part.ts: 100 servers at messageBytesMax 1,024).
 */
export function digestParts(params: RegionParams, digest: Digest): Digest[] {
  if (params.messageBytesMax === undefined) return [digest];
  return inParts(
    digest,
    digest.members,
    (members) => ({ ...digest, members }),
    budgetTo(params.region, params.regions.map(balancerAddress), params.messageBytesMax),
  );
}

/**
 * `notice` whole if it fits in a message to every server of the region, else in parts that each
 * do, as a digest goes (digestParts), each with some of `down`. A notice lists about 8 bytes a
 * server held down: sent whole over messageBytesMax (a large region at a small limit, many of
 * its servers silent), it was dropped with a warn every interval, and the servers passed
 * requests on to the silent ones, told only by crash notices and their own probes
 * (test/gathered-bytes.part.ts).
 */
export function downParts(params: RegionParams, notice: DownMembers): DownMembers[] {
  if (params.messageBytesMax === undefined) return [notice];
  return inParts(notice, notice.down, (down) => ({ ...notice, down }), budgetTo(params.region, params.servers, params.messageBytesMax));
}

/** What a message from `from` may encode to, to be under `messageBytesMax` to each of `to` with its envelope. */
function budgetTo(from: string, to: readonly string[], messageBytesMax: number): number {
  let shell = 0;
  for (const address of to) shell = Math.max(shell, wireShellBytesMax(from, address));
  return messageBytesMax - shell;
}

/**
 * `whole` if it encodes within `budget`, else parts numbered from 0 (`part`), each `withList`
 * of as many of `list` as fit, in order (chunksWithin, the cut the catch-up entries use).
 */
function inParts<M extends { part?: number }, T>(whole: M, list: readonly T[], withList: (items: T[]) => M, budget: number): M[] {
  if (encodedBytes(whole) <= budget) return [whole];
  // Each part's items share what is left once its other fields are in (the widest part number).
  const share = budget - encodedBytes({ ...withList([]), part: 0xffffffff });
  return chunksWithin(list, share).map((items, part) => ({ ...withList(items), part }));
}

/**
 * Tell the region's servers which of them the membership holds down, every interval while any
 * is, and once when none is left. A server passing a request on chose among its peers by the
 * runtime's crash notices and its own probes only, so a paused peer (silent, no notice) kept
 * taking the requests of its region's other servers for 10-15 s after the region convicted it
 * (found by a failover audit, session 59). Nothing is sent while every server is up, so a run
 * in which the membership holds no server down keeps its trace.
 */
function tellDown(state: RegionState, members: readonly MemberDigest[], ctx: ActorContext): void {
  const down = members.filter((m) => m.state === 'down').map((m) => m.id);
  if (down.length === 0 && !state.downTold) return;
  state.downTold = down.length > 0;
  const notice: DownMembers = {
    type: 'down-members',
    seq: state.seq,
    incarnation: ctx.incarnation,
    down,
    holdMs: DOWN_MEMBERS_HOLD_INTERVALS * state.hb.intervalMs,
  };
  for (const part of downParts(state.params, notice)) for (const server of state.params.servers) ctx.send(server, part);
}
