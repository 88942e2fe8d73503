/**
 * Reach: how a server tells that a node it forwards to is slow (a gray failure: it runs, so no
 * crash notice comes, but hears late, not at all, or its answers are lost).
 */
import test from 'ava';
import { Reach, REACH_PROBE_EVERY_MS, REACH_SLOW_MS } from '../src/cluster/server-load.js';

test('a node is probed at most every REACH_PROBE_EVERY_MS', (t) => {
  const r = new Reach();
  t.true(r.probeDue('a', 0));
  t.false(r.probeDue('a', REACH_PROBE_EVERY_MS - 1));
  t.true(r.probeDue('b', 1), 'each node on its own');
  t.true(r.probeDue('a', REACH_PROBE_EVERY_MS));
});

test('a node whose probe is unanswered for REACH_SLOW_MS is slow, and fast again once a probe is answered in time', (t) => {
  const r = new Reach();
  t.false(r.slow('a', 0), 'never probed: not slow');
  r.probeDue('a', 0);
  t.false(r.slow('a', REACH_SLOW_MS - 1));
  t.true(r.slow('a', REACH_SLOW_MS));
  // Later probes do not move the oldest unanswered one.
  r.probeDue('a', REACH_SLOW_MS);
  t.true(r.slow('a', REACH_SLOW_MS + 1));
  const at = 2 * REACH_SLOW_MS;
  r.probeDue('a', at);
  r.answered('a', at, at + 10);
  t.false(r.slow('a', at + 10), 'the newest probe came back in 10 ms');
  t.false(r.slow('a', at + 10 * REACH_SLOW_MS), 'and nothing is pending');
});

test('an answer that took REACH_SLOW_MS or longer keeps the node slow, even with nothing pending', (t) => {
  const r = new Reach();
  r.probeDue('a', 0);
  r.answered('a', 0, REACH_SLOW_MS);
  t.true(r.slow('a', REACH_SLOW_MS));
  t.true(r.slow('a', 100 * REACH_SLOW_MS));
  r.probeDue('a', 100 * REACH_SLOW_MS);
  r.answered('a', 100 * REACH_SLOW_MS, 100 * REACH_SLOW_MS + 1);
  t.false(r.slow('a', 100 * REACH_SLOW_MS + 1));
});

test('an older answer after a newer one changes nothing; probes sent after an answered one stay pending', (t) => {
  const r = new Reach();
  r.probeDue('a', 0);
  r.probeDue('a', REACH_PROBE_EVERY_MS);
  r.answered('a', 0, 10);
  t.false(r.slow('a', REACH_PROBE_EVERY_MS + REACH_SLOW_MS - 1));
  t.true(r.slow('a', REACH_PROBE_EVERY_MS + REACH_SLOW_MS), 'the probe sent at REACH_PROBE_EVERY_MS is still unanswered');
  r.answered('a', REACH_PROBE_EVERY_MS, REACH_PROBE_EVERY_MS + REACH_SLOW_MS + 5);
  t.true(r.slow('a', REACH_PROBE_EVERY_MS + REACH_SLOW_MS + 5), 'answered, but REACH_SLOW_MS + 5 late');
  r.answered('a', 0, 10_000);
  t.true(r.slow('a', 10_000), 'a stale answer does not clear it');
});

test('an answer from a node never probed, and forget, leave nothing behind', (t) => {
  const r = new Reach();
  r.answered('a', 0, 5_000);
  t.false(r.slow('a', 5_000));
  r.probeDue('a', 0);
  t.true(r.slow('a', REACH_SLOW_MS));
  r.forget('a');
  t.false(r.slow('a', REACH_SLOW_MS));
  t.true(r.probeDue('a', REACH_SLOW_MS), 'probed afresh');
});

test('unheard: a node never heard from whose first probe is afterMs old is down as far as the server can tell; one answer, or forget, ends it', (t) => {
  const r = new Reach();
  t.false(r.unheard('a', 10_000, 600), 'never probed: no word either way');
  r.probeDue('a', 0);
  r.probeDue('a', REACH_PROBE_EVERY_MS);
  t.false(r.unheard('a', 599, 600));
  t.true(r.unheard('a', 600, 600), 'counted from the first probe, not the latest');
  r.answered('a', REACH_PROBE_EVERY_MS, 700);
  t.false(r.unheard('a', 700, 600));
  // Heard from once: quiet since is slow, not unheard (a crash of it comes with a notice).
  r.probeDue('a', 1_000);
  t.true(r.slow('a', 10_000));
  t.false(r.unheard('a', 10_000, 600));
  r.forget('a');
  r.probeDue('a', 20_000);
  t.true(r.unheard('a', 20_600, 600), 'a new life after a notice is unheard until it answers');
});
