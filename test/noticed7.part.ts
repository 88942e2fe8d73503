import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as checkMain } from '../src/cli/check.js';

// Small defects noticed in session 69 (the noticed7 helper); one test (or a few) per fix.

// `meridian check`'s summary line named every failed and unknown seed: with thousands of them,
// one enormous line. It names the first 20, then how many more; --json has them all.
test('check: the summary line names the first 20 failing seeds then how many more; --json lists them all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-noticed7-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'run.json');
  // Small clusters: 21 of these 24 seeds fail (2026-12-08), more than the 20 named.
  const argv = ['--seeds', '24', '--workers', '1', '--unsafe', 'amnesia', '--clients', '2', '--keys', '1', '--fault-ms', '100', '--json', json];
  const out: string[] = [];
  t.is(await checkMain(argv, { out: (l) => void out.push(l), err: (l) => void out.push(l) }), 1, out.join('\n'));
  const doc = JSON.parse(readFileSync(json, 'utf8')) as { failed: number[] };
  t.true(doc.failed.length > 20, `more than 20 of the 24 seeds must fail for this test (pick more seeds): ${doc.failed.length}`);
  const line = out.find((l) => l.startsWith('check: 24 seeds, '));
  t.log(line);
  t.is(
    line?.replace(/; \d+ operations checked.*$/, ''),
    `check: 24 seeds, ${24 - doc.failed.length} passed, ${doc.failed.length} failed (${doc.failed.slice(0, 20).join(', ')}, ... and ${doc.failed.length - 20} more), 0 unknown`,
  );
  // What scripts/mutants.mjs and the tests read from that line.
  const m = /(\d+) seeds?, (\d+) passed, (\d+) failed.*?, (\d+) unknown.*\(([\d.]+) seeds\/s\)/.exec(line ?? '');
  t.deepEqual(m?.slice(1, 5).map(Number), [24, 24 - doc.failed.length, doc.failed.length, 0]);
});
