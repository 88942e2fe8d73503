import test from 'ava';
import { main } from '../src/cli/check.js';

/**
 * A run's `live` covers the catch-up phase too: a seed whose catch-up put could not finish
 * with one server down printed `verdict: FAILED: linearizable, live` under its own "not live"
 * failure (found by an audit, session 58). Seed 2 of `--shape random --unsafe
 * checkpoint-drops-tail` is such a seed (its healed clients finish; the catch-up phase does not).
 */
test('check --seed: a catch-up phase that could not finish makes the verdict line say "not live"', async (t) => {
  const args = ['--seed', '2', '--shape', 'random', '--unsafe', 'checkpoint-drops-tail'];
  t.log(`meridian check ${args.join(' ')}`);
  const lines: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  t.is(code, 1, lines.join('\n'));
  t.true(lines.includes('not live (a put of the catch-up phase could not finish with one server down)'), lines.join('\n'));
  const verdict = lines.find((l) => l.startsWith('verdict: '));
  t.regex(verdict ?? '', /^verdict: FAILED: linearizable, not live \(/);
});
