/**
 * One seed of a randomized run of a region's balancer actor (src/cluster/balancer.ts) on its
 * own, driven through its Behavior with a recording ActorContext (test/balancer-random.test.ts
 * runs it; test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so
 * the imports here are relative). Nothing behind the balancer can mask what it does: the
 * servers here are scripts that answer what they are sent, and every request the balancer
 * forwards or refuses is recorded.
 *
 * What a seed draws: 1 or 2 regions of 1 to 3 servers, 1 to 4 clients, a strategy, outlier
 * ejection on or off, leader hints on or off, and the routed-ids bound (`limits.routedRequests`:
 * 1 to 15 as `--limits small` draws it in three seeds of five, 16 to 200 in one, else the
 * default of 4,096, more than a seed's some 280 requests). What runs,
 * only what the real system produces: clients send requests with request ids 1, 2, 3, ... each
 * (writes, reads, transactions, with `rq` = `<client id>:<rid>` as src/cluster/client.ts sets
 * it); the network delivers every message to the balancer after some latency, in any order,
 * and makes copies of client requests that arrive later (within 300 ms, a few seconds, or
 * 20 s), and at any step a copy of any earlier request comes again (also after hundreds of newer
 * requests of its client); servers answer forwarded requests out of order, now and then with
 * an error, from the server that executed them (a forwarder's owner), and their answers are
 * copied too; servers crash (their unanswered requests are lost) and restart, and the runtime's
 * notices of it (src/cluster/cluster.ts notifyBalancers) are late, reordered, copied or lost;
 * region digests report servers down after a while and stop now and then (a partition);
 * coordinators crash and restart; servers and coordinators answer the balancer's probes while
 * they run (answers late, copied or lost like notices); the balancer's own timers (sweep, regions, probe) fire on a fake
 * clock.
 *
 * Checked, per request (a client's rid), over the whole run with every late copy delivered:
 *  - it is forwarded at most once to each server, and anything but a get to one server only (an
 *    expired request is given up, not resent; without a dedup of their own, servers would
 *    execute a second forward twice, and a transaction could reach two coordinators); only a
 *    get in flight at a server that crashed or went down is sent again, to another server
 *    (balancer.ts reroute: it changed nothing), at most GET_REROUTES_MAX times;
 *  - its client gets at most one answer (a copy is never answered again, so never answered
 *    differently: a copy of a routed request is not refused, a refusal is not followed by a
 *    server's answer);
 *  - a refused request (UNAVAILABLE, definite: it did not happen) is never forwarded, however
 *    late a copy comes;
 *  - an answer relayed to a client is the one to its own request (an ok answer carries the
 *    value the server gave that request; an error is for a request that was forwarded);
 *  - a request whose first copy arrives before any copy of a newer request of its client is
 *    forwarded or refused at once (dedup drops copies, not requests).
 * And, for coordinators and servers: a probe goes only to one the balancer holds crashed (or,
 * asking it to verify, to a coordinator a transaction waited on; held down if it does not answer); an
 * answer to a probe takes one back only if it was given after the crash the balancer's mark
 * is for (a copy of an answer from before a later crash does not); and once every node runs,
 * with every message arriving, none is held crashed a few probe periods later (a lost restart
 * notice included). And no step throws. (2026-12-03, seeds 1-400: with balancer.ts onProbeAck
 * taking any answer, seeds 188 and 376 fail; ignoring every answer, 55 fail the last check.)
 */
import { validateBalancerConfig } from '../../src/balance/validate.js';
import { STRATEGY_NAMES } from '../../src/balance/types.js';
import { balancerBehavior, BALANCER_PROBE_MS, GET_REROUTES_MAX, type BalancerParams, type BalancerState } from '../../src/cluster/balancer.js';
import type { BalancerInbound, Digest, ErrorCodeWire, Probe, Req, RequestBody, Res } from '../../src/cluster/messages.js';
import { balancerAddress, coordinatorAddress, serverId } from '../../src/cluster/topology.js';
import { Prng } from '../../src/core/prng.js';
import type { ActorContext, Outgoing, SystemMessage } from '../../src/runtime/actor.js';
import { fakeContext } from './fake-context.js';

const STEPS = 800;
const HEARTBEAT_MS = 50;
const REQUEST_TIMEOUT_MS = 1_000;
/** How late a copy of a client request may come, by kind of delay. */
const SHORT_COPY_MS = 300;
const LONG_COPY_MS = 3_000;
const VERY_LATE_COPY_MS = 20_000;
/** A digest reports a crashed server down once it has been down this long (the region's detector). */
const DOWN_AFTER_MS = 150;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

export interface SeedResult {
  problems: string[];
  /** Requests sent by clients, forwarded by the balancer, refused by it. */
  requests: number;
  forwarded: number;
  refused: number;
  /** Copies of client requests delivered after the first (network duplicates). */
  copies: number;
  /** The routed-ids bound of the seed (undefined: the default). */
  limit: number | undefined;
  /** Probes the balancer sent to coordinators and servers, and answers to them that took one back. */
  probes: number;
  probesAnswered: number;
  /** Gets sent again to another server (forwards after a get's first). */
  rerouted: number;
}

interface Delivery {
  at: number;
  from: string;
  msg: BalancerInbound;
}

interface Sent {
  client: string;
  rid: number;
  rq: string;
  body: RequestBody;
}

interface Forward {
  rq: string;
  brid: number;
  server: string;
}

interface Answer {
  /** The message the balancer was handling when it sent the answer. */
  during: string;
  res: Res;
}

interface Server {
  id: string;
  region: string;
  crashed: boolean;
  crashedAt: number;
  /** Forwards received and not answered, with the balancer's rid. */
  inbox: Array<{ brid: number; body: RequestBody }>;
}

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`balancer-random:${seed}`);
  const problems: string[] = [];
  const regionNames = prng.chance(0.5) ? ['r1'] : ['r1', 'r2'];
  const servers = new Map<string, Server>();
  const serversOf: Record<string, string[]> = {};
  for (const region of regionNames) {
    const ids = Array.from({ length: 1 + prng.int(3) }, (_, i) => serverId(region, i));
    serversOf[region] = ids;
    for (const id of ids) servers.set(id, { id, region, crashed: false, crashedAt: 0, inbox: [] });
  }
  const serverIds = [...servers.keys()];
  const coordinators = regionNames.map(coordinatorAddress);
  const strategy = prng.pick(STRATEGY_NAMES);
  // A small Maglev table: the default one (65,537 entries) is rebuilt at every change of health.
  const config = validateBalancerConfig({
    strategy,
    ...(strategy === 'maglev' ? { maglevTableSize: 251 } : {}),
    ...(prng.chance(0.5) ? { outlier: false } : {}),
  });
  const bound = prng.next();
  const limit = bound < 0.6 ? 1 + prng.int(15) : bound < 0.8 ? 16 + prng.int(185) : undefined;
  const params: BalancerParams = {
    region: 'r1',
    priority: regionNames,
    regions: regionNames,
    servers: serversOf,
    balancer: config,
    heartbeatIntervalMs: HEARTBEAT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    publishMembers: false,
    shards: prng.chance(0.5) ? 4 : 0,
  };
  if (limit !== undefined) params.routedRemembered = limit;
  const clients = Array.from({ length: 1 + prng.int(4) }, (_, k) => ({ id: `c${k}`, address: `client/r1/c${k}`, nextRid: 1 }));
  // The seed's weather.
  const copyShare = 0.1 + 0.5 * prng.next();
  const crashRate = 0.005 + 0.03 * prng.next();
  const errorShare = 0.15 * prng.next();
  const noticeLoss = prng.chance(0.5) ? 0 : 0.2;
  // Coordinator churn in three seeds of ten, from a stream of its own (the draws above are as
  // they were before probes): more crashes and restarts, so that a copy of an answer to a probe
  // comes after a later crash notice.
  const churnRandom = new Prng(`balancer-random:${seed}:churn`);
  const coordinatorChurn = churnRandom.chance(0.3) ? 0.05 : 0;

  // The world.
  let now = 0;
  const network: Delivery[] = [];
  const timers = new Map<string, number>();
  const incarnations = new Map<string, number>();
  const coordinatorDown = new Set<string>();
  /** Per coordinator and server, when each incarnation crashed (index: the incarnation its crash notice carries). */
  const crashes = new Map<string, number[]>([...coordinators, ...serverIds].map((c) => [c, []]));
  /** Per coordinator and server, the crash time of the crash notice the balancer's mark is for. */
  const markFor = new Map<string, number>();
  /** When a coordinator or server gave the answer to its probe sent at `at` (key: `<node> <at>`). */
  const answeredAt = new Map<string, number>();
  let probes = 0;
  let probesAnswered = 0;
  /** The end: every message arrives. */
  let lossless = false;
  const silentUntil = new Map<string, number>(regionNames.map((r) => [r, 0]));
  const nextDigest = new Map<string, number>(regionNames.map((r) => [r, prng.int(HEARTBEAT_MS)]));
  const digestSeq = new Map<string, number>(regionNames.map((r) => [r, 0]));

  // What was sent and what the balancer did.
  const history: Sent[] = [];
  const byRq = new Map<string, Sent>();
  const delivered = new Map<string, number>();
  /** Per client, the highest rid of which a copy reached the balancer. */
  const highestDelivered = new Map<string, number>();
  const forwards = new Map<string, Forward[]>();
  const answers = new Map<string, Answer[]>();
  let forwardedCount = 0;
  let refusedCount = 0;
  let copies = 0;
  let handling = 'init';
  let sender = '';

  const self = balancerAddress('r1');
  const schedule = (at: number, from: string, msg: BalancerInbound): void => {
    // Each delivery its own object, as decoded off the wire (the balancer relays an answer
    // with the client's rid written into it).
    const copy = msg.type === 'req' ? { ...msg, body: { ...msg.body } } : { ...msg };
    network.push({ at, from, msg: copy });
  };
  const answerTo = (client: string, res: Res): void => {
    const key = `${client} ${res.rid}`;
    let list = answers.get(key);
    if (list === undefined) answers.set(key, (list = []));
    list.push({ during: handling, res: { ...res } });
    if (handling === 'req') refusedCount++;
  };
  const send = (to: string, msg: Outgoing): void => {
    if (msg.type === 'req') {
      const req = msg as Req;
      const rq = req.body.rq ?? '?';
      let list = forwards.get(rq);
      if (list === undefined) forwards.set(rq, (list = []));
      list.push({ rq, brid: req.rid, server: to });
      forwardedCount++;
      const server = servers.get(to);
      if (server === undefined) problems.push(`${rq} forwarded to ${to}, not a server`);
      // A message to a crashed process is lost.
      else if (!server.crashed) server.inbox.push({ brid: req.rid, body: { ...req.body } });
      return;
    }
    if (msg.type === 'res') {
      answerTo(to, msg as Res);
      return;
    }
    if (msg.type === 'probe') {
      probes++;
      const { at, verify } = msg as Probe;
      const server = servers.get(to);
      if (!coordinators.includes(to) && server === undefined) problems.push(`a probe to ${to}, neither a coordinator nor a server`);
      else if (verify === true) {
        // A transaction waited on it (balancer.ts doubtSlow): only a coordinator, not held down.
        if (!coordinators.includes(to) || heldSince(to) !== undefined) problems.push(`a verify probe to ${to}, not a coordinator the balancer uses`);
      } else if (heldSince(to) === undefined) problems.push(`a probe to ${to}, which the balancer does not hold crashed`);
      // A crashed node takes nothing; a running one answers, like a notice late, copied or lost.
      if (coordinatorDown.has(to) || server?.crashed === true || (!lossless && prng.chance(noticeLoss))) return;
      answeredAt.set(`${to} ${at}`, now);
      schedule(now + prng.int(20), to, { type: 'probe-ack', at });
      if (prng.chance(0.3)) schedule(now + BALANCER_PROBE_MS + prng.int(4 * BALANCER_PROBE_MS), to, { type: 'probe-ack', at });
      return;
    }
    problems.push(`the balancer sent a ${msg.type} to ${to}`);
  };
  // The balancer's own stream: what it draws does not move the world's draws.
  const balancerRandom = prng.fork('balancer');
  const ctx: ActorContext = fakeContext({
    self,
    get sender() {
      return sender;
    },
    send,
    reply: (msg: Outgoing) => send(sender, msg),
    forward: (to: string) => problems.push(`the balancer forwarded a message to ${to}`),
    setTimer: (key: string, delayMs: number) => timers.set(key, now + delayMs),
    cancelTimer: (key: string) => timers.delete(key),
    now: () => now,
    monotonicNow: () => now,
    receivedAt: () => now,
    random: () => balancerRandom.next(),
    warn: (message: string) => problems.push(`warned: ${message}`),
  });

  /** When the balancer's mark that `node` crashed was set (its clock), if it holds it crashed. */
  const heldSince = (node: string): number | undefined => {
    const m = state.members.get(node);
    return m === undefined ? state.coordinatorsDown.get(node) : m.crashed ? m.crashedAtMs : undefined;
  };
  const receive = (from: string, msg: BalancerInbound): void => {
    sender = from;
    handling = msg.type;
    const since = heldSince(from);
    const held = msg.type === 'sys' ? heldSince(msg.node) : undefined;
    const heldBefore = msg.type === 'timer' ? coordinators.map((c) => heldSince(c)) : undefined;
    balancerBehavior.receive(state, msg, ctx);
    handling = 'none';
    // Held down on a timer: a verify probe went unanswered (doubtSlow); only an answer given after that takes it back.
    if (heldBefore !== undefined)
      coordinators.forEach((c, i) => {
        const mark = heldSince(c);
        if (heldBefore[i] === undefined && mark !== undefined) markFor.set(c, mark);
      });
    if (msg.type === 'sys' && msg.event === 'node-crashed') {
      const mark = heldSince(msg.node);
      if (mark !== undefined && mark !== held) markFor.set(msg.node, crashes.get(msg.node)![msg.incarnation]!);
    }
    if (msg.type === 'probe-ack' && since !== undefined && heldSince(from) === undefined) {
      probesAnswered++;
      const given = answeredAt.get(`${from} ${msg.at}`)!;
      const crash = markFor.get(from)!;
      if (!(given > crash))
        problems.push(`${from} taken back on an answer given at ${given} ms, not after the crash at ${crash} ms that it was held crashed for`);
    }
  };
  /** A client request (a first copy or a network duplicate) reaches the balancer. */
  const deliverRequest = (from: string, req: Req): void => {
    const rq = req.body.rq!;
    const sent = byRq.get(rq)!;
    const n = (delivered.get(rq) ?? 0) + 1;
    delivered.set(rq, n);
    if (n > 1) copies++;
    const inOrder = n === 1 && (highestDelivered.get(sent.client) ?? 0) < sent.rid;
    highestDelivered.set(sent.client, Math.max(highestDelivered.get(sent.client) ?? 0, sent.rid));
    const before = (forwards.get(rq)?.length ?? 0) + (answers.get(`${sent.client} ${sent.rid}`)?.length ?? 0);
    receive(from, req);
    const after = (forwards.get(rq)?.length ?? 0) + (answers.get(`${sent.client} ${sent.rid}`)?.length ?? 0);
    if (inOrder && after === before) problems.push(`${rq}: its first copy came before any newer request of its client, and was neither forwarded nor refused`);
  };
  const deliver = (d: Delivery): void => {
    if (d.msg.type === 'req') deliverRequest(d.from, d.msg);
    else receive(d.from, d.msg);
  };

  /** Client sends: the first copy after some latency, maybe a copy later. */
  const clientSend = (): void => {
    const client = prng.pick(clients);
    const rid = client.nextRid++;
    const rq = `${client.id}:${rid}`;
    const key = prng.pick(KEYS);
    const r = prng.next();
    let body: RequestBody;
    if (r < 0.35) body = { op: 'put', key, value: rid };
    else if (r < 0.55) body = { op: 'get', key, consistency: 'linearizable' };
    else if (r < 0.7) body = { op: 'get', key, consistency: 'local' };
    else if (r < 0.8) body = { op: 'delete', key };
    else if (r < 0.92) body = { op: 'cas', key, expected: null, value: rid };
    else body = { op: 'txn', key, ops: [{ op: 'put', key, value: rid }] };
    body.rq = rq;
    const req: Req = { type: 'req', rid, body };
    const sent: Sent = { client: client.address, rid, rq, body };
    history.push(sent);
    byRq.set(rq, sent);
    schedule(now + prng.int(20), client.address, req);
    while (prng.chance(copyShare)) {
      const k = prng.next();
      const late = k < 0.6 ? prng.int(SHORT_COPY_MS) : k < 0.9 ? prng.int(LONG_COPY_MS) : prng.int(VERY_LATE_COPY_MS);
      schedule(now + late, client.address, req);
    }
  };
  /** A copy of any earlier request comes now (the network may hold one for any time). */
  const replay = (): void => {
    if (history.length === 0) return;
    // Half of the time from the oldest tenth: a copy older than everything remembered.
    const sent = prng.chance(0.5) ? history[prng.int(Math.max(1, Math.floor(history.length / 10)))]! : prng.pick(history);
    schedule(now, sent.client, { type: 'req', rid: sent.rid, body: sent.body });
  };
  /** A running server answers one of the requests it holds (out of order), from itself or the owner it forwarded to. */
  const serverAnswers = (): void => {
    const busy = [...servers.values()].filter((s) => !s.crashed && s.inbox.length > 0);
    if (busy.length === 0) return;
    const server = prng.pick(busy);
    const [work] = server.inbox.splice(prng.int(server.inbox.length), 1);
    const rq = work!.body.rq!;
    let res: Res;
    let from = server.id;
    if (prng.chance(errorShare)) {
      const code: ErrorCodeWire = prng.pick(['UNAVAILABLE', 'TIMEOUT', 'ABORTED', 'VALIDATION'] as const);
      res = { type: 'res', rid: work!.brid, ok: false, code, message: `${rq} failed at ${server.id}` };
    } else {
      // A server forwards a key it does not own; the owner answers the balancer directly.
      const running = serverIds.filter((id) => !servers.get(id)!.crashed);
      const by = prng.chance(0.3) ? prng.pick(running) : server.id;
      from = by;
      res = { type: 'res', rid: work!.brid, ok: true, value: rq, by };
    }
    schedule(now + prng.int(20), from, res);
    if (prng.chance(copyShare / 2)) schedule(now + prng.int(LONG_COPY_MS), from, res);
  };
  const notice = (event: SystemMessage['event'], node: string): void => {
    let incarnation = incarnations.get(node) ?? 0;
    if (event === 'node-restarted') incarnations.set(node, ++incarnation);
    const msg: SystemMessage = { type: 'sys', event, node, incarnation };
    if (event === 'node-crashed') crashes.get(node)![incarnation] = now;
    if (prng.chance(noticeLoss)) return; // Cut off by a partition.
    schedule(now + prng.int(prng.chance(0.2) ? 500 : 20), node, msg);
    if (prng.chance(0.1)) schedule(now + prng.int(1_000), node, msg);
  };
  const crashServer = (): void => {
    const running = [...servers.values()].filter((s) => !s.crashed);
    if (running.length === 0) return;
    const server = prng.pick(running);
    server.crashed = true;
    server.crashedAt = now;
    server.inbox = [];
    notice('node-crashed', server.id);
  };
  const restartServer = (): void => {
    const down = [...servers.values()].filter((s) => s.crashed);
    if (down.length === 0) return;
    const server = prng.pick(down);
    server.crashed = false;
    notice('node-restarted', server.id);
  };
  const toggleCoordinator = (random = prng): void => {
    const c = random.pick(coordinators);
    if (coordinatorDown.has(c)) {
      coordinatorDown.delete(c);
      notice('node-restarted', c);
    } else {
      coordinatorDown.add(c);
      notice('node-crashed', c);
    }
  };
  const digest = (region: string): void => {
    const s = (digestSeq.get(region) ?? 0) + 1;
    digestSeq.set(region, s);
    const msg: Digest = {
      type: 'digest',
      region,
      seq: s,
      incarnation: region,
      version: s,
      members: serversOf[region]!.map((id) => {
        const server = servers.get(id)!;
        const state = server.crashed ? (now - server.crashedAt >= DOWN_AFTER_MS ? 'down' : 'suspect') : 'up';
        return { id, state, load: { inflight: server.inbox.length, mailbox: 0, latencyEwmaMs: 1, busyMs: 0, requests: 0 } };
      }),
    };
    schedule(now + prng.int(10), region, msg);
  };

  /** Moves the clock to `t`, firing the balancer's timers and the regions' digests due on the way, in time order. */
  const advanceTo = (t: number): void => {
    for (;;) {
      let next: { at: number; run: () => void } | undefined;
      for (const [key, at] of timers) {
        if (at <= t && (next === undefined || at < next.at))
          next = {
            at,
            run: () => {
              timers.delete(key);
              receive(self, { type: 'timer', key });
            },
          };
      }
      for (const [region, at] of nextDigest) {
        if (at <= t && (next === undefined || at < next.at))
          next = {
            at,
            run: () => {
              nextDigest.set(region, at + HEARTBEAT_MS);
              if (at >= silentUntil.get(region)!) digest(region);
            },
          };
      }
      if (next === undefined) break;
      now = Math.max(now, next.at);
      next.run();
    }
    now = Math.max(now, t);
  };
  /** Delivers the network's messages due by now, in random order among them. */
  const deliverDue = (): void => {
    for (;;) {
      const due: number[] = [];
      for (let i = 0; i < network.length; i++) if (network[i]!.at <= now) due.push(i);
      if (due.length === 0) return;
      const [d] = network.splice(prng.pick(due), 1);
      deliver(d!);
    }
  };

  let state: BalancerState;
  try {
    handling = 'init';
    state = balancerBehavior.init(ctx, params, []);
    for (let step = 0; step < STEPS; step++) {
      advanceTo(now + prng.int(10));
      deliverDue();
      const r = prng.next();
      if (r < 0.35) clientSend();
      else if (r < 0.4) replay();
      else if (r < 0.72) serverAnswers();
      else if (r < 0.72 + crashRate) crashServer();
      else if (r < 0.75 + crashRate) restartServer();
      else if (r < 0.755 + crashRate) toggleCoordinator();
      else if (r < 0.76 + crashRate) silentUntil.set(prng.pick(regionNames), now + 100 + prng.int(900));
      if (churnRandom.chance(coordinatorChurn)) toggleCoordinator(churnRandom);
    }
    // The end: no new requests; every server restarts, every message (the latest copies too)
    // arrives and every request held is answered.
    for (const s of servers.values()) {
      if (!s.crashed) continue;
      s.crashed = false;
      notice('node-restarted', s.id);
    }
    // Coordinators too (their restart notices may still be lost: the probes find them).
    for (const c of [...coordinatorDown]) {
      coordinatorDown.delete(c);
      notice('node-restarted', c);
    }
    lossless = true;
    // Digests keep coming; the rest is drained.
    const held = (): boolean => [...servers.values()].some((s) => s.inbox.length > 0);
    const inTransit = (): Delivery[] => network.filter((d) => d.msg.type !== 'digest');
    for (let guard = 0; guard < 100_000; guard++) {
      if (held()) serverAnswers();
      else {
        const rest = inTransit();
        if (rest.length === 0) break;
        advanceTo(Math.min(...rest.map((d) => d.at)));
      }
      deliverDue();
    }
    // A few probe periods with every message arriving: no coordinator is held crashed then.
    const until = now + 3 * BALANCER_PROBE_MS;
    while (now < until) {
      advanceTo(now + 10);
      deliverDue();
    }
    const stillHeld = [...state.coordinatorsDown.keys(), ...[...state.members].filter(([, m]) => m.crashed).map(([id]) => id)];
    if (stillHeld.length > 0) problems.push(`every node runs, yet the balancer holds ${stillHeld.join(', ')} crashed`);
  } catch (error) {
    problems.push(`threw (${handling}): ${(error as Error).stack ?? String(error)}`);
  }

  // The checks.
  let rerouted = 0;
  for (const sent of history) {
    const fw = forwards.get(sent.rq) ?? [];
    const ans = answers.get(`${sent.client} ${sent.rid}`) ?? [];
    const refusals = ans.filter((a) => a.during === 'req');
    const to = fw.map((f) => f.server);
    const limit = sent.body.op === 'get' ? 1 + GET_REROUTES_MAX : 1;
    if (fw.length > limit || new Set(to).size < fw.length) problems.push(`${sent.rq} (a ${sent.body.op}) forwarded ${fw.length} times (to ${to.join(', ')})`);
    if (sent.body.op === 'get') rerouted += Math.max(0, fw.length - 1);
    if (ans.length > 1) problems.push(`${sent.rq} answered ${ans.length} times: ${ans.map((a) => (a.res.ok ? 'ok' : a.res.code)).join(', ')}`);
    if (refusals.length > 0 && fw.length > 0) problems.push(`${sent.rq} refused (definite: it did not happen), and forwarded`);
    for (const a of refusals)
      if (a.res.ok || a.res.code !== 'UNAVAILABLE') problems.push(`${sent.rq}: answered ${a.res.ok ? 'ok' : a.res.code} by the balancer itself`);
    for (const a of ans) {
      if (a.during === 'req') continue;
      if (fw.length === 0) problems.push(`${sent.rq}: an answer (${a.res.ok ? 'ok' : a.res.code}) to a request never forwarded`);
      else if (a.res.ok && a.res.value !== sent.rq) problems.push(`${sent.rq}: relayed the answer to ${String(a.res.value)}`);
    }
  }
  for (const key of answers.keys()) {
    const [client, rid] = key.split(' ');
    if (!byRq.has(`${client!.split('/').at(-1)}:${rid}`)) problems.push(`an answer to ${key}, a request nobody sent`);
  }
  return { problems, requests: history.length, forwarded: forwardedCount, refused: refusedCount, copies, limit, probes, probesAnswered, rerouted };
}
