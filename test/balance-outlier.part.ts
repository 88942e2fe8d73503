import test from 'ava';
import {
  DEFAULT_BASE_EJECTION_TIME_MS,
  DEFAULT_CONSECUTIVE_FAILURES,
  DEFAULT_EJECTION_DECAY_MS,
  OutlierDetector,
  type OutlierEvent,
} from '../src/balance/outlier.js';

function fail(detector: OutlierDetector, id: string, times: number, nowMs: number): OutlierEvent[] {
  const events: OutlierEvent[] = [];
  for (let i = 0; i < times; i++) events.push(...detector.onResult(id, false, nowMs));
  return events;
}

test('outlier: consecutive failures eject for the base time; a success resets the streak', (t) => {
  const detector = new OutlierDetector();
  detector.setServers(['a', 'b', 'c', 'd']);
  t.deepEqual(fail(detector, 'a', DEFAULT_CONSECUTIVE_FAILURES - 1, 0), []);
  t.deepEqual(detector.onResult('a', true, 0), []);
  t.deepEqual(fail(detector, 'a', DEFAULT_CONSECUTIVE_FAILURES - 1, 0), []);
  t.deepEqual(detector.onResult('a', false, 1000), [{ type: 'ejected', id: 'a', untilMs: 1000 + DEFAULT_BASE_EJECTION_TIME_MS, ejections: 1 }]);
  t.true(detector.isEjected('a'));
  // Late results of requests sent before the ejection do not count.
  t.deepEqual(fail(detector, 'a', 20, 2000), []);
  t.deepEqual(detector.tick(1000 + DEFAULT_BASE_EJECTION_TIME_MS - 1), []);
  t.deepEqual(detector.tick(1000 + DEFAULT_BASE_EJECTION_TIME_MS), [{ type: 'returned', id: 'a', atMs: 1000 + DEFAULT_BASE_EJECTION_TIME_MS }]);
  t.false(detector.isEjected('a'));
});

test('outlier: each ejection lasts base x times ejected, capped at the maximum', (t) => {
  const detector = new OutlierDetector({ baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000 });
  detector.setServers(['a', 'b']);
  let nowMs = 0;
  const durations: number[] = [];
  for (let round = 0; round < 4; round++) {
    const [event] = fail(detector, 'a', DEFAULT_CONSECUTIVE_FAILURES, nowMs);
    t.is(event?.type, 'ejected');
    if (event?.type !== 'ejected') return;
    durations.push(event.untilMs - nowMs);
    nowMs = event.untilMs;
    detector.tick(nowMs);
  }
  t.deepEqual(durations, [10_000, 20_000, 25_000, 25_000]);
});

test('outlier: the ejection count decays while a server stays in', (t) => {
  const detector = new OutlierDetector();
  detector.setServers(['a', 'b']);
  fail(detector, 'a', 5, 0);
  detector.tick(DEFAULT_BASE_EJECTION_TIME_MS);
  fail(detector, 'a', 5, DEFAULT_BASE_EJECTION_TIME_MS);
  const back = 3 * DEFAULT_BASE_EJECTION_TIME_MS;
  t.deepEqual(detector.tick(back), [{ type: 'returned', id: 'a', atMs: back }]);
  t.is(detector.ejections('a', back), 2);
  t.is(detector.ejections('a', back + DEFAULT_EJECTION_DECAY_MS - 1), 2);
  t.is(detector.ejections('a', back + DEFAULT_EJECTION_DECAY_MS), 1);
  const [event] = fail(detector, 'a', 5, back + 5 * DEFAULT_EJECTION_DECAY_MS);
  // Fully decayed: the next ejection is a first one again.
  t.like(event, { type: 'ejected', ejections: 1 });
});

test('outlier: never more than maxEjectionPercent out at once', (t) => {
  const detector = new OutlierDetector({ maxEjectionPercent: 50 });
  detector.setServers(['a', 'b', 'c', 'd', 'e']);
  t.like(fail(detector, 'a', 5, 0)[0], { type: 'ejected' });
  t.like(fail(detector, 'b', 5, 0)[0], { type: 'ejected' });
  // A third of five would be 60%.
  t.deepEqual(fail(detector, 'c', 5, 0), [{ type: 'ejection-capped', id: 'c', ejected: 2 }]);
  t.deepEqual(detector.ejected(), ['a', 'b']);
  // Once a server returns, c's streak is still on: its next failure ejects it.
  const events = detector.onResult('c', false, DEFAULT_BASE_EJECTION_TIME_MS);
  t.deepEqual(
    events.map((e) => `${e.type} ${e.id}`),
    ['returned a', 'returned b', 'ejected c'],
  );
  // Removing a server from the set frees its place.
  detector.setServers(['a', 'b', 'd', 'e']);
  t.deepEqual(detector.ejected(), []);
});

test('outlier: a lone server is never ejected at 50%', (t) => {
  const detector = new OutlierDetector();
  detector.setServers(['only']);
  t.deepEqual(
    fail(detector, 'only', 5, 0).map((e) => e.type),
    ['ejection-capped'],
  );
  t.false(detector.isEjected('only'));
});
