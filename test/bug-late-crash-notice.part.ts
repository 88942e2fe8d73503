import test, { type ExecutionContext } from 'ava';
import { runPinnedSeed, SWARM_PAXOS_COMMIT_PAIR } from './helpers/seeds.js';
import { NodeNotices } from '../src/cluster/notices.js';
import type { SystemMessage } from '../src/runtime/actor.js';
import { regionBehavior, type RegionParams, type RegionState } from '../src/cluster/region.js';
import { balancerBehavior, type BalancerParams } from '../src/cluster/balancer.js';
import { validateBalancerConfig } from '../src/balance/validate.js';
import { validateHeartbeatConfig } from '../src/cluster/validate-parts.js';
import type { Digest, Heartbeat, MemberState, RegionBeat } from '../src/cluster/messages.js';
import { recordingContext } from './helpers/fake-context.js';

// A late crash notice (found 2026-12-01 by `meridian check --shape random --nemesis swarm
// --txn-share 0.3 --commit paxos-commit --from 195001 --seeds 500`: seed 195091, 2 regions of
// one server, factor 2, not live). A restart storm crashed and restarted r2/0 within a few ms
// while a reorder fault delayed messages by up to 362 ms; the runtime's notice that r2/0 had
// crashed reached balancer/r1 after the notice that it had restarted. The balancer kept r2/0
// marked crashed for good (its digests said 'up' throughout: the crash was too short to miss
// a heartbeat), so every call of r1's clients routed to r2 failed with "no server available
// in region r2" after healing. Notices now carry the node's incarnation, and one ranked below
// a notice already seen is dropped (src/cluster/notices.ts).

function notice(event: SystemMessage['event'], incarnation: number, node = 'r2/0'): SystemMessage {
  return { type: 'sys', event, node, incarnation };
}

test('notices: a crash notice that arrives after the restart that followed it is stale; duplicates too', (t) => {
  const n = new NodeNotices();
  t.true(n.current(notice('node-restarted', 1)), 'incarnation 1 restarted');
  t.false(n.current(notice('node-crashed', 0)), 'the crash of incarnation 0, late: stale');
  t.false(n.current(notice('node-restarted', 1)), 'a duplicate');
  t.true(n.current(notice('node-crashed', 1)), 'incarnation 1 crashed: news');
  t.false(n.current(notice('node-restarted', 1)), 'the restart before that crash, late: stale');
  t.true(n.current(notice('node-restarted', 2)));
  t.true(n.current(notice('node-crashed', 0, 'r1/0')), 'nodes are apart');
});

test('seed 195091 (2 regions of one server, factor 2, swarm, Paxos Commit) is live after healing', async (t) => {
  const r = await runPinnedSeed(t, { ...SWARM_PAXOS_COMMIT_PAIR, seed: 195091, mode: 'active', shards: 5 });
  t.true(r.live, r.failures.join('; '));
  t.is(r.outcome, 'pass', r.failures.join('; '));
});

/**
 * A region actor of one server, r1/0, stepped by hand: its context reads `clock.now`; `hb` makes
 * r1/0's heartbeat `seq` of life `incarnation`.
 */
function regionOfOne(): {
  clock: { now: number };
  ctx: Parameters<typeof regionBehavior.init>[0];
  params: Parameters<typeof regionBehavior.init>[1];
  hb: (incarnation: string, seq: number) => Heartbeat;
} {
  const { ctx, world: clock } = recordingContext('region/r1');
  const params = { region: 'r1', servers: ['r1/0'], regions: ['r1'], heartbeat: validateHeartbeatConfig({ intervalMs: 100 }) };
  const hb = (incarnation: string, seq: number): Heartbeat => ({
    type: 'hb',
    node: 'r1/0',
    seq,
    incarnation,
    load: { inflight: 0, busyMs: 0 } as unknown as Heartbeat['load'],
  });
  return { clock, ctx, params, hb };
}

/**
 * A region actor's copies and late beats of one watched node (a server's heartbeats, a peer
 * region actor's beats): two regions see the same 20 beats of life A, 100 ms apart, and one of
 * them a copy of each 30 ms late. The copies are not samples (the same phi) and are counted
 * stale; the node, silent after beat 20, is convicted and stays down whatever late copies of
 * that life come. Then it restarts: beat 1 of life B. Returns the region that saw the copies.
 */
function copiesThenLateBeats(
  t: ExecutionContext,
  { clock, ctx }: ReturnType<typeof regionOfOne>,
  params: RegionParams,
  beat: (incarnation: string, seq: number) => Heartbeat | RegionBeat,
  of: { noun: string; phi(s: RegionState, now: number): number; stale(s: RegionState): number; state(s: RegionState): string },
): RegionState {
  const tick = (s: RegionState): string => {
    regionBehavior.receive(s, { type: 'timer', key: 'tick' }, ctx);
    return of.state(s);
  };
  clock.now = 0;
  const clean = regionBehavior.init(ctx, params, []);
  const copied = regionBehavior.init(ctx, params, []);
  for (let seq = 1; seq <= 20; seq++) {
    clock.now = seq * 100;
    regionBehavior.receive(clean, beat('A', seq), ctx);
    regionBehavior.receive(copied, beat('A', seq), ctx);
    clock.now += 30;
    regionBehavior.receive(copied, beat('A', seq), ctx);
  }
  clock.now = 2_500;
  t.is(of.phi(copied, clock.now), of.phi(clean, clock.now), 'copies are not samples: the same phi as without them');
  t.is(of.stale(copied), 20);
  let state = 'up';
  for (clock.now = 2_100; state !== 'down' && clock.now < 10_000; clock.now += 100) state = tick(copied);
  t.is(state, 'down', `convicted by ${clock.now} ms`);
  for (const seq of [20, 13, 20, 19, 1]) {
    clock.now += 150;
    regionBehavior.receive(copied, beat('A', seq), ctx);
    t.is(tick(copied), 'down', `a late copy of ${of.noun} ${seq} at ${clock.now} ms`);
  }
  clock.now += 500;
  regionBehavior.receive(copied, beat('B', 1), ctx);
  return copied;
}

// The same reordering, in the region actor: a heartbeat of a server's previous life that
// arrived after the new life's counted as one more restart (the incarnation id changed), and
// the next heartbeat of the new life as another, so the view's incarnation went 1, 2, 3 for one
// restart. Now ids of previous lives are remembered and their heartbeats dropped.
test('region: a heartbeat of a previous incarnation, delayed past the new one, is not another restart', (t) => {
  const { clock, ctx, params, hb } = regionOfOne();
  const state = regionBehavior.init(ctx, params, []);
  for (const incarnation of ['A', 'A', 'B', 'A', 'B', 'A', 'B']) {
    clock.now += 100;
    regionBehavior.receive(state, hb(incarnation, 1), ctx);
  }
  t.is(state.incarnations.get('r1/0')?.n, 1, 'one restart, A then B');
  t.is(state.incarnations.get('r1/0')?.id, 'B');
  t.is(state.servers.view().find((m) => m.id === 'r1/0')?.incarnation, 1);
});

// A life that died at once, whose heartbeat came after the next life's (found 2026-12-03 by
// `meridian check --time-limit 900 --from 820000 --shape random --nemesis swarm --mode passive
// --txn-share 0.2`: seed 821690 of 6,665, 2 regions of one server, factor 1, not live in the
// catch-up phase). r1/0 restarted and lost power at once at 3,999 ms and restarted at 4,099;
// under a reorder fault the heartbeat of the 0 ms life came 160 ms late. The region actor took
// it for the newest life and dropped every later heartbeat of the running one as stale: r1/0
// was down in its digests for good, so balancer/r2, once r2/0 went down, had no server to send
// r2's calls to. Lives have ids with no order: a late id not seen before counts as a restart,
// and a heartbeat of any life seen counts as a heartbeat.
test('region: a heartbeat of a life that died at once, late past the next life, neither hides the running one nor counts twice', (t) => {
  const { clock, ctx, params, hb } = regionOfOne();
  const state = regionBehavior.init(ctx, params, []);
  const view = (): { state: string; incarnation: number } => {
    regionBehavior.receive(state, { type: 'timer', key: 'tick' }, ctx);
    const m = state.servers.view().find((v) => v.id === 'r1/0')!;
    return { state: m.state, incarnation: m.incarnation };
  };
  for (let i = 1; i <= 10; i++) {
    clock.now += 100;
    regionBehavior.receive(state, hb('A', i), ctx);
  }
  // A dies; B starts and dies at once (its one heartbeat is held by the network); C runs.
  clock.now += 300;
  regionBehavior.receive(state, hb('C', 1), ctx);
  clock.now += 60;
  regionBehavior.receive(state, hb('B', 1), ctx);
  for (let i = 2; i <= 40; i++) {
    clock.now += 100;
    regionBehavior.receive(state, hb('C', i), ctx);
    if (i % 5 === 0) t.is(view().state, 'up', `C beats at ${clock.now} ms`);
  }
  regionBehavior.receive(state, hb('A', 11), ctx); // and a very late one of A: nothing new
  t.deepEqual(view(), { state: 'up', incarnation: 2 }, 'two restarts seen (B and C), the running life up');
});

// Copies and late heartbeats of a life (found by an audit, session 55: a 1 x 3 cluster with
// `network: { duplicate: 0.3, duplicateDelayMs: 3000 }`, r1/1 crashed for good). The region
// actor counted every copy: a copy that came after r1/1 was convicted took it back up
// ('rejoined'), 19 changes of its state in 5 s, and copies taken as samples widened the
// detector's spread, so it was convicted later. Now a heartbeat whose seq is not above the
// highest seen of its life is dropped; a restart (a new life, numbered from 1 again) still
// comes back up.
test('region: a copy or a late heartbeat of a life counts neither as a sample nor as a rejoin; a restart does', (t) => {
  const region = regionOfOne();
  const { ctx, hb } = region;
  const copied = copiesThenLateBeats(t, region, region.params, hb, {
    noun: 'heartbeat',
    phi: (s, now) => s.servers.phi('r1/0', now),
    stale: (s) => s.stale,
    state: (s) => s.servers.state('r1/0')!,
  });
  t.deepEqual(copied.servers.view(), [{ id: 'r1/0', state: 'up', incarnation: 1 }], 'the restart is up');
  regionBehavior.receive(copied, hb('A', 21), ctx); // a heartbeat of the old life not seen before still counts (lives have no order)
  for (let seq = 2; seq <= 5; seq++) {
    region.clock.now += 100;
    regionBehavior.receive(copied, hb('B', seq), ctx);
    regionBehavior.receive(copied, { type: 'timer', key: 'tick' }, ctx);
    t.is(copied.servers.state('r1/0'), 'up');
  }
  t.is(copied.servers.view()[0]!.incarnation, 1, 'one restart');
});

// The same at the balancer, for region digests (found by the same audit): it applied every
// digest, a copy or one overtaken by a later one too, over the current states. A late digest
// from before a crash was detected took the crashed server back up, and, as a 'down' then 'up',
// took its crash mark off for good (no probe since): it was routed to until the next digest,
// and again at each late copy. Now a digest whose seq is not above the highest seen of its
// region actor's life is dropped; one from a restarted region actor (seq from 1) is not.
test('balancer: a copy or an overtaken digest changes nothing; a digest of a restarted region actor counts', (t) => {
  const events: string[] = [];
  const { ctx, sent, world } = recordingContext<{ type: string }>(
    'balancer/r1',
    { sender: 'r1' },
    {
      publish: (_topic, data) => {
        const e = data as { id: string; previous: string; state: string };
        events.push(`${e.id} ${e.previous}->${e.state}`);
      },
    },
  );
  const probes = (): string[] => sent.filter((s) => s.msg.type === 'probe').map((s) => s.to);
  const params: BalancerParams = {
    region: 'r1',
    priority: ['r1'],
    regions: ['r1'],
    servers: { r1: ['r1/0', 'r1/1'] },
    balancer: validateBalancerConfig({}),
    heartbeatIntervalMs: 100,
    requestTimeoutMs: 1_000,
    publishMembers: true,
  };
  const state = balancerBehavior.init(ctx, params, []);
  const load = { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 };
  const digest = (seq: number, r11: MemberState, incarnation = 'A'): Digest => ({
    type: 'digest',
    region: 'r1',
    seq,
    incarnation,
    version: seq,
    members: [
      { id: 'r1/0', state: 'up', load },
      { id: 'r1/1', state: r11, load },
    ],
  });
  const deliver = (d: Digest): void => {
    world.now += 100;
    balancerBehavior.receive(state, d, ctx);
  };
  const r11 = (): { state: MemberState; crashed: boolean } => {
    const m = state.members.get('r1/1')!;
    return { state: m.state, crashed: m.crashed };
  };
  // r1/1 crashes after digest 2: the runtime's notice, then the region actor's verdicts.
  deliver(digest(1, 'up'));
  deliver(digest(2, 'up'));
  balancerBehavior.receive(state, { type: 'sys', event: 'node-crashed', node: 'r1/1', incarnation: 0 }, ctx);
  deliver(digest(3, 'suspect'));
  deliver(digest(4, 'down'));
  deliver(digest(5, 'down'));
  t.deepEqual(r11(), { state: 'down', crashed: true });
  // Copies and overtaken digests, some from before the crash.
  for (const late of [digest(2, 'up'), digest(5, 'down'), digest(1, 'up'), digest(3, 'suspect'), digest(2, 'up')]) {
    deliver(late);
    t.deepEqual(r11(), { state: 'down', crashed: true }, `after a late digest ${late.seq}`);
  }
  t.is(state.staleDigests, 5);
  t.deepEqual(events, ['r1/1 up->suspect', 'r1/1 suspect->down']);
  // The region actor restarts (its supervisor): its digests are numbered from 1 again.
  deliver(digest(1, 'down', 'B'));
  deliver(digest(2, 'up', 'B'));
  // r1/1 beats again, the new life of the region actor says: a restart, or a beat of an old
  // life delivered late (lives have no order). The crash mark stays until a probe is answered.
  t.deepEqual(r11(), { state: 'up', crashed: true }, 'r1/1 beats again: still held crashed');
  t.deepEqual(probes(), ['r1/1'], 'probed at once');
  world.sender = 'r1/1';
  balancerBehavior.receive(state, { type: 'probe-ack', at: world.now }, ctx);
  world.sender = 'r1';
  t.deepEqual(r11(), { state: 'up', crashed: false }, 'r1/1 answered the probe: it runs');
  deliver(digest(6, 'down', 'A')); // a digest of the old life, not seen before: lives have no order, it counts
  deliver(digest(3, 'up', 'B'));
  t.is(r11().state, 'up');
  deliver(digest(2, 'down', 'B')); // overtaken
  t.is(r11().state, 'up');
  t.is(state.staleDigests, 6);
});

// A heartbeat of a dead life, delivered late, took a crash mark off for good (found by an
// audit, session 56). r1/1 crashed and its region actor convicted it; then a heartbeat came of
// a life the region actor had not seen (the crashed one's, or one that died at once, held by a
// reorder fault): lives have no order, so it took that for a restart, and its digest said
// 'down' then 'up'. The balancer took the 'up' for a restart whose notice was lost and cleared
// the crash mark: it routed to a dead server until the region actor convicted it again, and
// the mark stayed off after that. Now such a digest only probes the server (balancer.ts onDigest).
test('balancer: a digest that shows a crashed server down then up (a late heartbeat of a dead life) leaves its crash mark; a probe asks', (t) => {
  const { ctx, sent, world } = recordingContext<{ type: string }>('balancer/r1', { sender: 'r1' });
  const params: BalancerParams = {
    region: 'r1',
    priority: ['r1'],
    regions: ['r1'],
    servers: { r1: ['r1/0', 'r1/1'] },
    balancer: validateBalancerConfig({ strategy: 'round-robin' }),
    heartbeatIntervalMs: 100,
    requestTimeoutMs: 1_000,
    publishMembers: false,
  };
  const state = balancerBehavior.init(ctx, params, []);
  const load = { inflight: 0, mailbox: 0, latencyEwmaMs: 0, busyMs: 0, requests: 0 };
  let seq = 0;
  const deliver = (r11: MemberState): void => {
    world.now += 100;
    world.sender = 'r1';
    balancerBehavior.receive(
      state,
      {
        type: 'digest',
        region: 'r1',
        seq: ++seq,
        incarnation: 'A',
        version: seq,
        members: [
          { id: 'r1/0', state: 'up', load },
          { id: 'r1/1', state: r11, load },
        ],
      } satisfies Digest,
      ctx,
    );
  };
  let rid = 0;
  /** Where 10 local reads of a client go. */
  const routed = (): string[] => {
    const before = sent.length;
    world.sender = 'client/1';
    for (let i = 0; i < 10; i++) balancerBehavior.receive(state, { type: 'req', rid: ++rid, body: { op: 'get', key: `k${rid}`, consistency: 'local' } }, ctx);
    return sent
      .slice(before)
      .filter((s) => s.msg.type === 'req')
      .map((s) => s.to);
  };
  deliver('up');
  t.true(routed().includes('r1/1'));
  balancerBehavior.receive(state, { type: 'sys', event: 'node-crashed', node: 'r1/1', incarnation: 0 }, ctx);
  deliver('suspect');
  deliver('down');
  const crashed = (): boolean => state.members.get('r1/1')!.crashed;
  t.true(crashed());
  // The late heartbeat: up in one digest, convicted again in a later one.
  const probesBefore = sent.filter((s) => s.msg.type === 'probe').length;
  deliver('up');
  t.true(crashed(), "still held crashed: the beat may be an old life's");
  t.deepEqual(routed(), Array(10).fill('r1/0'), 'nothing routed to it');
  t.deepEqual(
    sent
      .filter((s) => s.msg.type === 'probe')
      .slice(probesBefore)
      .map((s) => s.to),
    ['r1/1'],
    'it is probed at once',
  );
  deliver('suspect');
  deliver('down');
  t.true(crashed(), 'no probe answered: still held crashed');
  // A probe sent before the crash notice, answered late, says nothing; one sent after does.
  world.sender = 'r1/1';
  balancerBehavior.receive(state, { type: 'probe-ack', at: 50 }, ctx);
  t.true(crashed());
  balancerBehavior.receive(state, { type: 'probe-ack', at: world.now }, ctx);
  t.false(crashed(), 'a life running after the crash answered');
});

// The same for the beats between region actors (`rhb`; left open by session 55's audit):
// counted however late, a copy took a peer region back up after its region actor stopped, and
// copies taken as samples changed the detector's spread. Now they are dropped as a server's
// heartbeats are.
test('region: a copy or a late beat of a peer region actor counts neither as a sample nor as a rejoin; a restart does', (t) => {
  const region = regionOfOne();
  const rhb = (incarnation: string, seq: number): RegionBeat => ({ type: 'rhb', region: 'r2', seq, incarnation });
  const copied = copiesThenLateBeats(t, region, { ...region.params, regions: ['r1', 'r2'] }, rhb, {
    noun: 'beat',
    phi: (s, now) => s.peers.phi('r2', now),
    stale: (s) => s.staleBeats,
    state: (s) => s.peers.state('r2')!,
  });
  t.is(copied.peers.state('r2'), 'up', 'the restart is up');
  t.is(copied.staleBeats, 25);
});

// A lost restart notice (found 2026-12-03 by `meridian check --time-limit 900 --from 720000
// --shape random --nemesis swarm --txn-share 0.2 --mode hybrid`: seeds 720559 and 722455 of
// 2576, 2 regions of one server, factor 1, not live in the catch-up phase). r1/0, the shard's
// only replica, crashed at 3,574 ms and restarted as the fault phase ended at 4,000 ms, while
// the network still lost 6% of messages: the restart notice never reached balancer/r1, and the
// failure detector had not seen r1/0 down (426 ms), so the digests never showed it down and up
// again. balancer/r1 kept r1/0 marked crashed: it sent its region's calls to r2/0, which
// forwarded them to r1/0, until the catch-up phase took r2/0 down ("no server available in
// region r1"). Now an answer from a server marked crashed, to a request the balancer sent after
// the crash notice came, marks it running again (only a later incarnation can have taken it).
for (const { seed, shards } of [
  { seed: 722455, shards: 1 },
  { seed: 720559, shards: 5 },
]) {
  test(`seed ${seed} (2 regions of one server, factor 1, hybrid, swarm, a lost restart notice) is live through the catch-up phase`, async (t) => {
    const r = await runPinnedSeed(t, { seed, mode: 'hybrid', schedule: 'swarm', txnShare: 0.2, regions: 2, servers: 1, factor: 1, shards });
    t.true(r.live, r.failures.join('; '));
    t.is(r.outcome, 'pass', r.failures.join('; '));
  });
}

// A lost restart notice at a server that shares no Paxos group with the node (found
// 2026-12-03 with the convergence check's new look at refused local reads, `meridian check
// --seeds 60 --regions 2 --servers 1 --factor 1 --nemesis swarm`: seeds 36 and 49 failed with
// the server-ignores-probe-acks mutant of scripts/mutants.mjs, which refuses as the code before
// the fix did). r2/0 missed r1/0's restart notice; it hears from r1/0 no other way (factor 1),
// so it refused every local read of r1/0's shards for good: "every replica of shard 0 is
// down". Now the refused read probes r1/0, and its answer takes it back (server.ts probeDown).
// The same, in a region of three servers (seed 823270 of the passive random-shape swarm run
// that found 821690 above: 4 regions of 3 servers, factor 1): a local read refused at a server
// probed the copies, but the next read went to another server of the region, which had missed
// the notice too, and so did the third; every convergence round was refused. Servers now probe
// the nodes they have held dead for a second, every second (server.ts onProbeTimer).
for (const { seed, shape } of [
  { seed: 821690, shape: { regions: 2, servers: 1, factor: 1, shards: 1 } },
  { seed: 823270, shape: { regions: 4, servers: 3, factor: 1, shards: 8 } },
  { seed: 825844, shape: { regions: 3, servers: 3, factor: 1, shards: 4 } },
]) {
  test(`seed ${seed} (passive, ${shape.regions} regions of ${shape.servers}, factor 1, swarm, txn share 0.2) is live and answers reads after healing`, async (t) => {
    const r = await runPinnedSeed(t, { seed, mode: 'passive', schedule: 'swarm', txnShare: 0.2, ...shape });
    t.true(r.live, r.failures.join('; '));
    t.is(r.outcome, 'pass', r.failures.join('; '));
  });
}

// A balancer that held both servers of a 2 x 1 cluster crashed for good (found 2026-12-03 by
// `meridian check --time-limit 900 --from 850000 --shape random --nemesis swarm --mode passive
// --txn-share 0.2`: seed 854828 of 5,014, not live after healing). A restart storm under 5%
// loss: both balancers missed restart notices of both servers, which came back quicker than
// the failure detector (no down-then-up in the digests) and had no request to answer (none
// was routed to them), so every call was refused: "no server available in region r1". Now a
// balancer probes each server it has held crashed for a second (balancer.ts onProbeAck).
test('seed 854828 (passive, 2 regions of one server, factor 2, swarm, txn share 0.2) is live after healing', async (t) => {
  const r = await runPinnedSeed(t, { seed: 854828, mode: 'passive', schedule: 'swarm', txnShare: 0.2, regions: 2, servers: 1, factor: 2, shards: 6 });
  t.true(r.live, r.failures.join('; '));
  t.is(r.outcome, 'pass', r.failures.join('; '));
});

// Seed 36 only: with the mutant put back (2026-12-07) it still fails ("local read refused (every
// replica of shard 0 is down)"), seed 49 passes, so 49 no longer showed the fix.
test('seed 36 (2 regions of one server, factor 1, swarm): local reads are answered after healing', async (t) => {
  const r = await runPinnedSeed(t, { seed: 36, mode: 'active', schedule: 'swarm', regions: 2, servers: 1, factor: 1 });
  t.true(r.live, r.failures.join('; '));
  t.is(r.outcome, 'pass', r.failures.join('; '));
});
