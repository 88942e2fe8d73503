/**
 * The data plane's wire messages (requests, answers, heartbeats, digests): plain data with a
 * string-literal `type`, one interface each, and what each actor of the cluster receives (its
 * inbound union, the third parameter of its Behavior). Protocol messages live beside their
 * protocol cores.
 */
import type { RequestBody } from '../replication/ops.js';
import type {
  LearnMessage,
  ParticipantReply,
  ParticipantWire,
  ReadsAnswer,
  ReadsQuery,
  ReadsTooLarge,
  ShardPaxosBatchWire,
  ShardPaxosWire,
} from '../replication/messages.js';
import type { SystemMessage, TimerMessage, UndeliverableMessage } from '../runtime/actor.js';

export type { OpName, TxnOp, RequestBody } from '../replication/ops.js';
export type {
  LearnMessage,
  ParticipantReply,
  ParticipantWire,
  ReadsAnswer,
  ReadsQuery,
  ReadsTooLarge,
  ShardPaxosBatchWire,
  ShardPaxosWire,
} from '../replication/messages.js';

/** client -> balancer, balancer -> server, server -> server (forwarded), server -> coordinator (transactions). */
export interface Req {
  type: 'req';
  rid: number;
  body: RequestBody;
  /** Hops taken so far: a forwarded request that exceeds the limit is failed, not looped. */
  hops?: number;
}

export type ErrorCodeWire = 'UNAVAILABLE' | 'TIMEOUT' | 'ABORTED' | 'VALIDATION' | 'INTERNAL';

/**
 * The key of ResOk's read-only mark. A symbol, so the mark is never on the wire: the codecs
 * write an object's string keys only (msgpackr's and the fast encoder's walks, structured
 * clone), and an answer the host hands back over messageBytesMax is the very object sent (see
 * UndeliverableMessage), mark and all.
 */
export const READ_ONLY: unique symbol = Symbol('read-only answer');

export interface ResOk {
  type: 'res';
  rid: number;
  ok: true;
  value?: unknown;
  /** The server that executed the request. */
  by?: string;
  /**
   * Set by whoever sends the answer of a transaction that only read (a coordinator, a
   * balancer relaying it): handed back over messageBytesMax, it is answered with a definite
   * error, the transaction having done nothing (too-large.ts). Not on the wire (READ_ONLY).
   */
  [READ_ONLY]?: true;
}

export interface ResErr {
  type: 'res';
  rid: number;
  ok: false;
  code: ErrorCodeWire;
  message: string;
  /** ABORTED: why, in a few words (AbortedError.reason; see boundWhy). */
  reason?: string;
  /**
   * A coordinator that hears from no server refused the transaction (UNAVAILABLE, not begun):
   * the balancer holds it down, as on a crash notice, until it answers a probe.
   */
  cutOff?: true;
  /**
   * The answer was over messageBytesMax and this error went in its place (too-large.ts): the
   * request reached whoever executes it, so a balancer keeps its shard's leader hint.
   */
  tooLarge?: true;
}

/** The answer to a Req: server or coordinator -> balancer, balancer -> client. */
export type Res = ResOk | ResErr;

/** A server's load, carried on heartbeats and region digests. */
export interface Load {
  inflight: number;
  mailbox: number;
  latencyEwmaMs: number;
  busyMs: number;
  requests: number;
}

/** heartbeat actor -> its region actor. */
export interface Heartbeat {
  type: 'hb';
  node: string;
  seq: number;
  incarnation: string;
  load: Load;
}

/** server -> its heartbeat actor (same thread): the latest load figures. */
export interface LoadReport {
  type: 'load';
  load: Load;
  /**
   * When the server measured it (its host's monotonic clock, which the heartbeat actor on the
   * same thread reads too): the heartbeat actor drops a report older than the one it holds.
   */
  at: number;
}

/**
 * server -> its heartbeat actor (same node): the server could not start (its durable log would
 * not load), and `reason` says why; its stand-in sends it again every load interval while it
 * lasts (server.ts serverStandIn). The heartbeat actor holds its beats back meanwhile, so the
 * region convicts the server and the balancers route elsewhere.
 */
export interface NotServing {
  type: 'not-serving';
  reason: string;
  /**
   * When the stand-in sent it (as LoadReport.at): a copy the network delivers late, after a
   * later try started the server, is older than that server's load reports, and its heartbeat
   * actor ignores it (or ends its silence at the first such report).
   */
  at: number;
}

export type MemberState = 'up' | 'suspect' | 'down';

export interface MemberDigest {
  id: string;
  state: MemberState;
  load: Load;
}

/** region actor -> every balancer: the region's view of its servers. */
export interface Digest {
  type: 'digest';
  region: string;
  /** Numbers the digests of one life of the region actor, from 1: a balancer drops a copy or an overtaken one. */
  seq: number;
  /** The region actor's incarnation id (a restart by its supervisor numbers from 1 again). */
  incarnation: string;
  version: number;
  members: MemberDigest[];
  /**
   * Absent: every member. Else one of the parts of a digest that would be over messageBytesMax
   * whole (its number, from 0), each with the same seq and some of the members: a balancer takes
   * the first to come as the region's beat, and each for the members it lists (balancer.ts
   * onDigest, region.ts digestParts).
   */
  part?: number;
}

/**
 * region actor -> its region's servers: the servers its membership holds down (silent: paused,
 * cut off, crashed), every heartbeat interval while there are any, and once more when there
 * are none left. A server forwards to none of them while they are (server.ts otherMember),
 * for `holdMs` after the last notice that named them: a lost notice that they are back does
 * not keep them out for good.
 */
export interface DownMembers {
  type: 'down-members';
  /** The digests' seq and incarnation: a server drops a copy or an overtaken notice. */
  seq: number;
  incarnation: string;
  down: string[];
  holdMs: number;
  /**
   * Absent: every server held down. Else one of the parts of a notice that would be over
   * messageBytesMax whole (its number, from 0), each with the same seq and some of `down`: a
   * server takes the first to come as the notice that replaces the last, and each other for the
   * servers it lists (server.ts onDownMembers, region.ts downParts).
   */
  part?: number;
}

/** region actor -> region actor: cross-region liveness. */
export interface RegionBeat {
  type: 'rhb';
  region: string;
  /** Numbers the beats of one life of the region actor, from 1 (its digests' seq): a receiver drops a copy or an overtaken one. */
  seq: number;
  /** The region actor's incarnation id. */
  incarnation: string;
}

/**
 * Is it running? Sent to a node the runtime reported crashed and no restart notice has come
 * for (a notice is a message and may be lost), by one that may hear from it no other way: a
 * balancer to the coordinators and servers it holds crashed (every BALANCER_PROBE_MS;
 * balancer.ts onProbeAck), a server to the nodes it holds dead (every DOWN_PROBE_MS, and at
 * once to the copies of a shard it refused a local read of; server.ts probeDown).
 */
export interface Probe {
  type: 'probe';
  /** When the prober sent it (its clock): the answer carries it back. */
  at: number;
  /**
   * A balancer to a coordinator a transaction of its has waited on for TXN_SLOW_MS (balancer.ts
   * doubtSlow): answer only once a server answers you, unless one did lately (coordinator.ts cutOff).
   */
  verify?: true;
}

/** The answer to a Probe, with the probe's `at`: coordinator or server -> balancer or server. */
export interface ProbeAck {
  type: 'probe-ack';
  at: number;
}

/*
 * Inbound unions of the client, the balancer, the heartbeat and the region actors. An
 * undeliverable notice comes back when a message the actor sent could not leave its host;
 * the heartbeat and region actors ignore it, the balancer answers for an answer it relays
 * that is over messageBytesMax (too-large.ts).
 */

/** What a client's address receives (the client lives on the front host, outside any actor). */
export type ClientInbound = Res | UndeliverableMessage;

/** Requests from clients, answers from servers, digests from region actors, crash notices from the runtime, answers to its probes. */
export type BalancerInbound = Req | Res | Digest | SystemMessage | ProbeAck | TimerMessage | UndeliverableMessage;

export type HeartbeatInbound = LoadReport | NotServing | TimerMessage | UndeliverableMessage;

export type RegionInbound = Heartbeat | RegionBeat | TimerMessage | UndeliverableMessage;

// ---------------------------------------------------------------------------------------------
// Server and coordinator: their inbound unions, and the wrapper between coordinators.
// (The replication layer's wrappers, Paxos, learner and participant, are in replication/messages.ts.)
// ---------------------------------------------------------------------------------------------

/** coordinator -> coordinator: a commit-protocol message (Paxos Commit acceptors and leaders), wrapped so it is not taken for one of the coordinator actor's own. */
export interface CoordinatorPeerWire {
  type: 'tx-c';
  m: unknown;
  /** More messages to the same coordinator, after `m`, in order: what a burst produced travels as one wire, or as several under messageBytesMax (absent: none; see coordinator.ts sendWithin). */
  more?: unknown[];
}

/** Everything a server actor receives (a message of its own bounced by the host is ignored, but for one over messageBytesMax: server.ts onUndeliverable). */
export type ServerInbound =
  | Req
  | ShardPaxosWire
  | ShardPaxosBatchWire
  | LearnMessage
  | ParticipantWire
  | ReadsQuery
  | Probe
  | ProbeAck
  | DownMembers
  | TimerMessage
  | SystemMessage
  | UndeliverableMessage;

/** Everything a region's coordinator receives (a message of its own bounced by the host is ignored, but for an answer over messageBytesMax). */
export type CoordinatorInbound =
  Req | ParticipantReply | ReadsAnswer | ReadsTooLarge | CoordinatorPeerWire | Probe | ProbeAck | TimerMessage | UndeliverableMessage;
