import test from 'ava';
import { run } from '../bench/elle.js';

// Benchmarks are not tests: this proves the elle suite runs end to end (its histories check
// clean, or it throws) and yields its figures, never how fast anything is.
test('elle bench suite (tiny) yields finite positive figures and a table', async (t) => {
  const result = await run({ quick: true, tiny: true, log: (line) => t.log(line) });
  t.is(result.suite, 'elle');
  for (const name of ['elle_txn_per_s', 'elle_cpu_txn_per_s', 'elle_serializable_txn_per_s', 'elle_rw_register_txn_per_s', 'elle_pool_txn_per_s']) {
    const value = result.figures[name];
    t.true(typeof value === 'number' && Number.isFinite(value) && value > 0, `figure ${name}: ${String(value)}`);
  }
  t.is(result.figures.elle_txns, 2_000);
  t.true(typeof result.table === 'string' && result.table.includes('list-append strict-serializable'));
});
