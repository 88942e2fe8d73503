import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as check } from '../src/cli/check.js';
import { main as verify } from '../src/cli/verify.js';
import type { History } from '../src/core/history.js';
import { checkTransactions } from '../src/harness/elle/index.js';
import type { ElleOp } from '../src/harness/elle/types.js';
import { checkHistory } from '../src/harness/linearizability.js';
import { faultMarks, timelineHtml } from '../src/harness/timeline.js';
import { STALE_READ } from './helpers/elle-history.js';

/**
 * `meridian verify FILE --timeline OUT.html` and src/harness/timeline.ts: the HTML timeline of
 * a checked history, its witness or anomaly's transactions outlined, its faults drawn.
 */

async function run(main: typeof verify, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (l) => (stdout += `${l}\n`), err: (l) => (stderr += `${l}\n`) });
  return { code, stdout, stderr };
}

/** c1 writes 1, then c2 writes 2; c3, invoked after both, reads 1 (a stale read); c4's write is unknown and its value has a script tag. */
const stale: History = [
  { id: 0, client: 'c1', key: '', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 10 },
  { id: 1, client: 'c2', key: '', kind: 'put', input: 2, invokeMs: 20, outcome: 'ok', completeMs: 30 },
  { id: 2, client: 'c3', key: '', kind: 'get', input: undefined, invokeMs: 40, outcome: 'ok', output: 1, completeMs: 50 },
  { id: 3, client: 'c4', key: '', kind: 'put', input: '<script>alert(1)</script>', invokeMs: 60, outcome: 'unknown' },
];

test('a register history with a stale read: a lane per client, the witness outlined, history text escaped, faults drawn', (t) => {
  const r = checkHistory(stale, 'register');
  t.is(r.verdict, 'not-linearizable');
  const html = timelineHtml({
    title: 'stale <b>',
    runs: [
      {
        label: 'history',
        verdict: 'FAILED: not linearizable (1 key)',
        outcome: 'fail',
        kind: 'kv',
        history: stale,
        violations: r.violations,
        faults: ['plan x', '     5 ms  start crash r1 [#0]', '    35 ms  end crash r1', '    45 ms  heal'],
      },
    ],
  });
  t.is((html.match(/class="lane-label"/g) ?? []).length, 4, 'one lane per client');
  const witness = new Set(r.violations[0]!.ops.map((o) => o.id));
  for (const op of stale) {
    const tag = new RegExp(`<g class="op [^"]*" data-op="${op.id}">`).exec(html)?.[0] ?? '';
    t.is(tag.includes(' witness'), witness.has(op.id), `op ${op.id}: ${tag}`);
  }
  t.regex(html, /<g class="op ok witness failed-op" data-op="2">/);
  t.regex(html, /<g class="op unknown" data-op="3">/, 'the unknown put is drawn as unknown');
  t.regex(html, /get\(\) = 1/);
  t.false(html.includes('<script'), 'no script: not the value, not the page');
  t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.true(html.includes('stale &lt;b&gt;'));
  t.regex(html, /<pre class="explain">no order explains c3 get\(\) = 1/);
  t.regex(html, /class="fault"><title>5 ms {2}start crash r1 \[#0\]\n35 ms {2}end crash r1<\/title><rect class="fault-span"/);
  t.regex(html, /class="fault"><title>45 ms {2}heal<\/title><line class="fault-line"/);
  t.false(/src=|href=|@import|url\((?!#)/.test(html), 'self-contained');
});

test("a long run: fault episodes one after another share a row; an unknown operation's bar stops at its client's next call and a dashed line carries it on", (t) => {
  // c1's put at 0 is unknown; c1 goes on with a get at 100. Twenty episodes, each after the last.
  const history: History = [
    { id: 0, client: 'c1', key: 'k', kind: 'put', input: 1, invokeMs: 0, outcome: 'unknown' },
    { id: 1, client: 'c1', key: 'k', kind: 'get', input: undefined, invokeMs: 100, outcome: 'ok', output: 1, completeMs: 110 },
    { id: 2, client: 'c2', key: 'k', kind: 'put', input: 2, invokeMs: 5_000, outcome: 'unknown' },
  ];
  const faults = Array.from({ length: 20 }, (_, i) => [`${i * 500} ms  start pause r${i} [#${i}]`, `${i * 500 + 400} ms  end pause r${i}`]).flat();
  const html = timelineHtml({ title: 'long', runs: [{ label: 'run', verdict: 'ok', outcome: 'pass', kind: 'kv', history, violations: [], faults }] });
  const barYs = new Set([...html.matchAll(/<rect class="fault-bar" x="[\d.]+" y="(\d+)"/g)].map((m) => m[1]));
  t.is([...html.matchAll(/<rect class="fault-bar"/g)].length, 20);
  t.is(barYs.size, 1, `one row for twenty episodes that never overlap: rows at ${[...barYs].join(', ')}`);
  const rect = (id: number): { x: number; w: number } => {
    const m = new RegExp(`data-op="${id}"><title>[^<]*</title><rect x="([\\d.]+)" y="\\d+" width="([\\d.]+)"`).exec(html)!;
    return { x: Number(m[1]), w: Number(m[2]) };
  };
  const put = rect(0);
  const get = rect(1);
  t.true(Math.abs(put.x + put.w - get.x) < 0.2, `the unknown put ends where the get begins: ${JSON.stringify({ put, get })}`);
  t.is((html.match(/<line class="op-open"/g) ?? []).length, 1, "one dashed line: c2's unknown put has no later call, its bar runs to the end");
  const last = rect(2);
  t.true(last.w > put.w, 'open to the end of the run');
});

test('fault lines: start/end pairs by their text, else by order; a heal ends every open episode; one without an end runs to the end; instants; lines without a time', (t) => {
  const m = faultMarks(
    [
      'plan',
      '  10 ms  start a x [#0]',
      '  20 ms  start b y [#1]',
      '  30 ms  end b y',
      '  40 ms  end zzz',
      '  50 ms  start c [#2]',
      '  55 ms  start d [#3]',
      '  60 ms  heal',
      '  70 ms  start e [#4]',
    ],
    100,
  );
  t.deepEqual(
    m.spans.map((s) => [s.name, s.start, s.end]),
    [
      ['b', 20, 30],
      ['a', 10, 40],
      ['c', 50, 60],
      ['d', 55, 60],
      ['e', 70, 100],
    ],
  );
  t.regex(m.spans[2]!.title, /start c \[#2\]\n60 ms {2}heal$/);
  t.regex(m.spans[4]!.title, /no end: to the end of the run/);
  t.deepEqual(m.instants, [{ at: 60, title: '60 ms  heal' }]);
  t.deepEqual(m.untimed, ['plan']);
});

/** STALE_READ (T2 reads x empty after T1's append completed: not strict serializable), and T4, unrelated, never completes. */
const txns: ElleOp[] = [...STALE_READ, { index: 6, process: 3, type: 'invoke', f: 'txn', value: [['append', 'y', 7]] }];

test("transactions with an anomaly: its cycle's transactions outlined, the others not, the unknown one open-ended", (t) => {
  const r = checkTransactions(txns, { model: 'list-append', consistency: 'strict-serializable' });
  t.false(r.ok);
  const cycle = new Set(r.anomalies.flatMap((a) => (a.cycle ?? []).flatMap((e) => [e.from, e.to])));
  t.deepEqual([...cycle].sort(), [1, 3]);
  const html = timelineHtml({
    title: 't',
    runs: [{ label: 'history', verdict: 'FAILED', outcome: 'fail', kind: 'txn', history: txns, anomalies: r.anomalies }],
  });
  t.regex(html, /<g class="op ok witness" data-op="1">/);
  t.regex(html, /<g class="op ok witness" data-op="3">/);
  t.regex(html, /<g class="op ok" data-op="5">/);
  t.regex(html, /<g class="op unknown" data-op="6">/);
  t.is((html.match(/class="lane-label"/g) ?? []).length, 4, 'one lane per process');
  t.regex(html, /<pre class="explain">G[^<]*realtime/);
  t.regex(html, /a &quot;x&quot; 1/, 'micro-ops abbreviated');
});

test('check --seed 5 --history, then verify --timeline: exit 1, the faults and the witness in the HTML; --timeline - and a bad faults field refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const history = join(dir, 'h.json');
    const c = await run(check, ['--seed', '5', '--unsafe', 'stale-reads', '--clients', '4', '--history', history]);
    t.is(c.code, 1, c.stdout + c.stderr);
    const doc = JSON.parse(readFileSync(history, 'utf8')) as { runs: Array<{ faults: unknown }> };
    t.true(Array.isArray(doc.runs[0]!.faults) && (doc.runs[0]!.faults as string[]).some((f) => f.includes('start checkpoint-crash')));
    const out = join(dir, 't.html');
    const v = await run(verify, [history, '--timeline', out]);
    t.is(v.code, 1, v.stdout + v.stderr);
    t.regex(v.stdout, new RegExp(`\ntimeline: written to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
    const html = readFileSync(out, 'utf8');
    t.regex(html, /<rect class="fault-span"/);
    t.regex(html, /checkpoint-crash/);
    t.regex(html, /class="op ok witness failed-op"/);
    t.regex(html, /no order explains client\/r3\/tVCUj-RVdG9s#0 get\(\) = 1/);
    t.true(html.length < 500_000, `${html.length} characters`);

    const dash = await run(verify, [history, '--timeline', '-']);
    t.is(dash.code, 2);
    t.regex(dash.stderr, /--timeline needs a file to write the HTML timeline to, got "-"/);
    const unwritable = await run(verify, [history, '--timeline', join(dir, 'no', 'such', 't.html')]);
    t.is(unwritable.code, 2);
    t.regex(unwritable.stderr, /^meridian verify: --timeline: cannot write .*ENOENT/);
    t.is(unwritable.stdout, '', 'refused before any run is checked');

    // Older documents without faults still read; a faults field that is not strings is refused, named.
    const raw = JSON.parse(readFileSync(history, 'utf8')) as { runs: Array<Record<string, unknown>> };
    delete raw.runs[0]!.faults;
    writeFileSync(history, JSON.stringify(raw));
    t.is((await run(verify, [history])).code, 1);
    raw.runs[0]!.faults = ['ok', 3];
    writeFileSync(history, JSON.stringify(raw));
    const bad = await run(verify, [history]);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /: runs\[0\]\.faults: expected an array of strings \(the run's fault log lines\), got an array holding 3\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check --seed S --timeline draws the replayed run itself (kv: faults and witness; txn: each protocol, the anomalies outlined); only with --seed, and - refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const kv = join(dir, 'kv.html');
    const c = await run(check, ['--seed', '5', '--unsafe', 'stale-reads', '--clients', '4', '--timeline', kv]);
    t.is(c.code, 1, c.stdout + c.stderr);
    t.regex(c.stdout, /\ntimeline: written to .*kv\.html\n$/);
    const html = readFileSync(kv, 'utf8');
    t.regex(html, /<title>meridian timeline: meridian check --seed 5 --mode active --unsafe stale-reads --clients 4<\/title>/);
    t.regex(html, /<rect class="fault-span"/);
    t.regex(html, /class="op ok witness failed-op"/);
    const txn = join(dir, 'txn.html');
    const x = await run(check, ['--seed', '3', '--workload', 'txn', '--commit', '2pc', '--unsafe', 'release-locks-at-prepare', '--timeline', txn]);
    t.is(x.code, 1, x.stdout + x.stderr);
    const txnHtml = readFileSync(txn, 'utf8');
    t.regex(txnHtml, /seed 3 \(2pc\)/);
    t.regex(txnHtml, /class="op ok witness/);
    // cluster.history() gives each event a time: the transactions are drawn in time, with their faults.
    t.regex(txnHtml, /class="fault-line"/);
    t.notRegex(txnHtml, /axis is the position/);
    const many = await run(check, ['--seeds', '2', '--timeline', join(dir, 'm.html')]);
    t.is(many.code, 2);
    t.regex(many.stderr, /--timeline needs --seed S without --shrink/);
    const dash = await run(check, ['--seed', '5', '--timeline', '-']);
    t.is(dash.code, 2);
    t.regex(dash.stderr, /--timeline needs a file to write the replayed run's HTML timeline to, got "-"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a completion time the axis cannot place (null, a string, Infinity: validation refuses them, the timeline draws them anyway) is drawn as none, not thrown on or drawn NaN wide (found by an audit, session 55)', (t) => {
  const history = [
    { id: 1, client: 'c1', key: 'k', kind: 'put', input: 1, invokeMs: 1, outcome: 'unknown', completeMs: null },
    { id: 2, client: 'c2', key: 'k', kind: 'put', input: 2, invokeMs: 2, outcome: 'fail', completeMs: '5' },
    { id: 3, client: 'c3', key: 'k', kind: 'put', input: 3, invokeMs: 3, outcome: 'fail', completeMs: Number.POSITIVE_INFINITY },
    { id: 4, client: 'c4', key: 'k', kind: 'get', input: undefined, invokeMs: 4, outcome: 'ok', output: 1, completeMs: 9 },
  ] as unknown as History;
  const violation = { key: 'k', failedOp: history[2]!, ops: [history[2]!], minimal: true };
  const html = timelineHtml({ title: 'odd', runs: [{ label: 'run', verdict: 'ok', outcome: 'pass', kind: 'kv', history, violations: [violation] }] });
  t.notRegex(html, /NaN|Infinity/);
  t.is((html.match(/<g class="op /g) ?? []).length, 4, 'every operation drawn');
  t.regex(html, /#3 c3 key k: put\(3\) fail, invoked 3 ms, no completion time/);
  t.regex(html, /no order explains c3 put\(3\) \[3\.\.\? ms\]/);
});

/** 3,500 puts one after another, then a read of the first value (the 3,501st operation, a stale read), then 99 more puts. */
function longStale(): History {
  const history: History = [];
  for (let i = 0; i < 3_600; i++) {
    const at = i * 10;
    history.push(
      i === 3_500
        ? { id: i, client: 'reader', key: 'k', kind: 'get', input: undefined, invokeMs: at, outcome: 'ok', output: 1, completeMs: at + 5 }
        : { id: i, client: `c${i % 4}`, key: 'k', kind: 'put', input: i + 1, invokeMs: at, outcome: 'ok', completeMs: at + 5 },
    );
  }
  return history;
}

test('a key with more operations than the bars a run draws: its witness and the operation no order explains are drawn, then the earliest (the first 3,000 were drawn and the failure at the 3,501st left out: found by an audit, session 55)', async (t) => {
  const history = longStale();
  const r = checkHistory(history, 'register');
  t.is(r.verdict, 'not-linearizable');
  const witness = r.violations[0]!.ops.map((o) => o.id);
  t.true(witness.includes(3_500));
  const check = (html: string): void => {
    t.is((html.match(/<g class="op /g) ?? []).length, 3_000, 'at most 3,000 bars');
    for (const id of witness) t.regex(html, new RegExp(`<g class="op ok witness[^"]*" data-op="${id}">`), `witness op ${id} drawn`);
    t.regex(html, /<g class="op ok witness failed-op" data-op="3500">/);
    t.regex(html, /600 of 3600 operations left out: at most 3000 bars a run \(the witness kept, then the earliest\)/);
  };
  check(timelineHtml({ title: 'long', runs: [{ label: 'run', verdict: 'FAILED', outcome: 'fail', kind: 'kv', history, violations: r.violations }] }));

  // The same through verify --timeline.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const file = join(dir, 'long.json');
    writeFileSync(file, JSON.stringify(history));
    const out = join(dir, 'long.html');
    const v = await run(verify, [file, '--timeline', out]);
    t.is(v.code, 1, v.stdout + v.stderr);
    check(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys the checker could not decide are listed and drawn after the failing keys, before the others (the page said only UNKNOWN: found by an audit, session 55)', async (t) => {
  // Fifteen keys of one put each; k14, undecided, would be past the twelve others drawn.
  const history: History = Array.from({ length: 15 }, (_, i) => ({
    id: i,
    client: `c${i}`,
    key: `k${String(i).padStart(2, '0')}`,
    kind: 'put' as const,
    input: i,
    invokeMs: i,
    outcome: 'ok' as const,
    completeMs: i + 1,
  }));
  const html = timelineHtml({
    title: 'u',
    runs: [{ label: 'run', verdict: 'UNKNOWN', outcome: 'unknown', kind: 'kv', history, violations: [], undecided: ['k14'] }],
  });
  t.regex(html, /<p class="verdict unknown">keys the checker could not decide \(not a pass\): &quot;k14&quot;<\/p>/);
  const keys = [...html.matchAll(/<h3>key &quot;(k\d+)&quot;/g)].map((m) => m[1]);
  t.deepEqual(keys, ['k14', ...Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`)]);
  t.regex(
    html,
    /<h3>key &quot;k14&quot;: 1 operation <span class="verdict unknown">not decided: the checker ran out of steps \(--check-budget raises them\)<\/span><\/h3>/,
  );
  t.regex(html, /2 of 15 keys left out \(the failing, undecided and unchecked keys first, then 12 others\)/);

  // check --seed S --timeline with a budget too small to decide any key.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const out = join(dir, 'u.html');
    const c = await run(check, ['--seed', '1', '--check-budget', '0.000001', '--timeline', out]);
    t.is(c.code, 1, c.stdout + c.stderr);
    const undecided = /\nkeys the checker could not decide: (.*)\n/.exec(c.stdout)?.[1]?.split(', ') ?? [];
    t.true(undecided.length > 0, c.stdout);
    const page = readFileSync(out, 'utf8');
    t.regex(page, new RegExp(`keys the checker could not decide \\(not a pass\\): ${undecided.map((k) => `&quot;${k}&quot;`).join(', ')}<`));
    t.deepEqual([...page.matchAll(/<h3>key &quot;([^&]+)&quot;/g)].map((m) => m[1]).slice(0, undecided.length), undecided, 'drawn first');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an undecided key says what stopped it: the memory bound (which --check-budget does not raise), steps, or, beside a failing key, steps or that failure (every key said "ran out of budget": an audit, session 61)', async (t) => {
  const put = (id: number, key: string): History[number] => ({
    id,
    client: `c${id}`,
    key,
    kind: 'put',
    input: id,
    invokeMs: id,
    outcome: 'ok',
    completeMs: id + 1,
  });
  const history: History = [put(0, 'm'), put(1, 's')];
  const html = timelineHtml({
    title: 'u',
    runs: [{ label: 'run', verdict: 'UNKNOWN', outcome: 'unknown', kind: 'kv', history, violations: [], undecided: ['m', 's'], memoryBound: ['m'] }],
  });
  t.regex(
    html,
    /<p class="verdict unknown">keys the checker could not decide \(not a pass\): &quot;m&quot;, &quot;s&quot; \(&quot;m&quot; on its memory bound, which --check-budget does not raise\)<\/p>/,
  );
  t.regex(
    html,
    /<h3>key &quot;m&quot;: 1 operation <span class="verdict unknown">not decided: the checker's search filled its memory bound \(fixed: --check-budget does not raise it\)<\/span><\/h3>/,
  );
  t.regex(
    html,
    /<h3>key &quot;s&quot;: 1 operation <span class="verdict unknown">not decided: the checker ran out of steps \(--check-budget raises them\)<\/span><\/h3>/,
  );
  t.notRegex(html, /ran out of budget/);

  // Beside a failing key, an undecided one may have been cut short by that failure.
  const failing = [...stale, { ...put(4, 'other'), invokeMs: 100, completeMs: 101 }];
  const r = checkHistory(failing, 'register');
  const withFailure = timelineHtml({
    title: 'f',
    runs: [{ label: 'run', verdict: 'FAILED', outcome: 'fail', kind: 'kv', history: failing, violations: r.violations, undecided: ['other'], memoryBound: [] }],
  });
  t.regex(
    withFailure,
    /<h3>key &quot;other&quot;: 1 operation <span class="verdict unknown">not decided: the checker ran out of steps \(--check-budget raises them\), or stopped once another key failed<\/span>/,
  );

  // check --seed S --timeline passes the checker's memoryBound on: with too few steps, steps are named.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const out = join(dir, 'u.html');
    const c = await run(check, ['--seed', '1', '--check-budget', '0.000001', '--timeline', out]);
    t.is(c.code, 1, c.stdout + c.stderr);
    const page = readFileSync(out, 'utf8');
    t.regex(page, /not decided: the checker ran out of steps \(--check-budget raises them\)</);
    t.notRegex(page, /ran out of budget|memory bound/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys a list append wrote, which the register model does not check, are listed in the header and marked unchecked per key (the page drew them as any other: an audit, session 58)', async (t) => {
  const op = (id: number, key: string, kind: 'put' | 'get' | 'append', fields: object): History[number] => ({
    id,
    client: `c${id}`,
    key,
    kind,
    input: undefined,
    invokeMs: id * 10,
    outcome: 'ok',
    completeMs: id * 10 + 5,
    ...fields,
  });
  const history: History = [
    op(0, 'k', 'put', { input: 1 }),
    op(1, 'l', 'append', { input: [1] }),
    op(2, 'k', 'get', { output: 1 }),
    op(3, 'l', 'get', { output: [1] }),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const file = join(dir, 'h.json');
    const out = join(dir, 'h.html');
    writeFileSync(file, JSON.stringify(history));
    const v = await run(verify, [file, '--timeline', out]);
    t.is(v.code, 1, v.stdout + v.stderr);
    t.regex(v.stdout, /UNKNOWN: keys a list append wrote, which the register model does not check .*: l \(not a pass\)/);
    const page = readFileSync(out, 'utf8');
    t.regex(page, /<p class="verdict unknown">keys a list append wrote, which the register model does not check \(not a pass\): &quot;l&quot;<\/p>/);
    t.regex(
      page,
      /<h3>key &quot;l&quot;: 2 operations <span class="verdict unknown">unchecked: a list append wrote it, which the register model does not check<\/span><\/h3>/,
    );
    // The checked key is drawn after it, unmarked.
    t.deepEqual(
      [...page.matchAll(/<h3>key &quot;([^&]+)&quot;: \d+ operations([^<]*)/g)].map((m) => [m[1], m[2]]),
      [
        ['l', ' '],
        ['k', ''],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run that failed on more than its history: --history stores its own verdict, FAILED and why, and verify counts it failed, exit 1, red (it stored "linearizable": verify passed it, exit 0, green: found by an audit, session 55)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    // Amnesia: servers forget their promises; seed 1's history stays linearizable, and the run fails on the lost promises.
    const history = join(dir, 'a1.json');
    const c = await run(check, ['--seed', '1', '--unsafe', 'amnesia', '--history', history]);
    t.is(c.code, 1, c.stdout + c.stderr);
    t.regex(c.stdout, /\nverdict: FAILED: linearizable, live \(/);
    const doc = JSON.parse(readFileSync(history, 'utf8')) as { runs: Array<Record<string, unknown>> };
    t.is(doc.runs[0]!.outcome, 'fail');
    t.regex(String(doc.runs[0]!.verdict), /^FAILED: linearizable, live \(.*a promise was lost/);

    const out = join(dir, 'a1.html');
    const v = await run(verify, [history, '--timeline', out]);
    t.is(v.code, 1, v.stdout + v.stderr);
    t.regex(
      v.stdout,
      /\nrun 1: \d+ operations on \d+ keys, register: linearizable\n {2}the run itself: FAILED: linearizable, live \(.*a promise was lost.*\)\n/,
    );
    t.regex(
      v.stdout,
      /\n {2}counted failed: the run itself failed, and verify repeats only the check of its history\nverify: 1 run, 0 passed, 1 failed, 0 unknown\n/,
    );
    t.regex(readFileSync(out, 'utf8'), /<p class="verdict fail">run 1: [^<]*: linearizable; the run itself: FAILED: linearizable, live \(/);

    // A document from before: the checker's word alone beside the outcome. Still failed.
    doc.runs[0]!.verdict = 'linearizable';
    writeFileSync(history, JSON.stringify(doc));
    const old = await run(verify, [history]);
    t.is(old.code, 1, old.stdout + old.stderr);
    t.regex(old.stdout, /\n {2}the run itself: FAILED: linearizable\n {2}counted failed/);

    // A run left unknown (its checker out of budget) is decided by verify's check.
    doc.runs[0]!.outcome = 'unknown';
    doc.runs[0]!.verdict = 'UNKNOWN: unknown, live';
    writeFileSync(history, JSON.stringify(doc));
    const decided = await run(verify, [history]);
    t.is(decided.code, 0, decided.stdout + decided.stderr);
    t.regex(decided.stdout, /\n {2}the run itself: UNKNOWN: unknown, live\nverify: 1 run, 1 passed, 0 failed, 0 unknown\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the builtin schedules' faults are spans: a crash to its server's restart, a pause to its resume, a partition to the next heal, all to heal all (they were instants only: found by an audit, session 55)", async (t) => {
  // check --seed 4 --nemesis builtin's fault lines, and the transactional schedule's pause and torn crash.
  const m = faultMarks(
    [
      '244 partition r1 | rest (one-way)',
      '677 crash r2/1',
      '916 restart r2/1',
      '1302 heal',
      '1697 partition r2 | rest',
      '2107 crash r1/1',
      '2351 pause r3/1',
      '2676 heal',
      '2905 partition r1 | rest',
      '3068 resume r3/1',
      '3272 crash r3/0 (after a write, before its messages)',
      '3629 restart r1/1',
      '3700 restart r9/9',
      '4160 heal all',
      'catch-up: r2/0 down during one put of each of 8 keys',
    ],
    5_000,
  );
  t.deepEqual(
    m.spans.map((s) => [s.name, s.start, s.end]),
    [
      ['crash', 677, 916],
      ['partition', 244, 1302],
      ['partition', 1697, 2676],
      ['pause', 2351, 3068],
      ['crash', 2107, 3629],
      ['partition', 2905, 4160],
      ['crash', 3272, 4160],
    ],
  );
  t.is(m.spans[0]!.title, '677 crash r2/1\n916 restart r2/1');
  t.deepEqual(
    m.instants.map((i) => i.title),
    ['1302 heal', '2676 heal', '3700 restart r9/9', '4160 heal all'],
    'heals, and a restart of a server not crashed, are instants',
  );
  t.deepEqual(m.untimed, ['catch-up: r2/0 down during one put of each of 8 keys']);

  const dir = mkdtempSync(join(tmpdir(), 'meridian-timeline-'));
  try {
    const out = join(dir, 'builtin.html');
    const c = await run(check, ['--seed', '4', '--nemesis', 'builtin', '--keys', '1', '--timeline', out]);
    t.is(c.code, 0, c.stdout + c.stderr);
    const crash = /\n {2}(\d+) crash (\S+)\n/.exec(c.stdout)!;
    const restart = new RegExp(`\\n {2}(\\d+) restart ${crash[2]!.replace('/', '\\/')}\\n`).exec(c.stdout)!;
    t.true(
      readFileSync(out, 'utf8').includes(
        `<g class="fault"><title>${crash[1]} crash ${crash[2]}\n${restart[1]} restart ${crash[2]}</title><rect class="fault-span"`,
      ),
      c.stdout,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
