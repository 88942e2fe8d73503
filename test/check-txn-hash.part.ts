import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/check.js';

/**
 * A txn seed runs once per commit protocol, and its `--json` report's `traceHash` combined
 * their hashes (h * 31 + each), matching neither replay's verdict line (found by an audit,
 * session 55; a review, session 57). Now `traceHashes` gives each protocol's, as the replay
 * prints it.
 */
test("check --workload txn --json: traceHashes holds each protocol run's hash as the replay of the seed prints it; traceHash is them combined", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-txn-hash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'r.json');
  const sizes = ['--clients', '3', '--keys', '3', '--fault-ms', '1000'];
  const quiet = { out: () => undefined, err: (l: string) => t.log(l) };
  t.is(await main(['--workload', 'txn', '--seeds', '1', '--from', '2', '--workers', '1', ...sizes, '--json', json], quiet), 0);
  const report = (JSON.parse(readFileSync(json, 'utf8')) as { reports: Array<{ traceHash: string; traceHashes?: Record<string, string> }> }).reports[0]!;
  let replay = '';
  t.is(await main(['--seed', '2', '--workload', 'txn', ...sizes], { out: (l) => (replay += `${l}\n`), err: (l) => t.log(l) }), 0);
  // The replay's runs, in order: `replaying seed 2, read/append transactions, COMMIT over ...`, then its verdict line.
  const printed = [...replay.matchAll(/, (\S+) over [^\n]*\n(?:[^\n]*\n)*?verdict: [^\n]*trace hash (0x[0-9a-f]{8})\)\n/g)].map((m) => [m[1], m[2]]);
  t.log(printed);
  t.deepEqual(
    printed.map((p) => p[0]),
    ['2pc', 'paxos-commit'],
  );
  t.deepEqual(report.traceHashes, Object.fromEntries(printed));
  const combined = printed.reduce((h, [, hex]) => (h * 31 + Number.parseInt(hex!, 16)) >>> 0, 0);
  t.is(report.traceHash, `0x${combined.toString(16).padStart(8, '0')}`);
});
