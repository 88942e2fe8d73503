import { FifoOrder } from '../core/fifo-order.js';
import { ForgottenMarks } from '../core/forgotten-marks.js';
import { NumberSet } from '../core/number-set.js';
import { ROUTED_REMEMBERED_MAX, SEEN_CLIENTS_MAX } from '../core/limits.js';
import { Prng } from '../core/prng.js';
import { planLocality, pickRegion, type LocalityPlan, type RegionHealth } from '../balance/locality.js';
import { OutlierDetector } from '../balance/outlier.js';
import { createStrategy } from '../balance/strategy.js';
import { DEFAULT_WEIGHT, type Endpoint, type Strategy } from '../balance/types.js';
import { Membership } from '../liveness/membership.js';
import type { ActorContext, Behavior, SystemMessage, UndeliverableMessage } from '../runtime/actor.js';
import {
  READ_ONLY,
  type BalancerInbound,
  type Digest,
  type Load,
  type MemberState,
  type Probe,
  type Req,
  type RequestBody,
  type Res,
  type ResErr,
  type ResOk,
} from './messages.js';
import { coordinatorAddress, shardOf } from './topology.js';
import { NodeNotices } from './notices.js';
import { committedTooLarge, onlyReads, outcomeUnknown, readTooLarge } from './too-large.js';
import { newPart, type Lives, type PartsTaken } from './lives.js';
import type { ResolvedBalancer } from './validate-parts.js';

/** Requests one balancer keeps in flight; beyond it new requests are refused (UNAVAILABLE). */
export const BALANCER_INFLIGHT_MAX = 100_000;
/** How often in-flight requests are swept for expiry, as a fraction of the request timeout. */
export const SWEEP_FRACTION = 4;
/** How often a balancer probes the coordinators and servers it holds crashed (see onProbeAck). */
export const BALANCER_PROBE_MS = 1_000;
/**
 * A transaction unanswered this long (ms) has the balancer ask its coordinator to verify that it
 * reaches the servers (Probe.verify; see doubtSlow); with no answer within VERIFY_WAIT_MS the
 * coordinator is held down as on a crash notice.
 */
export const TXN_SLOW_MS = 1_000;
/** How long a coordinator asked to verify has to answer (ms); the next ask waits as long. */
export const VERIFY_WAIT_MS = 1_000;
/**
 * How long, in request timeouts, a shard's leader-bound requests avoid a server through which
 * one of them expired (BalancerState.avoid), unless that server answers one of them first.
 */
export const AVOID_TIMEOUTS = 8;
/**
 * How many times a get in flight is sent again, to another server, when the one it is at crashes
 * or is held down by its region (see failInflightTo): three servers tried, the usual number of
 * copies of a key. A bound, so that a get cannot bounce between servers that go down in turn.
 */
export const GET_REROUTES_MAX = 2;

export interface BalancerParams {
  region: string;
  /** Failover order, home region first. */
  priority: string[];
  /**
   * The cluster's regions in topology order: a transaction's coordinator is the coordinator of
   * the region of the server it is routed to, or, while the runtime reports that one crashed,
   * the next region's in this order (as a server chooses; see RequestBody.co).
   */
  regions: string[];
  servers: Record<string, string[]>;
  balancer: ResolvedBalancer | Record<string, unknown>;
  heartbeatIntervalMs: number;
  /** The heartbeat config: the same detector parameters judge other regions' digests. */
  heartbeat?: {
    phiThreshold: number;
    suspectThreshold: number;
    minStdDeviationMs: number;
    acceptableHeartbeatPauseMs: number;
    /** The first digest of a region is expected this long after start (default heartbeatIntervalMs). */
    firstHeartbeatEstimateMs?: number;
    maxSampleSize: number;
    stallFactor: number;
  };
  requestTimeoutMs: number;
  /** The first region's balancer publishes membership changes to `cluster.on('member')`. */
  publishMembers: boolean;
  /**
   * The cluster's shard count (topology.ts shardOf): with it the balancer learns each shard's
   * leader from the answers and sends leader-bound requests straight there (see route).
   * Absent or 0: every request is placed by the strategy.
   */
  shards?: number;
  /** Requests remembered as answered (ClusterConfig.limits.routedRequests; default ROUTED_REMEMBERED_MAX). */
  routedRemembered?: number;
}

interface MemberInfo {
  region: string;
  /** Its state in its region's last digest. */
  state: MemberState;
  /** Its state in this balancer's view, as last published (see viewState). */
  shown: MemberState;
  load: Load | undefined;
  /**
   * Known crashed from the runtime (a refused connection): not routed to until restarted,
   * which the restart notice says, or an answer from it to a probe or a request sent after
   * the crash notice came (crashedAtMs). A digest that saw it down and beating again only
   * probes it (onDigest): that beat may be an old life's, delivered late.
   */
  crashed: boolean;
  /** When the crash notice came (this balancer's clock). */
  crashedAtMs: number;
  active: number;
  /** When an answer last came FROM this server (it executed something): it is alive. */
  lastAnswerMs: number;
  /** Its counter of requests routed to it (`routed:<id>`), named once. */
  routedCounter: string;
}

interface Inflight {
  client: string;
  rid: number;
  server: string;
  sentMs: number;
  /** The shard of a leader-bound request (its answer teaches the shard's leader), else -1. */
  shard: number;
  /**
   * A transaction that only reads (gets and checks): its answer is marked so when relayed
   * (ResOk's READ_ONLY), and failed in flight it did nothing, UNAVAILABLE (outcomeUnknown).
   */
  readOnly: boolean;
  /**
   * A get's request body (the client's decoded object, referenced, not copied), else undefined:
   * a get changed nothing, so when its server crashes or is held down with it in flight it is
   * sent again to another server, and failed as UNAVAILABLE (definite), not TIMEOUT, only when
   * none can take it (see failInflightTo).
   */
  get: RequestBody | undefined;
  /** How many times this get was sent again to another server (at most GET_REROUTES_MAX). */
  rerouted: number;
  /** The servers a get was sent to before `server`, once it was sent again (it goes to none twice), else undefined. */
  tried: string[] | undefined;
  /** A transaction's coordinator (the request's `co`), else undefined. */
  co: string | undefined;
}

export interface BalancerState {
  params: BalancerParams;
  config: ResolvedBalancer;
  members: Map<string, MemberInfo>;
  /** Liveness of each region's control point, from its digests. */
  regions: Membership;
  regionState: Map<string, MemberState>;
  strategies: Map<string, Strategy>;
  prng: Prng;
  outlier: OutlierDetector | undefined;
  inflight: Map<number, Inflight>;
  /**
   * Requests answered lately (routed or refused), by client and the client's rid: a copy the
   * network duplicated is dropped. Routed twice, a transaction could reach two coordinators,
   * which do not know each other's requests, and run twice (the copy that aborted could answer
   * first). Refused, then routed, a write would take effect after its client was told it
   * definitely did not (UnavailableError): seed 255280 of `check --shape random --nemesis
   * swarm --txn-share 0.3 --commit paxos-commit`, a cas refused while both servers were down
   * whose duplicate, delayed by a reorder fault, arrived after the restart.
   *
   * Not kept across the balancer's lives: a supervisor's restart (after an error thrown in it,
   * mailbox kept) could route a copy of a request its earlier life refused. Left so because only
   * a bug restarts a balancer, and a `check` seed fails on any actor error (ActorErrorWatch): its
   * node (`front`) is never crashed, and setClockSkew takes servers only, so its clock never
   * steps back; what it routes comes from Client calls, validated up front; a send over the size
   * limit bounces (onUndeliverable) rather than throws. Only a message the cluster never sends
   * restarts it (test/noticed.part.ts; a class audit, session 67).
   */
  routedIds: RoutedIds;
  /** The ids in `routedIds`, oldest first (no iterator per request to find it). */
  routedOrder: FifoOrder<number | string>;
  /** A number for each client address seen, to key `routedIds` without building a string. */
  senders: Map<string, number>;
  /** The rid of the next request routed (answers are matched by it): from firstRid on. */
  nextRid: number;
  plan: LocalityPlan | undefined;
  /**
   * The view's version: one more per change of a server's state in it (MemberEvent.version),
   * from firstRid - 1 on, so that it grows across the balancer's lives as its rids do: from 0
   * again after a restart, a consumer that orders 'member' events by version took the new
   * life's events for stale ones (a class audit, session 67: test/noticed.part.ts).
   */
  version: number;
  routed: number;
  refused: number;
  /** Copies of requests answered already (routed or refused), dropped (see routedIds). */
  duplicates: number;
  /** The shard count (BalancerParams.shards; 0: no leader hints). */
  shards: number;
  /**
   * Leader hints, by shard: the server that last answered a leader-bound request of the
   * shard (the answer's `by`; such requests are answered by the shard's leader). Dropped when
   * a request of the shard fails or expires, or the server crashes.
   */
  leaders: Array<string | undefined>;
  /** Requests sent by a leader hint rather than by the strategy. */
  hinted: number;
  /**
   * Per shard, servers its leader-bound requests avoid while the shard has no leader hint, with
   * until when (this balancer's clock): one of them expired sent there. A server that answers
   * the balancer (local reads, say) but whose forwards are lost (it is mute to the other
   * servers, or hears seconds late) is never ejected as an outlier, which counts only a server
   * gone quiet; without this the strategy kept choosing it, and a region whose only server it
   * was wrote nothing while the fault lasted. Lifted early, for the shard and from avoidAll,
   * when a request of the shard routed through the server is answered by the shard's leader.
   */
  avoid: Array<Map<string, number> | undefined>;
  /**
   * Servers every shard's leader-bound requests avoid, with until when: requests of two shards
   * expired through one while both shards avoided it. A gray server otherwise cost a request
   * per shard it is the strategy's choice for.
   */
  avoidAll: Map<string, number>;
  /** Leader-bound requests routed away from a server they avoid (see avoid). */
  avoided: number;
  /** Gets sent again to another server, the one they were in flight at crashed or held down (see reroute). */
  rerouted: number;
  /**
   * Coordinators the runtime reported crashed and not restarted, with when the crash notice
   * came (this balancer's clock): no transaction is sent to one. Each is probed every
   * BALANCER_PROBE_MS while here, since its restart notice may be lost (see onProbeAck).
   */
  coordinatorsDown: Map<string, number>;
  /**
   * Coordinators asked to verify (doubtSlow), with when the ask left and whether it was answered;
   * each is forgotten VERIFY_WAIT_MS later, held down first if unanswered.
   */
  doubts: Map<string, { at: number; answered: boolean }>;
  /** The probe timer is set: it runs while any coordinator or server is held crashed, and only then. */
  probing: boolean;
  /** The runtime's notices seen, to drop late ones (a crash notice that arrives after the restart that followed). */
  notices: NodeNotices;
  /** Per region, its region actor's lives (lives.ts): a digest not above the highest of its life is a copy or overtaken (see onDigest). */
  digestSeqs: Map<string, Lives>;
  /** Per region, the parts taken of its newest digest in parts (Digest.part; see onDigest). */
  digestParts: Map<string, PartsTaken>;
  /** Digests dropped as copies or overtaken. */
  staleDigests: number;
}

/** What a balancer tells about itself (`cluster.inspect('balancer/<region>')`; `cluster.members()` reads `members`). */
export interface BalancerSummary {
  inflight: number;
  routed: number;
  refused: number;
  /** Copies of requests answered already (routed or refused) that were dropped: the network's duplicates. */
  duplicates: number;
  /** Of `routed`, the requests sent to their shard's leader by a hint rather than by the strategy. */
  hinted: number;
  /** Of `routed`, leader-bound requests sent away from a server one of their shard's expired through (BalancerState.avoid). */
  avoided: number;
  /** Of `routed`, gets sent again to another server when the one they were in flight at crashed or was held down by its region. */
  rerouted: number;
  /** Shards with a leader hint, and the server each is sent to. */
  leaders: Record<number, string>;
  /** Each region's reachability, from its digests. */
  regions: Record<string, MemberState>;
  /** Servers ejected by outlier detection. */
  ejected: string[];
  /**
   * Each server's state in this balancer's view (see viewState): its region's digests' word,
   * but 'down' while the balancer holds the region down (`regions`), whatever its last digest said.
   */
  members: Record<string, MemberState>;
  /** Coordinators held crashed (no transaction is sent to one), in the order their crash notices came. */
  coordinatorsDown: string[];
  /** Region digests dropped as copies or overtaken by a later one (the network's duplicates and reorders). */
  staleDigests: number;
}

/**
 * The front door of one home region: picks a region (home first, failing over by priority
 * as health drops, Envoy's overprovisioning and panic rules), then a server there with the
 * configured strategy, forwards the request and relays the answer back to the client. It
 * sees every completion, so it knows in-flight counts and latencies for its strategies and
 * for passive outlier ejection.
 *
 * Leader-bound requests follow a leader hint instead: a write (put, delete, cas) or a
 * linearizable read is executed by its shard's leader wherever it enters, so a server the
 * strategy picks that is not the leader only forwards it there (one more actor message, one
 * more decode and encode). The balancer remembers, per shard, the server that answered the
 * shard's last leader-bound request and sends the next one straight to it; the strategy (and
 * the locality plan) places them only while a shard has no usable hint: none learned yet, the
 * hinted server crashed, down or suspect, in an unreachable region or ejected as an outlier,
 * or the shard's last leader-bound request failed or expired. A deposed leader that still
 * answers forwards to the new leader, whose answer moves the hint. The strategies therefore
 * spread local reads ('local' consistency: any replica in the chosen region answers them)
 * and the first request of each shard; transactions go through the strategy to a server,
 * which passes them to its region's coordinator, as before.
 */
export const balancerBehavior: Behavior<BalancerState, BalancerParams, BalancerInbound> = {
  name: 'balancer',
  init(ctx, params) {
    const config = params.balancer as ResolvedBalancer;
    const prng = new Prng(Math.floor(ctx.random() * 0x100000000));
    const members = new Map<string, MemberInfo>();
    for (const [region, ids] of Object.entries(params.servers)) {
      for (const id of ids)
        members.set(id, {
          region,
          state: 'up',
          shown: 'up',
          load: undefined,
          crashed: false,
          crashedAtMs: Number.NEGATIVE_INFINITY,
          active: 0,
          lastAnswerMs: Number.NEGATIVE_INFINITY,
          routedCounter: `routed:${id}`,
        });
    }
    const hb = params.heartbeat;
    const regions = new Membership({
      detector: {
        threshold: hb?.phiThreshold ?? 8,
        // The configured estimate, as the region actors use it: a region whose first digest
        // takes longer than one interval to come (a distant region) was held down until it
        // came, whatever the estimate said (found by an audit, session 55).
        firstHeartbeatEstimateMs: hb?.firstHeartbeatEstimateMs ?? params.heartbeatIntervalMs,
        ...(hb === undefined
          ? {}
          : { minStdDeviationMs: hb.minStdDeviationMs, acceptableHeartbeatPauseMs: hb.acceptableHeartbeatPauseMs, maxSampleSize: hb.maxSampleSize }),
      },
      ...(hb === undefined ? {} : { suspectThreshold: hb.suspectThreshold, stallFactor: hb.stallFactor }),
      checkIntervalMs: params.heartbeatIntervalMs,
    });
    const now = ctx.now();
    const regionState = new Map<string, MemberState>();
    for (const r of params.priority) {
      regions.add(r, now);
      regionState.set(r, 'up');
    }
    const strategies = new Map<string, Strategy>();
    for (const r of params.priority) {
      const options: Parameters<typeof createStrategy>[1] = {
        prng: prng.fork(`strategy/${r}`),
        choiceCount: config.choiceCount,
        activeRequestBias: config.activeRequestBias,
        virtualNodes: config.virtualNodes,
        maglevTableSize: config.maglevTableSize,
        decayTimeMs: config.decayTimeMs,
      };
      if (config.boundedLoadFactor !== undefined) options.boundedLoadFactor = config.boundedLoadFactor;
      strategies.set(r, createStrategy(config.strategy, options));
    }
    let outlier: OutlierDetector | undefined;
    if (config.outlier !== null) {
      outlier = new OutlierDetector(config.outlier);
      outlier.setServers([...members.keys()]);
    }
    ctx.setTimer('sweep', Math.max(1, params.requestTimeoutMs / SWEEP_FRACTION));
    ctx.setTimer('regions', params.heartbeatIntervalMs);
    const rid = firstRid(ctx);
    return {
      params,
      config,
      members,
      regions,
      regionState,
      strategies,
      prng,
      outlier,
      inflight: new Map(),
      routedIds: new RoutedIds(),
      routedOrder: new FifoOrder(params.routedRemembered ?? ROUTED_REMEMBERED_MAX),
      senders: new Map(),
      nextRid: rid,
      plan: undefined,
      version: rid - 1,
      routed: 0,
      refused: 0,
      duplicates: 0,
      shards: params.shards ?? 0,
      leaders: Array.from({ length: params.shards ?? 0 }, () => undefined),
      hinted: 0,
      avoid: Array.from({ length: params.shards ?? 0 }, () => undefined),
      avoidAll: new Map(),
      avoided: 0,
      rerouted: 0,
      coordinatorsDown: new Map(),
      doubts: new Map(),
      probing: false,
      notices: new NodeNotices(),
      digestSeqs: new Map(),
      digestParts: new Map(),
      staleDigests: 0,
    };
  },
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'req':
        route(state, msg, ctx);
        return;
      case 'res':
        complete(state, msg, ctx);
        return;
      case 'digest':
        onDigest(state, msg, ctx);
        return;
      case 'sys':
        onSystem(state, msg, ctx);
        return;
      case 'probe-ack':
        onProbeAck(state, msg.at, ctx);
        return;
      case 'timer':
        onTimer(state, msg.key, ctx);
        return;
      case 'undeliverable':
        onUndeliverable(msg, ctx);
        return;
      default:
        return;
    }
  },
  summary(state): BalancerSummary {
    const members: Record<string, MemberState> = {};
    for (const [id, m] of state.members) members[id] = viewState(state, m);
    return {
      inflight: state.inflight.size,
      routed: state.routed,
      refused: state.refused,
      duplicates: state.duplicates,
      hinted: state.hinted,
      avoided: state.avoided,
      rerouted: state.rerouted,
      leaders: Object.fromEntries(state.leaders.flatMap((id, shard) => (id === undefined ? [] : [[shard, id]]))),
      regions: Object.fromEntries(state.regionState),
      ejected: state.outlier?.ejected() ?? [],
      members,
      coordinatorsDown: [...state.coordinatorsDown.keys()],
      staleDigests: state.staleDigests,
    };
  },
};

/** Busy fraction of a server above which its weight shrinks (dynamic weights). */
export const BUSY_FRACTION_KNEE = 0.5;
/** Mailbox backlog above which a server's weight shrinks. */
export const MAILBOX_KNEE = 100;
/** The least a reported load can scale a weight by. */
export const LOAD_FACTOR_MIN = 0.1;

/**
 * Dynamic weights from the load a server reports on its heartbeats: a server busy for more
 * than half of the last interval, or with a backlog in its mailbox, gets proportionally less
 * weight. Under light load the factor is exactly 1, so configured weights hold as given.
 */
export function loadFactor(load: Load | undefined, intervalMs: number): number {
  if (load === undefined) return 1;
  const busy = Math.min(1, Math.max(0, load.busyMs / Math.max(1, intervalMs)));
  let factor = busy <= BUSY_FRACTION_KNEE ? 1 : 1 - (busy - BUSY_FRACTION_KNEE) / (1 - BUSY_FRACTION_KNEE);
  if (load.mailbox > MAILBOX_KNEE) factor *= MAILBOX_KNEE / load.mailbox;
  return Math.max(LOAD_FACTOR_MIN, factor);
}

function healthyIn(state: BalancerState, region: string, panic: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  const regionDown = state.regionState.get(region) === 'down';
  for (const id of state.params.servers[region] ?? []) {
    const m = state.members.get(id)!;
    if (m.crashed) continue;
    if (!panic && (regionDown || m.state !== 'up' || state.outlier?.isEjected(id))) continue;
    // Load exchange: the weight scaled by the server's reported load, and in-flight work
    // counted as the larger of what this balancer sent and what the server reports having
    // (other balancers send to it too).
    const configured = state.config.weights[id] ?? DEFAULT_WEIGHT;
    const weight = state.config.dynamicWeights ? configured * loadFactor(m.load, state.params.heartbeatIntervalMs) : configured;
    const active = Math.max(m.active, m.load?.inflight ?? 0);
    out.push({ id, weight, active });
  }
  return out;
}

function localityPlan(state: BalancerState): LocalityPlan {
  if (state.plan !== undefined) return state.plan;
  const health: Record<string, RegionHealth> = {};
  for (const region of state.params.priority) {
    const ids = state.params.servers[region] ?? [];
    let healthy = 0;
    let live = 0;
    for (const id of ids) if (!state.members.get(id)!.crashed) live++;
    if (state.regionState.get(region) !== 'down') {
      for (const id of ids) {
        const m = state.members.get(id)!;
        if (!m.crashed && m.state === 'up' && !state.outlier?.isEjected(id)) healthy++;
      }
    }
    // Panic routes to the servers that run (live), never to one the runtime reported crashed.
    health[region] = { healthy, total: ids.length, live };
  }
  const configured = state.config.locality.priority;
  const priority = configured.length > 0 ? configured : state.params.priority.slice(1).map((r) => [r]);
  state.plan = planLocality({
    homeRegion: state.params.region,
    priority,
    health,
    overprovisioningFactor: state.config.locality.overprovisioningFactor,
    panicThresholdPercent: state.config.locality.panicThresholdPercent,
  });
  return state.plan;
}

function refuse(state: BalancerState, req: Req, ctx: ActorContext, message: string): void {
  state.refused++;
  const res: Res = { type: 'res', rid: req.rid, ok: false, code: 'UNAVAILABLE', message };
  ctx.reply(res);
}

/** Requests a balancer remembers having answered, routed or refused (see BalancerState.routedIds; src/core/limits.ts). */
export { ROUTED_REMEMBERED_MAX };

/**
 * Client addresses numbered for `routedIds`; past this many, ids are strings `<sender>:<rid>`,
 * whose forgotten ones are covered by per-sender marks too (for SEEN_CLIENTS_MAX senders).
 */
export const SENDERS_NUMBERED_MAX = 1 << 20;

/**
 * The set of routed ids (sender number x 2^32 + rid, or a string). The number ids are in one
 * NumberSet: V8's Set rebuilt its table every few thousand requests (see NumberSet).
 */
export class RoutedIds {
  private readonly numbers = new NumberSet();
  private readonly strings = new Set<string>();
  /**
   * Per sender number, the highest rid forgotten (deleted) so far, or undefined. A client
   * numbers its requests in order, so a copy of a request at or below it that is not in the
   * set was answered and forgotten (or, reordered past ROUTED_REMEMBERED_MAX requests, never
   * seen: dropped, its client times out, which says the outcome is unknown). Either way it
   * is not answered again: a refusal stays definite however late a duplicate comes.
   */
  private readonly forgottenUpTo: Array<number | undefined> = [];
  /**
   * The same marks for string ids (`<sender>:<rid>`, see routedIdOf), for the most recent
   * SEEN_CLIENTS_MAX senders (as a state machine keeps its clients' marks). Without them, a
   * balancer past SENDERS_NUMBERED_MAX clients routed again a late copy of a forgotten request
   * (found reading the code while writing test/balancer-random.test.ts, 2026-12-02).
   */
  private readonly stringMarks = new ForgottenMarks(SEEN_CLIENTS_MAX);

  get size(): number {
    return this.numbers.size + this.strings.size;
  }

  has(id: number | string): boolean {
    if (typeof id === 'string') return this.strings.has(id) || this.stringMarks.covers(id);
    if (this.numbers.has(id)) return true;
    const n = Math.floor(id / 0x100000000);
    const upTo = this.forgottenUpTo[n];
    return upTo !== undefined && id - n * 0x100000000 <= upTo;
  }

  /** Adds an id not in the set. */
  add(id: number | string): void {
    if (typeof id === 'string') this.strings.add(id);
    else this.numbers.add(id);
  }

  /** Forgets an id in the set (a number id stays covered by its sender's forgottenUpTo). */
  delete(id: number | string): void {
    if (typeof id === 'string') {
      this.strings.delete(id);
      this.stringMarks.forgot(id);
      return;
    }
    this.numbers.delete(id);
    const n = Math.floor(id / 0x100000000);
    const rid = id - n * 0x100000000;
    const upTo = this.forgottenUpTo[n];
    if (upTo === undefined || rid > upTo) this.forgottenUpTo[n] = rid;
  }
}

/**
 * Rids a balancer may number per ms of its host's clock, on average over its life, for the
 * rids of its lives never to meet (see firstRid): a million requests a second from one actor.
 */
export const BALANCER_RIDS_PER_MS = 1024;

/**
 * The first rid of a balancer's life: above every rid an earlier life on its host used, as long
 * as that life routed fewer than BALANCER_RIDS_PER_MS requests a ms on average. Answers are
 * matched by rid, and a supervisor restarts a balancer after an error with its mailbox kept: a
 * life that counted from 1 again took a server's late answer to a request of the earlier life
 * for the answer to its own request of that rid, and a get was answered with another key's
 * value (a class audit, session 67: test/counter-audit.part.ts). A balancer keeps no log, so its
 * host's monotonic clock stands for a count of lives. In sim the first life starts at 0 ms, so
 * at 1; on threads and NATS the clock counts from the epoch (about 2^41 ms), and 2^53 rids is
 * 2^43 ms of it (the year 2248). The view's version counts on from it too (BalancerState.version).
 */
function firstRid(ctx: ActorContext): number {
  return Math.floor(ctx.monotonicNow() * BALANCER_RIDS_PER_MS) + 1;
}

/** The key of a request in `routedIds`: sender and rid as one number while both fit, else a string. */
function routedIdOf(state: BalancerState, sender: string, rid: number): number | string {
  let n = state.senders.get(sender);
  if (n === undefined && state.senders.size < SENDERS_NUMBERED_MAX) state.senders.set(sender, (n = state.senders.size));
  // 2^20 senders x 2^32 rids < 2^53: exact, and distinct from every other pair.
  if (n !== undefined && Number.isInteger(rid) && rid >= 0 && rid < 0x100000000) return n * 0x100000000 + rid;
  return stringRoutedId(sender, rid);
}

/** The key of a request in `routedIds` once its sender has no number (or its rid is not a 32-bit count). */
export function stringRoutedId(sender: string, rid: number): string {
  return `${sender}:${rid}`;
}

/**
 * Whether a request ends at its shard's leader wherever it enters: writes and linearizable
 * reads. Local reads are answered by the replica they reach; transactions go to a coordinator.
 */
export function leaderBound(body: RequestBody): boolean {
  switch (body.op) {
    case 'put':
    case 'delete':
    case 'cas':
      return true;
    case 'get':
      return body.consistency !== 'local';
    default:
      return false;
  }
}

/** A hinted server may be sent to while it runs, is up, its region is reachable and it is not ejected. */
function hintUsable(state: BalancerState, id: string): boolean {
  const m = state.members.get(id);
  if (m === undefined || m.crashed || m.state !== 'up') return false;
  if (state.regionState.get(m.region) === 'down') return false;
  return state.outlier === undefined || !state.outlier.isEjected(id);
}

/** The shard of a leader-bound request (when hints are kept), else -1. */
function hintShard(state: BalancerState, body: RequestBody): number {
  if (state.shards <= 0 || typeof body.key !== 'string' || !leaderBound(body)) return -1;
  return shardOf(body.key, state.shards);
}

/**
 * Close the requests in flight for the request timeout or longer, the oldest first (the map
 * holds them in the order sent): by the sweep, and before each request is routed. Only the
 * sweep did, every requestTimeoutMs / SWEEP_FRACTION: a client that timed out and called again
 * was routed by the hint of a leader cut off for up to that long, and one making a call at a
 * time lost two timeouts to it, not one (found by an audit, session 59).
 */
function expire(state: BalancerState, now: number): void {
  const cutoff = now - state.params.requestTimeoutMs;
  for (const [rid, entry] of state.inflight) {
    if (entry.sentMs > cutoff) break;
    // A server forwards a key it does not own, and the owner answers: a request lost past a
    // forwarder (its owner crashed, say) expires here against the forwarder. A server that
    // has answered anything since the request was sent is alive; only a server gone quiet
    // is an outlier. Without this, one crashed owner got the healthy servers forwarding to
    // it ejected, up to maxEjectionPercent, and moved a whole region's traffic away.
    const alive = (state.members.get(entry.server)?.lastAnswerMs ?? Number.NEGATIVE_INFINITY) > entry.sentMs;
    finish(state, rid, false, now, !alive);
    // No answer from the way this request went: the shard's next one is placed by the
    // strategy, on another server than this one while there is one (see avoid).
    if (entry.shard >= 0) {
      state.leaders[entry.shard] = undefined;
      avoidFor(state, entry.shard, entry.server, now);
    }
  }
}

function route(state: BalancerState, req: Req, ctx: ActorContext): void {
  const routedId = routedIdOf(state, ctx.sender, req.rid);
  if (state.routedIds.has(routedId)) {
    state.duplicates++;
    return; // A duplicate: the first copy is answered (routed or refused).
  }
  // Remembered before any refusal below: a refusal is definite (UnavailableError), so no
  // later copy of the request may be routed (see routedIds).
  state.routedIds.add(routedId);
  const forgotten = state.routedOrder.added(routedId, state.routedIds.size);
  if (forgotten !== undefined) state.routedIds.delete(forgotten);
  if (state.inflight.size >= BALANCER_INFLIGHT_MAX) {
    refuse(state, req, ctx, `balancer/${state.params.region} has ${BALANCER_INFLIGHT_MAX} requests in flight`);
    return;
  }
  const now = ctx.now();
  expire(state, now);
  const shard = hintShard(state, req.body);
  const target = place(state, req.body, shard, now, undefined);
  if (typeof target !== 'string') {
    refuse(state, req, ctx, target.why);
    return;
  }
  const rid = state.nextRid++;
  const readOnly = req.body.op === 'txn' && onlyReads(req.body.ops ?? []);
  const member = state.members.get(target)!;
  // A transaction's coordinator is chosen here, once, and travels with the request: a copy
  // the network delivers late reaches the same coordinator even if the server restarted in
  // between and forgot where the first went (two coordinators would run it twice).
  const body = req.body.op === 'txn' && req.body.co === undefined ? { ...req.body, co: coordinatorFor(state, member.region) } : req.body;
  state.inflight.set(rid, {
    client: ctx.sender,
    rid: req.rid,
    server: target,
    sentMs: now,
    shard,
    readOnly,
    get: body.op === 'get' ? body : undefined,
    rerouted: 0,
    tried: undefined,
    co: body.op === 'txn' ? body.co : undefined,
  });
  forwardTo(state, member, target, rid, body, ctx);
}

/**
 * The server a request goes to: its shard's leader by the hint, else a region by the locality
 * plan and a server there by the strategy (away from the servers a leader-bound request of its
 * shard avoids); or why none (the request is refused). `away`: the servers a get was sent to, the
 * last of which crashed or went down with it in flight, when it is sent again (reroute): it goes
 * to none of them, only to a server up in its region's view, of any region if need be (the
 * plan's panic, which routes to servers held down too, is no place to send it again).
 */
function place(state: BalancerState, body: RequestBody, shard: number, now: number, away: readonly string[] | undefined): string | { why: string } {
  if (shard >= 0) {
    const hint = state.leaders[shard];
    if (hint !== undefined) {
      if (away?.includes(hint) !== true && hintUsable(state, hint)) {
        state.hinted++;
        return hint;
      }
      state.leaders[shard] = undefined; // Learned again from the next answer.
    }
  }
  const choice = pickRegion(localityPlan(state), state.prng);
  if (choice === undefined) return { why: 'no healthy server in any region' };
  let region = choice.region;
  let endpoints: Endpoint[];
  if (away === undefined) {
    endpoints = healthyIn(state, region, choice.panic);
    if (endpoints.length === 0) endpoints = healthyIn(state, region, true);
  } else {
    endpoints = healthyBut(state, region, away);
    for (let k = 0; endpoints.length === 0 && k < state.params.priority.length; k++) {
      region = state.params.priority[k]!;
      endpoints = healthyBut(state, region, away);
    }
    if (endpoints.length === 0) return { why: 'no other server up' };
  }
  if (shard >= 0 && (state.avoid[shard] !== undefined || state.avoidAll.size > 0)) {
    const moved = awayFrom(state, shard, region, endpoints, now, away);
    if (moved !== undefined) {
      region = moved.region;
      endpoints = moved.endpoints;
    }
  }
  const picked = state.strategies.get(region)!.pick(endpoints, { key: body.key, nowMs: now });
  if (picked === undefined) return { why: `no server available in region ${region}` };
  return picked.id;
}

/** The servers of `region` a request may go to outside panic (healthyIn), but those in `away`. */
function healthyBut(state: BalancerState, region: string, away: readonly string[]): Endpoint[] {
  return healthyIn(state, region, false).filter((e) => !away.includes(e.id));
}

/** Sends a request to `target` under the balancer's `rid`, counting it as routed there. */
function forwardTo(state: BalancerState, member: MemberInfo, target: string, rid: number, body: RequestBody, ctx: ActorContext): void {
  member.active++;
  state.routed++;
  // The balancer's own choice (strategy or leader hint), per server: servers count where a
  // request EXECUTES (a server forwards a key it does not own), so only this shows where the
  // balancer sent the load.
  ctx.count(member.routedCounter);
  const forward: Req = { type: 'req', rid, body };
  ctx.send(target, forward);
}

/**
 * Sends a get in flight at a server that crashed or went down (failInflightTo) to another
 * server, one it was not sent to before, with the same client and client rid, if it was
 * re-routed fewer than GET_REROUTES_MAX times and such a server can take it (place): true if
 * sent. Its entry moves to a new
 * balancer rid, at the end of the in-flight map (which stays in the order sent, as expire and
 * doubtSlow read it), with the new server and sent time: a late answer from the first server
 * (to the old rid) finds no entry and is dropped, so the client is answered once, by whichever
 * answer comes first from the new server. Matching answers by the server instead would not do:
 * the answer comes from the server that executed the get, which may be another one than the
 * server it was sent to (a forwarder's owner).
 */
function reroute(state: BalancerState, rid: number, entry: Inflight, ctx: ActorContext): boolean {
  if (entry.get === undefined || entry.rerouted >= GET_REROUTES_MAX) return false;
  const now = ctx.now();
  const tried = entry.tried ?? [];
  tried.push(entry.server);
  const target = place(state, entry.get, entry.shard, now, tried);
  if (typeof target !== 'string') return false;
  entry.tried = tried;
  finish(state, rid, false, now, false);
  const next = state.nextRid++;
  entry.server = target;
  entry.sentMs = now;
  entry.rerouted++;
  state.rerouted++;
  state.inflight.set(next, entry);
  forwardTo(state, state.members.get(target)!, target, next, entry.get, ctx);
  return true;
}

/**
 * The endpoints a leader-bound request of `shard` may go to without the servers it avoids
 * (BalancerState.avoid): those of the region chosen, else of the first region in failover order
 * with a healthy server not avoided. Undefined while the shard avoids none of them (the lapsed
 * are forgotten here), or when every healthy server is avoided: then the request goes where
 * it would have. A get sent again goes to none of the servers in `away` (see place).
 */
function awayFrom(
  state: BalancerState,
  shard: number,
  region: string,
  endpoints: Endpoint[],
  now: number,
  away: readonly string[] | undefined,
): { region: string; endpoints: Endpoint[] } | undefined {
  const avoid = state.avoid[shard];
  if (avoid !== undefined) {
    for (const [id, until] of avoid) if (until <= now) avoid.delete(id);
    if (avoid.size === 0) state.avoid[shard] = undefined;
  }
  for (const [id, until] of state.avoidAll) if (until <= now) state.avoidAll.delete(id);
  if (state.avoid[shard] === undefined && state.avoidAll.size === 0) return undefined;
  const avoided = (e: Endpoint): boolean => state.avoidAll.has(e.id) || avoid?.has(e.id) === true;
  const kept = endpoints.filter((e) => !avoided(e));
  if (kept.length === endpoints.length) return undefined;
  if (kept.length > 0) {
    state.avoided++;
    return { region, endpoints: kept };
  }
  for (const r of state.params.priority) {
    if (r === region) continue;
    const others = healthyIn(state, r, false).filter((e) => !avoided(e) && away?.includes(e.id) !== true);
    if (others.length > 0) {
      state.avoided++;
      return { region: r, endpoints: others };
    }
  }
  return undefined;
}

/** A leader-bound request of `shard` expired through `server`: the shard avoids it, and every shard does if another one already did. */
function avoidFor(state: BalancerState, shard: number, server: string, now: number): void {
  const until = now + AVOID_TIMEOUTS * state.params.requestTimeoutMs;
  for (let other = 0; other < state.avoid.length; other++) {
    if (other === shard) continue;
    const avoidedUntil = state.avoid[other]?.get(server);
    if (avoidedUntil !== undefined && avoidedUntil > now) {
      state.avoidAll.set(server, until);
      break;
    }
  }
  (state.avoid[shard] ??= new Map()).set(server, until);
}

/**
 * Close an in-flight entry. `outlier: false` keeps the outcome from the outlier detector: a
 * request failed because the runtime reported its server crashed says nothing about how the
 * server behaves while it runs, and counting each such request as a failure ejected a
 * restarted server (a new process) for baseEjectionTimeMs whenever the crash caught
 * consecutiveFailures or more requests in flight.
 */
function finish(state: BalancerState, rid: number, ok: boolean, nowMs: number, outlier = true): Inflight | undefined {
  const entry = state.inflight.get(rid);
  if (entry === undefined) return undefined;
  state.inflight.delete(rid);
  const m = state.members.get(entry.server);
  if (m !== undefined && m.active > 0) m.active--;
  const strategy = state.strategies.get(m?.region ?? '');
  strategy?.onResult(entry.server, nowMs - entry.sentMs, ok, nowMs);
  if (outlier && state.outlier !== undefined) {
    const events = state.outlier.onResult(entry.server, ok, nowMs);
    if (events.length > 0) state.plan = undefined;
  }
  return entry;
}

function complete(state: BalancerState, res: Res, ctx: ActorContext): void {
  // A server's own refusal (it is not the shard's leader and knows no leader, ...) is not
  // its failure as a host; only answers that never come count against it (see sweep).
  const answeredBy = state.members.get(ctx.sender);
  if (answeredBy !== undefined) answeredBy.lastAnswerMs = ctx.now();
  const entry = finish(state, res.rid, true, ctx.now());
  // A coordinator that hears from no server refused a transaction (definite: not begun): held
  // down as on a crash notice, so the next ones go to the next region's coordinator, until it
  // answers a probe (it answers none while cut off). Only the answer to a request in flight
  // says so: a copy the network made of one already taken finds no entry, and may come after
  // a probe took the coordinator back (it held it down again for a probe period, its region's
  // transactions sent to another region: a class audit, session 64).
  if (!res.ok && res.cutOff === true && entry !== undefined && isCoordinator(state, ctx.sender)) {
    if (!state.coordinatorsDown.has(ctx.sender)) state.coordinatorsDown.set(ctx.sender, ctx.now());
    armProbes(state, ctx);
  }
  if (entry === undefined) return; // Expired already; the client has given up on it.
  // An answer from a server reported crashed, to a request sent after that report came: only
  // an incarnation started after the crash can have taken it, so the server runs again. Its
  // restart notice travels like any message and may be lost, and a restart quicker than the
  // failure detector leaves no down-then-up in the digests: without this, a live server stayed
  // unroutable for good (`meridian check --seed 722455 --mode hybrid --nemesis swarm --txn-share
  // 0.2 --regions 2 --servers 1 --factor 1 --shards 1` was not live once the other region's
  // server, which had forwarded to it, went down).
  if (answeredBy?.crashed === true && entry.sentMs > answeredBy.crashedAtMs) {
    answeredBy.crashed = false;
    state.plan = undefined;
  }
  if (entry.shard >= 0) {
    // A leader-bound request is answered by its shard's leader: the next one goes there. A
    // refusal or a timeout (no leader, its queue full, every replica down) forgets the hint:
    // the strategy places the next one, and the server it picks finds the leader. An answer
    // too large to send (too-large.ts) reached the leader all the same: the hint stays (it was
    // dropped, and the next request of the shard went through a server that was not the
    // leader: found by an audit, session 56).
    if (res.ok) {
      if (res.by !== undefined && state.members.has(res.by)) state.leaders[entry.shard] = res.by;
      // Through the server it went, the request reached the leader: neither this shard nor
      // every shard need avoid it.
      const avoid = state.avoid[entry.shard];
      if (avoid !== undefined && avoid.delete(entry.server) && avoid.size === 0) state.avoid[entry.shard] = undefined;
      if (state.avoidAll.size > 0) state.avoidAll.delete(entry.server);
    } else if (res.code !== 'VALIDATION' && res.tooLarge !== true) state.leaders[entry.shard] = undefined;
  }
  // The decoded answer is this actor's own object: relayed with the client's rid, uncopied.
  res.rid = entry.rid;
  if (entry.readOnly && res.ok) res[READ_ONLY] = true;
  ctx.send(entry.client, res);
}

/**
 * A message of this balancer's own that its host could not send. An answer it relays that is
 * over messageBytesMax (a server's or coordinator's that fit, by a few bytes, where the relay
 * to the client's address does not) is handed back, the very object sent (see
 * UndeliverableMessage), and a short error for the same request goes to the client
 * (too-large.ts): a server's answer (it names the server, `by`) is a get's, and a relay of a
 * transaction that only read (marked READ_ONLY) a read-only transaction's, which did nothing;
 * another coordinator's answer is a committed transaction's, which may have written. The rest
 * are ignored, as before.
 */
function onUndeliverable(msg: UndeliverableMessage, ctx: ActorContext): void {
  if (msg.reason !== 'too-large' || msg.original?.type !== 'res') return;
  const res = msg.original as Partial<ResOk>;
  if (res.ok !== true || typeof res.rid !== 'number') return;
  const bytes = msg.bytes ?? 0;
  const max = msg.max ?? 0;
  let answer: Res;
  if (res.by !== undefined) answer = readTooLarge(res.rid, 'the value read', bytes, max);
  else if (res[READ_ONLY] === true) answer = readTooLarge(res.rid, 'the answer of a transaction (what it read)', bytes, max);
  else answer = committedTooLarge(res.rid, bytes, max);
  ctx.send(msg.to, answer);
}

/**
 * A region's digest: a beat of its region actor and its servers' states. One whose seq is not
 * above the highest seen of its region actor's life is dropped, a copy the network made or one
 * overtaken by a later one: applied, a late digest put back the states of a while ago over the
 * current ones, taking a crashed server back up (and its crash mark off for good, below) until
 * the next digest, and the balancer routed to it; a copy taken as a beat also widened the
 * detector's spread (a 1 x 3 cluster with 30% of messages copied up to 3 s late: a crashed
 * server's state changed 19 times in 5 s, 17 requests routed to it; jitter over the heartbeat
 * interval reordered digests too; found by an audit, session 55). Lives are told apart by id,
 * which has no order, as a region actor does for its servers' heartbeats: a digest of any life
 * seen counts if it is new for that life.
 */
function onDigest(state: BalancerState, digest: Digest, ctx: ActorContext): void {
  const now = ctx.now();
  // A digest in parts (region.ts digestParts) shares one seq: the first part to come is the
  // region's beat, and each other part not taken yet of that seq brings its members only.
  const fate = newPart(state.digestSeqs, state.digestParts, digest.region, digest.incarnation, digest.seq, digest.part);
  if (fate === undefined || fate === 'copy') {
    state.staleDigests++;
    return;
  }
  if (fate === 'new') {
    state.regions.heartbeat(digest.region, now);
    if (state.regionState.get(digest.region) !== 'up') {
      state.regionState.set(digest.region, 'up');
      state.plan = undefined;
    }
  }
  // Every state of the digest is taken before anything is done about a change: a get in flight
  // at a server newly down is sent to another server (failInflightTo), which must not be one
  // this same digest reports down further on.
  let changed: Array<{ m: MemberInfo; id: string; previous: MemberState }> | undefined;
  for (const d of digest.members) {
    const m = state.members.get(d.id);
    if (m === undefined) continue;
    m.load = d.load;
    if (m.state !== d.state) {
      (changed ??= []).push({ m, id: d.id, previous: m.state });
      m.state = d.state;
      state.plan = undefined;
    }
  }
  for (const { m, id, previous } of changed ?? []) {
    // Down, then beating again: it may have restarted while the restart notice (a message
    // like any other since issue 8) was lost or cut off by a partition. Or not: its region
    // actor takes a heartbeat of a life it has not seen for a restart, and lives have no
    // order, so a heartbeat of the crashed life (or of one that died at once) delivered late
    // says the same. Taken as a restart, that took the crash mark off a dead server for good
    // (found by an audit, session 56). A probe asks now instead; its answer takes the mark
    // off (onProbeAck: only a life running after the crash notice can answer it).
    if (previous === 'down' && m.state === 'up' && m.crashed) ctx.send(id, { type: 'probe', at: now } satisfies Probe);
    // Newly down in its region's view with no crash notice: silent (paused, cut off from its
    // region actor, or only starved of CPU a while: a region holds a busy live server down too).
    // Requests this balancer sent it are not waited for to the request timeout (they waited out
    // the whole 5 s: found by a failover audit, session 59): a get is sent to another server,
    // since the one held down may be live and answer late, or never; the rest fail now, as on
    // a crash notice (failInflightTo).
    if (m.state === 'down') failInflightTo(state, id, `server ${id} went silent (its region holds it down)`, ctx);
  }
  publishView(state, digest.region, ctx);
}

/**
 * A server's state in this balancer's view (`members()`, the 'member' events and the metrics
 * read the first region's): its region's digests' word, but 'down' while the balancer holds
 * the region down (its digests stopped: cut off, or its region actor gone), as it routes. A cut
 * off region's servers read 'up' before, a server crashed meanwhile too, while none was routed to
 * (found by an audit, session 55). 'down' rather than a state of its own: not routed to, it is
 * down from here, and `regions` of the summary says why.
 */
function viewState(state: BalancerState, m: MemberInfo): MemberState {
  return state.regionState.get(m.region) === 'down' ? 'down' : m.state;
}

/** Publishes the changes of the view's states of `region`'s servers (a digest came, or the region went down or came back). */
function publishView(state: BalancerState, region: string, ctx: ActorContext): void {
  for (const id of state.params.servers[region] ?? []) {
    const m = state.members.get(id)!;
    const next = viewState(state, m);
    if (next === m.shown) continue;
    const previous = m.shown;
    m.shown = next;
    state.version++;
    if (state.params.publishMembers) ctx.publish('member', { id, region, state: next, previous, version: state.version, atMs: ctx.now() });
  }
}

/** The coordinator of `region`, or of the next region (topology order) not reported crashed; the last one tried if all were. */
function coordinatorFor(state: BalancerState, region: string): string {
  const regions = state.params.regions;
  const home = Math.max(0, regions.indexOf(region));
  let coordinator = coordinatorAddress(region);
  for (let k = 0; k < regions.length && state.coordinatorsDown.has(coordinator); k++)
    coordinator = coordinatorAddress(regions[(home + k + 1) % regions.length]!);
  return coordinator;
}

function onSystem(state: BalancerState, msg: SystemMessage, ctx: ActorContext): void {
  if (!state.notices.current(msg)) return;
  const m = state.members.get(msg.node);
  if (m === undefined) {
    if (isCoordinator(state, msg.node)) {
      if (msg.event === 'node-crashed') {
        state.coordinatorsDown.set(msg.node, ctx.now());
        armProbes(state, ctx);
      } else state.coordinatorsDown.delete(msg.node);
    }
    return;
  }
  // Before failInflightTo, which routes gets again by the plan: none goes back to a crashed server.
  state.plan = undefined;
  if (msg.event === 'node-crashed') {
    // Like a refused connection: the process is gone. Requests it held will never be answered:
    // a get is sent to another server (it changed nothing), the rest fail now (failInflightTo).
    m.crashed = true;
    m.crashedAtMs = ctx.now();
    armProbes(state, ctx);
    for (let shard = 0; shard < state.leaders.length; shard++) if (state.leaders[shard] === msg.node) state.leaders[shard] = undefined;
    failInflightTo(state, msg.node, `server ${msg.node} crashed`, ctx);
  } else {
    m.crashed = false;
  }
}

/**
 * The requests in flight that this balancer sent to `server`, which it crashed with, or which
 * its region holds down (it may answer late, if busy, or never), are not waited for. A get
 * changed nothing: it is sent to another server (reroute), and failed as UNAVAILABLE
 * (definite) only when it was re-routed GET_REROUTES_MAX times already or no other server up
 * can take it. A get failed so on a busy server's short hold-down had another copy to read
 * (`server c/1 went silent (its region holds it down) with the request in flight`: a user
 * audit, session 60, a threads test and benches under CPU load). Anything else fails at once and
 * is not sent again: a transaction of gets and checks as UNAVAILABLE (it did nothing, whatever
 * its coordinator, which may still run it, does: found by an audit, session 60), the rest as
 * TIMEOUT, they may have taken effect (outcomeUnknown). `why` opens the message. A late answer
 * to a request failed or sent again finds no entry under its rid and is dropped.
 */
function failInflightTo(state: BalancerState, server: string, why: string, ctx: ActorContext): void {
  failInflight(
    state,
    // A get sent again is set at the end of the map, which this loop reaches too: at another server.
    (entry) => entry.server === server,
    (entry) => {
      const what = `${why} with the request in flight`;
      if (entry.get === undefined) return outcomeUnknown(entry.rid, entry.readOnly, what);
      const message = what + (entry.rerouted >= GET_REROUTES_MAX ? `, sent to ${entry.rerouted + 1} servers` : '; no other server up could take it');
      return { type: 'res', rid: entry.rid, ok: false, code: 'UNAVAILABLE', message };
    },
    ctx,
    true,
  );
}

/**
 * Fails at once the transactions in flight whose coordinator is `co`, which this balancer just
 * held down for not answering its verify probe: they waited out the whole request timeout
 * (found by a failover audit, session 59). Outcome unknown: the coordinator may have committed
 * before it was cut off, so TIMEOUT, but a transaction of gets and checks did nothing either
 * way, UNAVAILABLE (outcomeUnknown; it was TIMEOUT too: an audit, session 60). (On a
 * coordinator's crash notice the server that passed the transaction on fails it already.)
 */
function failCoordinated(state: BalancerState, co: string, ctx: ActorContext): void {
  failInflight(
    state,
    (entry) => entry.co === co,
    (entry) => outcomeUnknown(entry.rid, entry.readOnly, `coordinator ${co} did not answer a probe (held down) with the transaction in flight`),
    ctx,
  );
}

/** Fails at once the requests in flight `which` picks, each answered `answer` (under its client's rid); with `resend`, a get is sent to another server first if it can be (reroute). */
function failInflight(state: BalancerState, which: (entry: Inflight) => boolean, answer: (entry: Inflight) => ResErr, ctx: ActorContext, resend = false): void {
  for (const [rid, entry] of state.inflight) {
    if (!which(entry)) continue;
    if (resend && reroute(state, rid, entry, ctx)) continue;
    finish(state, rid, false, ctx.now(), false);
    ctx.send(entry.client, answer(entry));
  }
}

function isCoordinator(state: BalancerState, id: string): boolean {
  return state.params.regions.some((r) => coordinatorAddress(r) === id);
}

/**
 * A transaction unanswered for TXN_SLOW_MS: its coordinator is asked to verify that it reaches
 * the servers (Probe.verify: it answers once one of them answers it, at once if one did lately),
 * and held down as on a crash notice if it does not answer within VERIFY_WAIT_MS. A coordinator
 * cut off both ways from the servers receives no transaction (they come through a server), so it
 * never refused one, and this balancer probed only coordinators it already held down: every
 * transaction of its region timed out for as long as the cut lasted (found by a failover audit,
 * session 59). Run at each region check (every heartbeat interval); in-flight requests are in the
 * order sent, so only the slow ones are looked at.
 */
function doubtSlow(state: BalancerState, ctx: ActorContext): void {
  const now = ctx.now();
  for (const [co, doubt] of state.doubts) {
    if (now - doubt.at < VERIFY_WAIT_MS) continue;
    state.doubts.delete(co);
    if (doubt.answered || state.coordinatorsDown.has(co)) continue;
    state.coordinatorsDown.set(co, now);
    armProbes(state, ctx);
    failCoordinated(state, co, ctx);
  }
  const slow = now - TXN_SLOW_MS;
  for (const entry of state.inflight.values()) {
    if (entry.sentMs > slow) break;
    const co = entry.co;
    if (co === undefined || state.doubts.has(co) || state.coordinatorsDown.has(co)) continue;
    state.doubts.set(co, { at: now, answered: false });
    ctx.send(co, { type: 'probe', at: now, verify: true } satisfies Probe);
  }
}

function armProbes(state: BalancerState, ctx: ActorContext): void {
  if (state.probing) return;
  state.probing = true;
  ctx.setTimer('probe', BALANCER_PROBE_MS);
}

/**
 * A coordinator or a server answered a probe: it runs again if the probe left after its crash
 * notice came (only an incarnation started after the crash can have taken it). The restart
 * notice, a message like any other, may have been lost or cut off. Without the probes, every
 * transaction of this balancer's region went to the next region's coordinator for good; and a
 * server that restarted quicker than the failure detector (no down-then-up in the digests),
 * with no request to answer, stayed unroutable for good: with both servers of a 2 x 1 cluster
 * held so, no call was routed at all (`meridian check --seed 854828 --shape random --nemesis
 * swarm --mode passive --txn-share 0.2`, a restart storm under 5% loss). A duplicate or a late
 * answer to a probe sent before a later crash notice changes nothing.
 */
function onProbeAck(state: BalancerState, at: number, ctx: ActorContext): void {
  const since = state.coordinatorsDown.get(ctx.sender);
  if (since !== undefined && at > since) state.coordinatorsDown.delete(ctx.sender);
  const doubt = state.doubts.get(ctx.sender);
  if (doubt !== undefined && at >= doubt.at) doubt.answered = true;
  const m = state.members.get(ctx.sender);
  if (m !== undefined && m.crashed && at > m.crashedAtMs) {
    m.crashed = false;
    state.plan = undefined;
  }
}

function onTimer(state: BalancerState, key: string, ctx: ActorContext): void {
  const now = ctx.now();
  if (key === 'probe') {
    state.probing = false;
    let held = state.coordinatorsDown.size > 0;
    for (const coordinator of state.coordinatorsDown.keys()) ctx.send(coordinator, { type: 'probe', at: now } satisfies Probe);
    // A server held crashed for a second or more (a fresh crash is left to its restart notice).
    for (const [id, m] of state.members) {
      if (!m.crashed) continue;
      held = true;
      if (now - m.crashedAtMs >= BALANCER_PROBE_MS) ctx.send(id, { type: 'probe', at: now } satisfies Probe);
    }
    if (held) armProbes(state, ctx);
    return;
  }
  if (key === 'sweep') {
    expire(state, now);
    if (state.outlier !== undefined && state.outlier.tick(now).length > 0) state.plan = undefined;
    ctx.setTimer('sweep', Math.max(1, state.params.requestTimeoutMs / SWEEP_FRACTION));
    return;
  }
  if (key === 'regions') {
    doubtSlow(state, ctx);
    for (const change of state.regions.evaluate(now)) {
      if (change.to === 'absent') continue;
      // A region whose digests stopped is unreachable from here: its servers are not routed to.
      state.regionState.set(change.id, change.to === 'down' ? 'down' : change.to);
      state.plan = undefined;
      publishView(state, change.id, ctx);
    }
    ctx.setTimer('regions', state.params.heartbeatIntervalMs);
  }
}
