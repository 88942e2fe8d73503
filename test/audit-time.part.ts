import test from 'ava';
import { deadNodeWithLateWord } from './helpers/late-word.js';

// A server takes a word from a node it holds dead as proof of life only if it came
// PROOF_OF_LIFE_AFTER_MS after the crash notice: one that was on its way when the node died
// comes within the network's delay. It measured the time at which it handled the word, not the
// time it came: a server paused right after the notice handled, at its resume 1.5 s later, a
// Paxos message the dead node had sent before it died (come 100 ms after the notice), took
// the dead node back up, and kept it up (no notice was to come).
test('sim: a pause does not make a dead node’s late message a proof of life', async (t) => {
  const { c, deliverLate, heldDead } = await deadNodeWithLateWord(t);
  try {
    await c.pause('r1/0');
    deliverLate();
    await c.sleep(1_500);
    await c.resume('r1/0');
    await c.sleep(50);
    t.deepEqual(await heldDead('r1/0'), ['r1/1'], 'a message of the dead life, come about 100 ms after the notice, handled after a pause');
  } finally {
    await c.stop();
  }
});
