/**
 * The sweep behind the randomized core tests' mutant checks: a run that throws a failed
 * invariant (`assert`) is a caught bug, one that throws anything else is a broken test.
 */
import test from 'ava';
import { sweep } from './helpers/core-mutant.js';
import { assert } from '../src/core/assert.js';

test('sweep: an assertion thrown by a run fails the seed; any other throw is listed as the harness breaking', (t) => {
  const run = (seed: number): { problems: string[] } => {
    if (seed === 1) assert(false, 'two values chosen');
    if (seed === 2) return { problems: ['lost a write'] };
    if (seed === 3) (undefined as unknown as { x: number }).x++;
    return { problems: [] };
  };
  const r = sweep(run, 1, 4);
  t.deepEqual(r.failedSeeds, [1, 2, 3]);
  t.is(r.ran, 4);
  t.is(r.harnessThrows.length, 1);
  t.regex(r.harnessThrows[0]!, /^seed 3: TypeError: /);
});

test('sweep: stops at the seed that makes `enough` failed', (t) => {
  const r = sweep(() => ({ problems: ['x'] }), 10, 50, 3);
  t.deepEqual(r.failedSeeds, [10, 11, 12]);
  t.is(r.ran, 3);
});
