/**
 * The transaction coordinator actor, its host and its network, for the randomized tests of its
 * request de-duplication across restarts: test/helpers/coordinator-random.ts and
 * coordinator-marks.ts run a seed here with their own clients, memory of begun request ids and
 * late copies (test/helpers/core-mutant.ts runs them on a scratch copy of dist/ with a bug put
 * in, so the imports here are relative).
 *
 * The level: the coordinator actor itself (coordinatorBehavior of src/cluster/coordinator.ts,
 * 2PC), hosted by a fake ActorContext whose durable log outlives the actor. A restart is what
 * the runtime does: a new incarnation's `init` with the records of that log. The context keeps
 * the runtime's rule that a step's records (persist, checkpoint) are durable before any message
 * of the step leaves, so "crash right after a durable write" is the end of a step whose records
 * are written and whose messages are lost (Cluster.crashAfterNextWrite), and a checkpoint is
 * asked for as Cluster.requestCheckpoint asks (checkpointAsked). The shards are real 2PC
 * participant cores (TwoPcParticipant), one per shard, behind a host that votes some ticks after
 * a prepare (a sixth no) and answers a transaction's reads with its yes vote; shards do not
 * crash (a shard is a replicated group). A whole cluster (`startCluster`, sim) would put the
 * balancers' and servers' own de-duplication in front (most copies never reach the coordinator,
 * which is why `meridian check` rarely meets these bugs), at far more cost per seed: here every
 * copy reaches it, and a seed takes about 10 ms.
 *
 * What a seed does: the model's clients send transaction requests (request ids `<client>:<n>`,
 * n counting up per client; every op of a request appends its request id to a key, some
 * followed by a get), up to the model's number over the run. The network delivers in any order
 * (bursts of 1-3 messages to the coordinator, so its outbox batches), drops 5% of the messages,
 * and a copy of any message sent earlier may come again at any later step: request copies above
 * all, picked by the model. The coordinator crashes now and then (at once, or right after its
 * next durable write, before its messages leave; sometimes with a checkpoint asked for first)
 * and restarts from its log 0-60 ms later; messages reaching it while down are lost. Then a
 * phase without faults: the coordinator up, every message delivered, time passing until nothing
 * moves.
 *
 * Checked, with what the design says (docs/design.md, "Request ids"; coordinator.ts `begin`):
 * - each request is begun at most once over every incarnation: the prepares the coordinator
 *   sends carry at most one transaction id per request id;
 * - each request is executed at most once: participants commit at most one transaction id
 *   per request id;
 * - the answers: a success only for a request whose transaction committed, with what that
 *   transaction read; ABORTED only for one of which nothing committed; UNAVAILABLE never (the
 *   capacity limit is not reached); at most one definite answer (success or ABORTED) per
 *   request over every incarnation: a copy gets nothing (a duplicate of one begun in the same
 *   incarnation: the first answers) or TIMEOUT ("may or may not have taken effect": one begun
 *   before a restart, or older than the ids remembered), which is allowed at any time;
 * - after the phase without faults: every request a copy of which reached the coordinator's
 *   last incarnation was answered by it, no participant is left in doubt, and the coordinator
 *   threw nothing.
 */
import type { Prng } from '../../src/core/prng.js';
import { createPackr } from '../../src/core/codec.js';
import { coordinatorBehavior, type CoordinatorParams, type CoordinatorState } from '../../src/cluster/coordinator.js';
import { coordinatorAddress, groupOf, type Topology } from '../../src/cluster/topology.js';
import { TwoPcParticipant } from '../../src/protocols/twopc.js';
import type { TwoPcMessage } from '../../src/protocols/twopc.js';
import type { ActorContext } from '../../src/runtime/actor.js';
import { fakeContext } from './fake-context.js';
import type { CoordinatorInbound, ParticipantWire, Res, TxnOp } from '../../src/cluster/messages.js';
import type { TxnReads } from '../../src/replication/ops.js';

const REGION = 'r1';
const SELF = coordinatorAddress(REGION);
const TICK_MS = 10;
const SHARDS = 3;
const TOPOLOGY: Topology = {
  regions: [
    { name: 'r1', servers: 1 },
    { name: 'r2', servers: 1 },
  ],
  shards: SHARDS,
  factor: 2,
  mode: 'active',
};
const STEPS = 1_500;
/** Participants' ticks (one per TICK_MS): vote timeout and decision-request retry. */
const PARTICIPANT_VOTE_TIMEOUT = 100;
const PARTICIPANT_RETRY = 30;
/** Virtual ms of the phase without faults (the coordinator's vote timeout is 100 ticks, 1 s). */
const QUIET_MS = 4_000;

/** A message on the network. */
export interface InFlight {
  from: string;
  to: string;
  msg: { type: string; [field: string]: unknown };
}

/** What one request is, and what became of it. */
interface Request {
  rq: string;
  client: string;
  rid: number;
  ops: TxnOp[];
  /** Transaction ids of the prepares the coordinator sent for it. */
  begun: Set<string>;
  /** Transaction ids the participants committed for it. */
  committed: Set<string>;
  /** The coordinator's answers to it, with the incarnation that sent each. */
  answers: Array<{ incarnation: number; answer: Res }>;
  /** Incarnations a copy of it reached (the coordinator's step began). */
  reached: Set<number>;
}

interface Shard {
  core: TwoPcParticipant;
  /** Transactions finished here (the shard's state machine, which outlives a late prepare). */
  finished: Map<string, 'commit' | 'abort'>;
  payloads: Map<string, TxnOp[]>;
  /** Prepares applied by the shard's log, not yet voted on, with the virtual ms they may be voted from. */
  pending: Array<{ txn: string; due: number }>;
}

/** What a seed's model draws (before the host draws anything) and how it picks a late copy of a request. */
export interface CoordinatorModel {
  /** The coordinator's memory of begun request ids (`begunRemembered` of its params; undefined: the default). */
  begunRemembered: number | undefined;
  /** How many clients send requests, and how many requests they send over the run. */
  clients: number;
  requestsMax: number;
  /** A step's draw below which (and at least 0.5) a late copy of a request comes, if one was sent. */
  lateCopyBelow: number;
  /** Picks that late copy (handed to the coordinator, if up, on its own). */
  lateCopy: (seen: LateCopyView) => InFlight;
}

/** What the network saw so far, for picking a late copy. */
export interface LateCopyView {
  /** Every request copy sent so far, and the first of each request (by request id). */
  sentRequests: readonly InFlight[];
  firstCopy: ReadonlyMap<string, InFlight>;
  /** Request ids in the order the coordinator first sent a prepare for them (began them), and each one's place in that order. */
  beginOrder: readonly string[];
  beganAt: ReadonlyMap<string, number>;
  /** Whether the coordinator is up (a copy reaching it while down is lost). */
  up: boolean;
}

export interface CoordinatorSeedResult {
  problems: string[];
  requests: number;
  committed: number;
  restarts: number;
  /** Copies answered TIMEOUT: begun before a restart, older than the ids remembered (read off the answers' messages, for the log only). */
  afterRestart: number;
  olderThanRemembered: number;
}

const packr = createPackr();
/** Through the codec, as the durable log and the wire carry it. */
function copy<T>(value: T): T {
  return packr.unpack(packr.pack(value)) as T;
}

/**
 * One seed: the coordinator, its host and its network as the module comment says, with `model`'s
 * clients, requests, memory and late copies; `prng` is the seed's, after the model's own draws.
 */
export function runCoordinatorSeed(prng: Prng, model: CoordinatorModel): CoordinatorSeedResult {
  const problems: string[] = [];
  const { begunRemembered } = model;
  const params: CoordinatorParams = {
    region: REGION,
    commit: '2pc',
    topology: TOPOLOGY,
    tickMs: TICK_MS,
    acceptors: [SELF],
    ...(begunRemembered !== undefined ? { begunRemembered } : {}),
  };
  const clients = Array.from({ length: model.clients }, (_, i) => `client-${i}`);
  const nextRid = new Map(clients.map((c) => [c, 1]));
  const { requestsMax } = model;
  const requests = new Map<string, Request>();
  const rqOfPayload = (payload: unknown): string | undefined => {
    const ops = payload as TxnOp[] | undefined;
    return ops?.find((op) => typeof op.value === 'string')?.value as string | undefined;
  };

  let now = 0;
  const queue: InFlight[] = [];
  /** Every message sent so far: any may come again, at any later step. */
  const sentRequests: InFlight[] = [];
  /** The first copy sent of each request. */
  const firstCopy = new Map<string, InFlight>();
  /** Request ids in the order the coordinator first sent a prepare for them (began them). */
  const beginOrder: string[] = [];
  const beganAt = new Map<string, number>();
  const sentOther: InFlight[] = [];

  // ---- The shards: a 2PC participant core per shard, replicas answering as one. ----
  const shards: Shard[] = Array.from({ length: SHARDS }, (_, s) => ({
    core: new TwoPcParticipant({ self: `shard/${s}`, voteTimeoutTicks: PARTICIPANT_VOTE_TIMEOUT, decisionRetryTicks: PARTICIPANT_RETRY }),
    finished: new Map(),
    payloads: new Map(),
    pending: [],
  }));
  const readsOf = (txn: string, ops: TxnOp[]): TxnReads => ops.filter((op) => op.op === 'get').map((op) => [`${txn}/${op.key}`]);
  /** A shard's core's output: decisions to the host, messages to the coordinator (a yes vote with its reads). */
  const drainShard = (s: number, server: string): void => {
    const shard = shards[s]!;
    while (shard.core.hasReady()) {
      const r = shard.core.ready();
      for (const d of r.decisions) {
        if (d.kind === 'prepare') {
          shard.payloads.set(d.txn, d.payload as TxnOp[]);
          shard.pending.push({ txn: d.txn, due: now + (prng.chance(0.15) ? 500 + prng.int(1_000) : prng.int(60)) });
        } else if (d.kind === 'commit') {
          if (shard.finished.get(d.txn) === 'commit') continue;
          if (shard.finished.get(d.txn) === 'abort') problems.push(`shard ${s} committed ${d.txn}, which it had aborted`);
          shard.finished.set(d.txn, 'commit');
          const rq = rqOfPayload(shard.payloads.get(d.txn));
          const req = rq === undefined ? undefined : requests.get(rq);
          if (req === undefined) problems.push(`shard ${s} committed ${d.txn}, whose request it cannot tell`);
          else req.committed.add(d.txn);
        } else if (!shard.finished.has(d.txn)) shard.finished.set(d.txn, 'abort');
      }
      for (const m of r.messages) {
        const msg = m.msg;
        const wire: { type: 'tx-r'; s: number; m: TwoPcMessage; r?: TxnReads } = { type: 'tx-r', s, m: msg };
        if (msg.type === 'vote' && msg.yes) wire.r = readsOf(msg.txn, shard.payloads.get(msg.txn) ?? []);
        send(server, m.to, wire);
      }
    }
  };
  const toShard = (server: string, wire: ParticipantWire): void => {
    const s = wire.s;
    const shard = shards[s];
    if (shard === undefined) {
      problems.push(`a wire for shard ${s}, which does not exist`);
      return;
    }
    for (const m of [wire.m, ...(wire.more ?? [])]) shard.core.step(SELF, m as TwoPcMessage);
    drainShard(s, server);
  };
  /** The host votes on the prepares whose time has come (all of them with `all`); a finished transaction's is dropped. */
  const voteDue = (all: boolean): void => {
    shards.forEach((shard, s) => {
      const due = shard.pending.filter((p) => all || p.due <= now);
      if (due.length === 0) return;
      shard.pending = shard.pending.filter((p) => !due.includes(p));
      for (const { txn } of due) {
        if (shard.finished.has(txn)) shard.core.forget(txn);
        else shard.core.vote(txn, prng.chance(5 / 6));
      }
      drainShard(s, groupOf(s, TOPOLOGY)[0]!);
    });
  };

  // ---- The network. ----
  function send(from: string, to: string, msg: InFlight['msg']): void {
    const m: InFlight = { from, to, msg: copy(msg) };
    queue.push(m);
    if (to === SELF && msg.type === 'req') {
      sentRequests.push(m);
      const rq = (msg['body'] as { rq: string }).rq;
      if (!firstCopy.has(rq)) firstCopy.set(rq, m);
    } else sentOther.push(m);
  }

  // ---- The coordinator actor, its context, its durable log. ----
  let durable: unknown[] = [];
  let incarnation = 0;
  let up = false;
  let state: CoordinatorState | undefined;
  let timerDue: number | undefined;
  let crashAfterWrite = false;
  let restarts = 0;
  let restartAt = 0;
  const actorPrng = prng.fork('actor');
  /** One step of the actor: its records, then (unless it crashes right after writing them) its messages. */
  let step: { persisted: unknown[]; checkpoint: unknown[] | undefined; out: InFlight[] } = { persisted: [], checkpoint: undefined, out: [] };
  let sender = '';
  let mailbox: InFlight[] = [];
  const ctx: ActorContext = fakeContext({
    self: SELF,
    get incarnation() {
      return `inc${incarnation}`;
    },
    get sender() {
      return sender;
    },
    send(to, msg) {
      const m = msg as unknown as InFlight['msg'];
      // What the coordinator began: the transaction ids its prepares carry, per request id.
      if (m.type === 'tx') {
        const wire = m as unknown as ParticipantWire;
        for (const p of [wire.m, ...(wire.more ?? [])]) {
          if (p.type !== 'prepare') continue;
          const rq = rqOfPayload(p['payload']);
          const req = rq === undefined ? undefined : requests.get(rq);
          if (req === undefined) problems.push(`a prepare of ${p.txn} whose request cannot be told`);
          else {
            if (!beganAt.has(req.rq)) {
              beganAt.set(req.rq, beginOrder.length);
              beginOrder.push(req.rq);
            }
            req.begun.add(p.txn);
          }
        }
      }
      step.out.push({ from: SELF, to, msg: m });
    },
    reply(msg) {
      ctx.send(sender, msg);
    },
    forward(to, msg) {
      problems.push(`the coordinator forwarded a ${msg.type} to ${to}`);
    },
    setTimer(key, delayMs) {
      if (key === 'tick') timerDue = now + delayMs;
    },
    cancelTimer(key) {
      if (key === 'tick') timerDue = undefined;
    },
    now: () => now,
    monotonicNow: () => now,
    receivedAt: () => now,
    random: () => actorPrng.next(),
    nextId: () => `i${actorPrng.nextUint32().toString(36)}`,
    persist(record) {
      step.persisted.push(copy(record));
    },
    checkpoint(records) {
      step.checkpoint = copy(records);
      step.persisted = [];
    },
    mailbox: () => mailbox.length,
    warn(message) {
      problems.push(`warned: ${message}`);
    },
  });
  /** The end of a step: its records durable, then its messages out, unless it crashes now. */
  const endStep = (): void => {
    const wrote = step.checkpoint !== undefined || step.persisted.length > 0;
    if (step.checkpoint !== undefined) durable = [...step.checkpoint, ...step.persisted];
    else durable.push(...step.persisted);
    const out = step.out;
    step = { persisted: [], checkpoint: undefined, out: [] };
    if (crashAfterWrite && wrote) {
      crash();
      return;
    }
    for (const m of out) {
      if (m.msg.type === 'res') {
        const res = m.msg as unknown as Res;
        const req = requests.get(`${m.to}:${res.rid}`);
        if (req === undefined) problems.push(`an answer to ${m.to} for rid ${res.rid}, which it never sent`);
        else req.answers.push({ incarnation, answer: res });
      }
      send(m.from, m.to, m.msg);
    }
  };
  const act = (what: () => void): void => {
    try {
      what();
    } catch (error) {
      problems.push(`the coordinator threw: ${(error as Error).stack ?? String(error)}`);
      step = { persisted: [], checkpoint: undefined, out: [] };
      crash();
      return;
    }
    endStep();
  };
  function crash(): void {
    up = false;
    state = undefined;
    timerDue = undefined;
    mailbox = [];
    crashAfterWrite = false;
    restartAt = now + prng.int(60);
  }
  const start = (): void => {
    incarnation++;
    up = true;
    sender = '';
    act(() => {
      state = coordinatorBehavior.init(ctx, params, copy(durable));
    });
  };
  /** Messages to the coordinator, handed in one by one (the ones after the first wait in its mailbox). */
  const deliverBurst = (burst: InFlight[]): void => {
    if (!up) return; // A message to a crashed actor is lost.
    mailbox = burst.slice();
    while (mailbox.length > 0 && up) {
      const m = mailbox.shift()!;
      sender = m.from;
      if (m.msg.type === 'req') requests.get((m.msg['body'] as { rq: string }).rq)?.reached.add(incarnation);
      act(() => coordinatorBehavior.receive(state!, copy(m.msg) as unknown as CoordinatorInbound, ctx));
    }
    mailbox = [];
  };
  const fireTimer = (): void => {
    if (!up || timerDue === undefined || timerDue > now) return;
    timerDue = undefined;
    sender = SELF;
    act(() => coordinatorBehavior.receive(state!, { type: 'timer', key: 'tick' }, ctx));
  };
  let participantTicks = 0;
  /** Time passes: the coordinator's timer, the participants' ticks, their votes. */
  const advance = (ms: number): void => {
    const until = now + ms;
    while (now < until) {
      const nextTick = (participantTicks + 1) * TICK_MS;
      const next = Math.min(until, nextTick, timerDue !== undefined && timerDue > now ? timerDue : until);
      now = Math.max(now, next);
      if (now >= nextTick) {
        participantTicks++;
        shards.forEach((shard, s) => {
          shard.core.tick();
          drainShard(s, groupOf(s, TOPOLOGY)[0]!);
        });
      }
      fireTimer();
      voteDue(false);
      if (!up && now >= restartAt) start();
    }
  };
  const deliver = (m: InFlight): void => {
    if (m.to === SELF) deliverBurst([m]);
    else if (m.msg.type === 'tx') toShard(m.to, m.msg as unknown as ParticipantWire);
    else if (m.msg.type === 'tx-q') {
      const q = m.msg as unknown as { s: number; txn: string };
      const shard = shards[q.s];
      const ops = shard?.payloads.get(q.txn);
      send(
        m.to,
        SELF,
        ops === undefined || shard?.finished.get(q.txn) !== 'commit'
          ? { type: 'tx-a', s: q.s, txn: q.txn }
          : { type: 'tx-a', s: q.s, txn: q.txn, r: readsOf(q.txn, ops) },
      );
    }
    // Answers to clients: what they say was taken when the coordinator sent them.
  };
  const takeFromQueue = (i: number): InFlight => queue.splice(i, 1)[0]!;
  const newRequest = (): void => {
    const client = prng.pick(clients);
    const rid = nextRid.get(client)!;
    nextRid.set(client, rid + 1);
    const rq = `${client}:${rid}`;
    const ops: TxnOp[] = [];
    const keys = 1 + prng.int(3);
    for (let k = 0; k < keys; k++) {
      const key = `k${prng.int(8)}`;
      ops.push({ op: 'append', key, value: rq });
      if (prng.chance(0.4)) ops.push({ op: 'get', key });
    }
    requests.set(rq, { rq, client, rid, ops, begun: new Set(), committed: new Set(), answers: [], reached: new Set() });
    send(client, SELF, { type: 'req', rid, body: { op: 'txn', key: ops[0]!.key, ops, rq } });
  };

  start();
  try {
    for (let i = 0; i < STEPS; i++) {
      const r = prng.next();
      if (r < 0.05 && requests.size < requestsMax) newRequest();
      else if (r < 0.5 && queue.length > 0) {
        // Any message in flight, in any order; 5% are lost. To the coordinator: a burst.
        const first = takeFromQueue(prng.int(queue.length));
        if (prng.chance(0.05)) continue;
        if (first.to !== SELF) deliver(first);
        else {
          const burst = [first];
          for (let k = prng.int(3); k > 0; k--) {
            const j = queue.findIndex((m) => m.to === SELF);
            if (j < 0) break;
            burst.push(takeFromQueue(j));
          }
          deliverBurst(burst);
        }
      } else if (r < model.lateCopyBelow && sentRequests.length > 0) {
        // A late copy of a transaction request, as the model picks it.
        deliverBurst([model.lateCopy({ sentRequests, firstCopy, beginOrder, beganAt, up })]);
      } else if (r < 0.63 && sentOther.length > 0) {
        const m = prng.pick(sentOther);
        queue.push({ ...m, msg: copy(m.msg) });
      } else if (r < 0.93) advance(1 + prng.int(15));
      else if (r < 0.942 && up) {
        // A crash: at once, or right after the next durable write (before its messages
        // leave); at times with a checkpoint asked for first (the nemesis's fault site).
        const how = prng.int(3);
        if (how === 0) crash();
        else {
          crashAfterWrite = true;
          if (how === 2) state!.checkpointAsked = true;
        }
      } else if (r < 0.97 && up) state!.checkpointAsked = true;
    }
    // Without faults: the coordinator up, every message delivered, time passing.
    crashAfterWrite = false;
    if (!up) start();
    const quietUntil = now + QUIET_MS;
    while (now < quietUntil) {
      while (queue.length > 0) {
        const m = queue.shift()!;
        if (m.to === SELF) deliverBurst([m]);
        else deliver(m);
      }
      voteDue(true);
      advance(TICK_MS);
    }
  } catch (error) {
    problems.push(`threw: ${(error as Error).stack ?? String(error)}`);
  }
  restarts = incarnation - 1;

  // ---- The checks. ----
  let committed = 0;
  let afterRestart = 0;
  let olderThanRemembered = 0;
  for (const req of requests.values()) {
    if (req.begun.size > 1) problems.push(`${req.rq} begun ${req.begun.size} times: ${[...req.begun].join(', ')}`);
    if (req.committed.size > 1) problems.push(`${req.rq} executed ${req.committed.size} times: ${[...req.committed].join(', ')}`);
    for (const txn of req.committed) if (!req.begun.has(txn)) problems.push(`${req.rq}: ${txn} committed, never begun for it`);
    if (req.committed.size > 0) committed++;
    const definite: string[] = [];
    for (const { incarnation: inc, answer } of req.answers) {
      if (answer.ok) {
        definite.push(`success (incarnation ${inc})`);
        if (req.committed.size === 0) problems.push(`${req.rq}: answered success (incarnation ${inc}), but nothing of it committed`);
        else {
          // What its transaction read (each get reads `<txn>/<key>` here); one of them, if it ran more than once (reported above).
          const expected = [...req.committed].map((txn) => JSON.stringify(req.ops.map((op) => (op.op === 'get' ? [`${txn}/${op.key}`] : []))));
          if (!expected.includes(JSON.stringify(answer.value)))
            problems.push(`${req.rq}: answered ${JSON.stringify(answer.value)}, but its transaction read ${expected.join(' or ')}`);
        }
      } else if (answer.code === 'ABORTED') {
        definite.push(`ABORTED (incarnation ${inc})`);
        if (req.committed.size > 0)
          problems.push(`${req.rq}: answered ABORTED (incarnation ${inc}: ${answer.message}), but ${[...req.committed].join(', ')} committed`);
      } else if (answer.code === 'TIMEOUT') {
        if (answer.message.includes('restarted since')) afterRestart++;
        else if (answer.message.includes('older than')) olderThanRemembered++;
      } else problems.push(`${req.rq}: answered ${answer.code} (${answer.message})`);
    }
    if (definite.length > 1) problems.push(`${req.rq}: ${definite.length} definite answers: ${definite.join(', ')}`);
    if (req.reached.has(incarnation) && !req.answers.some((a) => a.incarnation === incarnation))
      problems.push(`${req.rq}: a copy reached the last incarnation (${incarnation}), which never answered it`);
  }
  shards.forEach((shard, s) => {
    for (const { txn } of shard.core.inDoubt()) problems.push(`shard ${s} still in doubt about ${txn} after the phase without faults`);
  });
  return { problems, requests: requests.size, committed, restarts, afterRestart, olderThanRemembered };
}
