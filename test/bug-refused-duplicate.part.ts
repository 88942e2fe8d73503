import test from 'ava';
import { checkLinearizable, startCluster, UnavailableError, type ClusterConfig } from '../src/index.js';
import { RoutedIds, stringRoutedId, type BalancerSummary } from '../src/cluster/balancer.js';
import { runPinnedSeed, SWARM_PAXOS_COMMIT_PAIR } from './helpers/seeds.js';
import { BEGUN_REMEMBERED_MAX, coordinatorBehavior, type CoordinatorParams } from '../src/cluster/coordinator.js';
import type { Req } from '../src/cluster/messages.js';
import type { ActorContext } from '../src/runtime/actor.js';
import { recordingContext, type FakeWorld } from './helpers/fake-context.js';

// A refused request taking effect (found 2026-12-01 by `meridian check --shape random --nemesis
// swarm --txn-share 0.3 --commit paxos-commit --from 255001 --seeds 1500 --mode passive`: seed
// 255280, 2 regions of one server, factor 2, not linearizable). Both servers were down; the
// network duplicated a client's cas and a reorder fault delayed the second copy by ~250 ms.
// balancer/r1 refused the first copy ("no server available in region r2": UnavailableError,
// which promises the call did not happen) and, since it only remembered requests it had
// routed, routed the second copy after the restart: the cas took effect, and a read saw its
// value. A balancer now remembers every request it answered, routed or refused.

test('RoutedIds: a forgotten id of a sender, and any lower one, still counts as answered; other senders do not', (t) => {
  const ids = new RoutedIds();
  const sender = (n: number, rid: number): number => n * 0x100000000 + rid;
  ids.add(sender(0, 5));
  ids.add(sender(0, 7));
  t.true(ids.has(sender(0, 5)));
  t.false(ids.has(sender(0, 6)), 'never seen, nothing forgotten yet');
  ids.delete(sender(0, 5));
  t.is(ids.size, 1);
  t.true(ids.has(sender(0, 5)), 'forgotten, still answered');
  t.true(ids.has(sender(0, 3)), 'below the forgotten rid: a copy too late to answer');
  t.false(ids.has(sender(0, 6)), 'above it: a new request');
  t.false(ids.has(sender(1, 5)), 'another sender');
});

// Past SENDERS_NUMBERED_MAX (2^20) client addresses a balancer keys its ids by string. Until
// 2026-12-02 a forgotten string id was simply gone, so a late copy of it was routed again (a
// client's request executed twice, where the state machine forgot it too).
test('RoutedIds: string ids (senders past the numbered ones) are covered by per-sender marks too', (t) => {
  const ids = new RoutedIds();
  const late = (rid: number): string => stringRoutedId('client/r1/late', rid);
  ids.add(late(1));
  ids.add(late(2));
  t.true(ids.has(late(1)));
  ids.delete(late(1));
  t.true(ids.has(late(1)), 'forgotten, still answered');
  t.true(ids.has(late(0)), 'below the forgotten rid: a copy too late to answer');
  t.false(ids.has(late(3)), 'above it: a new request');
  t.false(ids.has(stringRoutedId('client/r1/other', 1)), 'another sender');
  ids.add(stringRoutedId('client/r1/odd', 1.5));
  ids.delete(stringRoutedId('client/r1/odd', 1.5));
  t.false(ids.has(stringRoutedId('client/r1/odd', 1.5)), 'a rid that is not a count keeps no mark (ids are not ordered)');
});

test('a write refused while no server runs is not applied when its duplicate arrives after the restart', async (t) => {
  const seed = 7;
  t.log(`seed ${seed}`);
  const config: ClusterConfig = {
    regions: [{ name: 'r1', servers: 1 }],
    transport: 'sim',
    seed,
    heartbeat: { intervalMs: 50 },
    replication: { mode: 'none' },
    shards: 1,
    requestTimeoutMs: 5_000,
  };
  const cluster = await startCluster(config);
  try {
    const client = cluster.client({ region: 'r1' });
    await client.put('warm', 0);
    await cluster.crash('r1/0');
    await cluster.sleep(200);
    // Every request delivered twice, each copy within [0, 400) ms: a copy refused while r1/0
    // is down has its twin arrive after the restart in about a quarter of the puts.
    await cluster.setNetwork({ duplicate: 1, jitterMs: 400 });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const answers = keys.map((key) =>
      client.put(key, 'v').then(
        () => 'ok' as const,
        (error: unknown) => (error instanceof UnavailableError ? ('refused' as const) : ('unknown' as const)),
      ),
    );
    await cluster.sleep(200);
    await cluster.restart('r1/0');
    const outcomes = await Promise.all(answers);
    await cluster.setNetwork({ duplicate: 0, jitterMs: 0 });
    await cluster.sleep(1_000);
    const refused = keys.filter((_, i) => outcomes[i] === 'refused');
    const balancer = ((await cluster.inspect('balancer/r1')) as { state: BalancerSummary }).state;
    t.log(`outcomes: ${refused.length} refused, ${outcomes.filter((o) => o === 'ok').length} ok; balancer dropped ${balancer.duplicates} duplicates`);
    t.true(refused.length > 0, 'some puts were refused while r1/0 was down');
    t.true(balancer.duplicates >= keys.length, 'every put was delivered twice');
    for (const key of refused) t.is(await client.get(key), undefined, `${key}: refused, so not applied`);
    const result = await checkLinearizable(cluster.history(), 'register');
    t.is(result.verdict, 'linearizable', JSON.stringify(result.violations[0]));
  } finally {
    await cluster.stop();
  }
});

test('seed 255280 (2 regions of one server, factor 2, swarm, Paxos Commit, passive) is linearizable', async (t) => {
  const r = await runPinnedSeed(t, { ...SWARM_PAXOS_COMMIT_PAIR, seed: 255280, mode: 'passive', shards: 8 });
  t.is(r.outcome, 'pass', r.failures.join('; '));
});

// The same for a coordinator across its restart: it remembered the request ids it had begun in
// memory only, so a copy of a transaction request that the network delayed past a restart of
// the coordinator began the transaction again, under a new id (217 begins for 180 transactions
// with every message duplicated and a crash mid-flight). The second run could abort while the
// first committed (a definite error for a committed transaction), or commit it twice.

interface FakeCtx {
  ctx: ActorContext;
  sent: Array<{ to: string; msg: { type: string; code?: string } }>;
  log: unknown[];
  /** The clock the context reads (ms): `now`. */
  clock: FakeWorld;
}

/** An ActorContext that records what the actor sends and persists; `log` is its durable log. */
function fakeCtx(log: unknown[]): FakeCtx {
  const { ctx, sent, world } = recordingContext<FakeCtx['sent'][number]['msg']>(
    'coordinator/r1',
    { sender: 'r1/0' },
    {
      incarnation: `i${log.length}`,
      forward: () => undefined,
      persist: (record) => void log.push(record),
      checkpoint: (records) => void log.splice(0, log.length, ...records),
    },
  );
  return { ctx, sent, log, clock: world };
}

test('coordinator: a copy of a transaction request that arrives after a restart does not begin it again', (t) => {
  const params: CoordinatorParams = {
    region: 'r1',
    commit: '2pc',
    topology: { regions: [{ name: 'r1', servers: 2 }], shards: 4, factor: 1, mode: 'none' },
    tickMs: 10,
    acceptors: ['coordinator/r1'],
  };
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const req: Req = { type: 'req', rid: 7, body: { op: 'txn', key: 'a', rq: 'client:1', ops: keys.map((key) => ({ op: 'put', key, value: 1 })) } };
  const before = fakeCtx([]);
  const state = coordinatorBehavior.init(before.ctx, params, []);
  coordinatorBehavior.receive(state, req, before.ctx);
  const prepares = before.sent.filter((s) => s.msg.type === 'tx').length;
  t.true(prepares > 0, 'the first copy begins the transaction');
  coordinatorBehavior.receive(state, req, before.ctx);
  t.is(before.sent.filter((s) => s.msg.type === 'tx').length, prepares, 'a copy before the restart is dropped');

  // Restarted: the same log read back.
  const after = fakeCtx([...before.log]);
  const restarted = coordinatorBehavior.init(after.ctx, params, [...before.log]);
  coordinatorBehavior.receive(restarted, req, after.ctx);
  t.is(after.sent.filter((s) => s.msg.type === 'tx').length, 0, 'not begun again');
  t.deepEqual(
    after.sent.map((s) => [s.to, s.msg.type, s.msg.code]),
    [['r1/0', 'res', 'TIMEOUT']],
    'answered: the outcome is unknown (the client waiting for the first copy is forgotten)',
  );
  // A new request still begins, and survives a checkpoint.
  const next: Req = { ...req, rid: 8, body: { ...req.body, rq: 'client:2' } };
  coordinatorBehavior.receive(restarted, next, after.ctx);
  t.true(after.sent.some((s) => s.msg.type === 'tx'));
  // A checkpoint (asked for as the simulator's fault site does) replaces the log.
  (restarted as unknown as { checkpointAsked: boolean }).checkpointAsked = true;
  const third: Req = { ...req, rid: 9, body: { ...req.body, rq: 'client:3' } };
  coordinatorBehavior.receive(restarted, third, after.ctx);
  t.true(after.log.length < before.log.length + 2, `compacted: ${after.log.length} records`);
  const again = fakeCtx([...after.log]);
  const once = coordinatorBehavior.init(again.ctx, params, [...after.log]);
  for (const r of [req, next, third]) coordinatorBehavior.receive(once, r, again.ctx);
  t.is(again.sent.filter((s) => s.msg.type === 'tx').length, 0, 'every id kept through a checkpoint');
});

// Found reading the code (2026-12-01): `begun` holds the last BEGUN_REMEMBERED_MAX request ids;
// a copy of an older one (delayed past that many transaction requests at this coordinator)
// began the transaction again. As a shard does for its requests, the coordinator now keeps per
// client the highest request number it forgot, in its checkpoints too.
test('coordinator: a copy of a request older than BEGUN_REMEMBERED_MAX others is not begun again, across a restart too', (t) => {
  const params: CoordinatorParams = {
    region: 'r1',
    commit: '2pc',
    topology: { regions: [{ name: 'r1', servers: 1 }], shards: 1, factor: 1, mode: 'none' },
    tickMs: 10,
    acceptors: ['coordinator/r1'],
  };
  const req = (n: number): Req => ({ type: 'req', rid: n, body: { op: 'txn', key: 'a', rq: `client:${n}`, ops: [{ op: 'put', key: 'a', value: n }] } });
  const live = fakeCtx([]);
  const state = coordinatorBehavior.init(live.ctx, params, []);
  for (let n = 1; n <= BEGUN_REMEMBERED_MAX + 5; n++) coordinatorBehavior.receive(state, req(n), live.ctx);
  const answers = (f: FakeCtx): Array<string | undefined> => f.sent.filter((s) => s.msg.type === 'res').map((s) => s.msg.code);
  live.sent.length = 0;
  coordinatorBehavior.receive(state, req(1), live.ctx);
  t.is(live.sent.filter((s) => s.msg.type === 'tx').length, 0, 'the copy of the first is not begun');
  t.deepEqual(answers(live), ['TIMEOUT'], 'answered: its outcome is unknown here');
  live.sent.length = 0;
  coordinatorBehavior.receive(state, req(BEGUN_REMEMBERED_MAX + 5), live.ctx);
  t.deepEqual(live.sent, [], 'a copy of a remembered one is dropped, as before');
  coordinatorBehavior.receive(state, { ...req(1), body: { ...req(1).body, rq: 'other:1' } }, live.ctx);
  t.deepEqual(answers(live), ['UNAVAILABLE'], "another client's first request is new (refused here only for the open transactions)");

  // Restarted from the log as it is (a checkpoint from before anything was forgotten, and the
  // records since), then from a checkpoint that holds the marks.
  for (const checkpointed of [false, true]) {
    if (checkpointed) {
      (state as unknown as { checkpointAsked: boolean }).checkpointAsked = true;
      live.clock.now += params.tickMs;
      coordinatorBehavior.receive(state, { type: 'timer', key: 'tick' } as never, live.ctx);
      t.true(
        live.log.some((r) => (r as { forgotten?: unknown }).forgotten !== undefined),
        'the checkpoint kept the marks',
      );
      t.true(live.log.length < 100, `compacted: ${live.log.length} records`);
    }
    const after = fakeCtx([...live.log]);
    const restarted = coordinatorBehavior.init(after.ctx, params, [...live.log]);
    coordinatorBehavior.receive(restarted, req(1), after.ctx);
    coordinatorBehavior.receive(restarted, req(3), after.ctx);
    t.is(after.sent.filter((s) => s.msg.type === 'tx').length, 0, `not begun after the restart (checkpointed: ${checkpointed})`);
    t.deepEqual(answers(after), ['TIMEOUT', 'TIMEOUT']);
  }
});

// The Paxos Commit acceptor's marks (test/protocols-paxoscommit.part.ts) through a coordinator:
// read back from its log at a restart, and kept by its next checkpoint.
test("coordinator: a Paxos Commit acceptor's forgotten marks survive a restart and go into the next checkpoint", (t) => {
  const params: CoordinatorParams = {
    region: 'r1',
    commit: 'paxos-commit',
    topology: { regions: [{ name: 'r1', servers: 1 }], shards: 1, factor: 1, mode: 'none' },
    tickMs: 10,
    acceptors: ['coordinator/r1', 'coordinator/r2', 'coordinator/r3'],
  };
  const log: unknown[] = [{ type: 'forgotten', marks: [['r2:inc', 500]] }];
  const f = fakeCtx([...log]);
  const state = coordinatorBehavior.init(f.ctx, params, [...log]);
  const phase1a = (txn: string): unknown => ({ type: 'tx-c', m: { type: 'phase1a', txn, ballot: { round: 1, id: 'shard/0' }, rms: ['shard/0'] } });
  coordinatorBehavior.receive(state, phase1a('r2:inc:400') as never, f.ctx);
  t.deepEqual(f.sent, [], 'covered by the mark: no promise');
  coordinatorBehavior.receive(state, phase1a('r2:inc:501') as never, f.ctx);
  t.true(
    f.sent.some((s) => JSON.stringify(s.msg).includes('phase1b')),
    `above the mark: promised (${JSON.stringify(f.sent)})`,
  );
  (state as unknown as { checkpointAsked: boolean }).checkpointAsked = true;
  f.clock.now += params.tickMs;
  coordinatorBehavior.receive(state, { type: 'timer', key: 'tick' } as never, f.ctx);
  t.deepEqual(
    f.log.filter((r) => (r as { type?: string }).type === 'forgotten'),
    [{ type: 'forgotten', marks: [['r2:inc', 500]] }],
    'the checkpoint keeps the marks',
  );
});
