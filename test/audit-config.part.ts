import test from 'ava';
import { parseCheckArgs } from '../src/cli/check.js';
import { FlagError } from '../src/cli/flags.js';

// `check --mode hybrid --factor 4` on the default 2 servers a region ran groups of 2 (the
// scenario cuts a hybrid factor to a region's servers: scenarioFactor) while its header said
// "factor 4": the flag given was silently not the one run. Refused now, naming --servers.
test('check: --mode hybrid with a --factor above --servers is refused, not cut silently', (t) => {
  for (const argv of [
    ['--seed', '1', '--mode', 'hybrid', '--factor', '4'],
    ['--seeds', '3', '--mode', 'hybrid', '--servers', '3', '--factor', '5'],
    ['--seed', '1', '--unsafe', 'learner-out-of-order', '--factor', '3'],
    ['--seed', '1', '--workload', 'txn', '--mode', 'hybrid', '--factor', '3'],
  ]) {
    const e = t.throws(() => parseCheckArgs(argv), { instanceOf: FlagError }, argv.join(' '));
    t.regex(e?.message ?? '', /--factor needs an integer from 1 to \d with --mode hybrid .*--servers/, argv.join(' '));
  }
  // At most a region's servers, and the default factor (cut to them), still run.
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid', '--factor', '2']).factor, 2);
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid', '--servers', '3', '--factor', '3']).factor, 3);
  t.is(parseCheckArgs(['--seed', '1', '--mode', 'hybrid']).factor, undefined);
  t.is(parseCheckArgs(['--seed', '1', '--factor', '4']).factor, 4);
});
