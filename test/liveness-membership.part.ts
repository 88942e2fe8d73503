import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { Membership, type MembershipChange } from '../src/liveness/membership.js';
import { StallDetector } from '../src/liveness/stall.js';
import { normal, testSeed } from './balance-stats.js';

const INTERVAL_MS = 100;

function member(options: ConstructorParameters<typeof Membership>[0] = {}): Membership {
  return new Membership({ detector: { firstHeartbeatEstimateMs: INTERVAL_MS }, ...options });
}

/** Heartbeats from `ids` every interval from `fromMs` to `toMs`, with an evaluation after each round. */
function steady(view: Membership, ids: readonly string[], fromMs: number, toMs: number): MembershipChange[] {
  const changes: MembershipChange[] = [];
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += INTERVAL_MS) {
    for (const id of ids) changes.push(...view.heartbeat(id, nowMs));
    changes.push(...view.evaluate(nowMs));
  }
  return changes;
}

test('membership: join, suspect, convict, each change with the next version', (t) => {
  const view = member();
  t.deepEqual(view.add('a', 0), [{ id: 'a', from: 'absent', to: 'up', reason: 'joined', incarnation: 0, version: 1 }]);
  view.add('b', 0);
  t.deepEqual(steady(view, ['a', 'b'], 100, 5000), []);
  // b falls silent; evaluate every 10 ms until it is down.
  const changes: MembershipChange[] = [];
  for (let nowMs = 5010; nowMs <= 7000; nowMs += 10) {
    changes.push(...view.heartbeat('a', nowMs - (nowMs % INTERVAL_MS)));
    changes.push(...view.evaluate(nowMs));
  }
  t.deepEqual(
    changes.map(({ id, from, to, reason, version }) => ({ id, from, to, reason, version })),
    [
      { id: 'b', from: 'up', to: 'suspect', reason: 'suspected', version: 3 },
      { id: 'b', from: 'suspect', to: 'down', reason: 'convicted', version: 4 },
    ],
  );
  t.is(view.version, 4);
  t.deepEqual(view.view(), [
    { id: 'a', state: 'up', incarnation: 0 },
    { id: 'b', state: 'down', incarnation: 0 },
  ]);
});

test('membership: suspect thresholds default to half of the down threshold', (t) => {
  const view = member({ detector: { threshold: 10, firstHeartbeatEstimateMs: INTERVAL_MS } });
  t.is(view.downThreshold, 10);
  t.is(view.suspectThreshold, 5);
  t.is(member({ suspectThreshold: 3 }).suspectThreshold, 3);
});

test('membership: a suspect that heartbeats again recovers', (t) => {
  const view = member();
  view.add('a', 0);
  steady(view, ['a'], 100, 3000);
  // Find a silence long enough for suspicion but short of conviction.
  let nowMs = 3000;
  let changes: MembershipChange[] = [];
  while (changes.length === 0) changes = view.evaluate((nowMs += 10));
  t.like(changes[0], { from: 'up', to: 'suspect' });
  t.true(view.phi('a', nowMs) < view.downThreshold);
  t.deepEqual(view.heartbeat('a', nowMs), []);
  t.like(view.evaluate(nowMs + 1), [{ from: 'suspect', to: 'up', reason: 'recovered' }]);
});

test('membership: a downed node rejoins with the next incarnation when it heartbeats', (t) => {
  const view = member();
  view.add('a', 0);
  steady(view, ['a'], 100, 2000);
  const downs = view.evaluate(12_000);
  t.like(downs, [{ id: 'a', from: 'up', to: 'down', reason: 'convicted' }]);
  // Down is sticky: no evaluation brings it back.
  t.deepEqual(view.evaluate(12_100), []);
  const rejoin = view.heartbeat('a', 12_200);
  t.deepEqual(rejoin, [{ id: 'a', from: 'down', to: 'up', reason: 'rejoined', incarnation: 1, version: 3 }]);
  t.deepEqual(steady(view, ['a'], 12_300, 15_000), []);
});

test('membership: incarnations sent by the node mark restarts; stale ones are ignored', (t) => {
  const view = member();
  view.add('a', 0, 4);
  steady(view, ['a'], 100, 1000);
  t.deepEqual(view.heartbeat('a', 1050, 3), [], 'a message from a previous life');
  // Restarted quickly, never seen down: still a change, the old process's state is gone.
  t.deepEqual(view.heartbeat('a', 1100, 5), [{ id: 'a', from: 'up', to: 'up', reason: 'restarted', incarnation: 5, version: 2 }]);
  view.evaluate(20_000);
  t.is(view.state('a'), 'down');
  // Same incarnation after being down: it was cut off, not restarted.
  t.like(view.heartbeat('a', 20_100, 5), [{ from: 'down', to: 'up', reason: 'rejoined', incarnation: 5 }]);
});

test('membership: a node that never heartbeats is convicted; unknown senders join; remove', (t) => {
  const view = member();
  view.add('silent', 0);
  t.like(view.evaluate(5000), [{ id: 'silent', to: 'down' }]);
  t.like(view.heartbeat('new', 5000), [{ id: 'new', from: 'absent', to: 'up', reason: 'joined' }]);
  t.like(view.remove('new'), [{ id: 'new', from: 'up', to: 'absent', reason: 'removed' }]);
  t.deepEqual(view.remove('new'), []);
  t.is(view.state('new'), undefined);
});

test('stall detector: a gap over factor x interval is a stall of gap - interval', (t) => {
  const stall = new StallDetector({ intervalMs: 100 });
  t.is(stall.observe(0), 0);
  t.is(stall.observe(100), 0);
  t.is(stall.observe(400), 0, 'three intervals is late, not stalled');
  t.is(stall.observe(3400), 2900);
  t.is(stall.totalStalledMs, 2900);
  t.is(stall.stalls, 1);
});

interface TimelineEvent {
  atMs: number;
  kind: 'check' | 'heartbeat';
  id: string;
}

/**
 * Five nodes heartbeat every 100 ms with jitter; the monitor checks every 100 ms. From
 * 10 s to 13 s the monitor's own event loop is stalled: nothing runs, heartbeats queue up and
 * are handled at 13 s, after the check that runs first when the loop wakes up (the worst
 * order). Node 'e' crashes for real at 11 s, during the stall.
 */
function stallScenario(seed: number, discount: boolean): { changes: MembershipChange[]; view: Membership } {
  const prng = new Prng(seed);
  const stallFromMs = 10_000;
  const stallToMs = 13_000;
  const endMs = 20_000;
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const events: TimelineEvent[] = [];
  for (const id of ids) {
    const stopMs = id === 'e' ? 11_000 : endMs;
    for (let sentMs = prng.next() * 100; sentMs < stopMs; sentMs += Math.max(1, 100 + 10 * normal(prng))) {
      events.push({ atMs: sentMs, kind: 'heartbeat', id });
    }
  }
  for (let atMs = 0; atMs <= endMs; atMs += INTERVAL_MS) events.push({ atMs, kind: 'check', id: '' });
  const timeline = events
    .filter((e) => !(e.kind === 'check' && e.atMs > stallFromMs && e.atMs < stallToMs))
    .map((e) => (e.atMs > stallFromMs && e.atMs < stallToMs ? { ...e, atMs: stallToMs } : e))
    .sort((x, y) => x.atMs - y.atMs || (x.kind === y.kind ? 0 : x.kind === 'check' ? -1 : 1));
  const view = discount ? member({ checkIntervalMs: INTERVAL_MS }) : member();
  for (const id of ids) view.add(id, 0);
  const changes: MembershipChange[] = [];
  for (const event of timeline) {
    changes.push(...(event.kind === 'check' ? view.evaluate(event.atMs) : view.heartbeat(event.id, event.atMs)));
  }
  return { changes, view };
}

test('membership: a stall of the monitor itself convicts nobody when discounted', (t) => {
  const seed = testSeed(601);
  t.log(`seed ${seed}`);
  const undiscounted = stallScenario(seed, false);
  // 'e' is convicted twice there: its queued heartbeats bring it back once after the stall.
  const convictedWithout = [...new Set(undiscounted.changes.filter((c) => c.to === 'down').map((c) => c.id))];
  t.log(`without discounting, convicted: ${convictedWithout.join(' ')}`);
  t.deepEqual(convictedWithout, ['a', 'b', 'c', 'd', 'e'], 'the stall would convict every node');

  const { changes, view } = stallScenario(seed, true);
  t.log(`with discounting: ${changes.map((c) => `${c.id} ${c.from}->${c.to}`).join(', ')}; discounted ${view.discountedStallMs} ms`);
  t.deepEqual(
    changes.filter((c) => c.id !== 'e'),
    [],
    'no live node changes state',
  );
  t.is(view.state('e'), 'down', 'the node that really crashed during the stall is still convicted');
  t.true(view.discountedStallMs >= 2900);
});
