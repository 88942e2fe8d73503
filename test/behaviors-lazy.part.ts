import test from 'ava';
import { behaviors } from '../src/cluster/behaviors.js';
import { behaviorModules } from '../src/cluster/behaviors-lazy.js';
import { importBehaviors } from '../src/runtime/transports/behaviors-module.js';

// Worker hosts load behaviors-lazy.ts, the calling thread and the simulator behaviors.ts:
// both must offer the same behaviours.
const LAZY = new URL('../src/cluster/behaviors-lazy.js', import.meta.url).href;

test('behaviors-lazy names every behaviour of behaviors.ts, and loads the same objects', async (t) => {
  t.deepEqual(Object.keys(behaviorModules).sort(), [...behaviors.keys()].sort());
  const loaded = await importBehaviors(LAZY, [...behaviors.keys()]);
  for (const [name, behavior] of behaviors) t.is(loaded.get(name), behavior, name);
});

test('importBehaviors loads only the behaviours named, and leaves out unknown names', async (t) => {
  const loaded = await importBehaviors(LAZY, ['server', 'heartbeat', 'server', 'no-such']);
  t.deepEqual([...loaded.keys()].sort(), ['heartbeat', 'server']);
});

test('importBehaviors takes either export: behaviorModules, or the behaviors map', async (t) => {
  const all = await importBehaviors(new URL('../src/cluster/behaviors.js', import.meta.url).href, ['region']);
  t.is(all, behaviors);
  await t.throwsAsync(importBehaviors(new URL('../src/core/limits.js', import.meta.url).href, []), { message: /neither behaviors nor behaviorModules/ });
});
