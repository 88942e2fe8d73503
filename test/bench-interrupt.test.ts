import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INTERRUPTED_STATUS, main, type SuiteName } from '../bench/run.js';
import type { SuiteRun } from '../bench/lib/suite.js';

/**
 * Ctrl-C during `bench ... --json F --html G` killed the runner at once: every suite that had
 * finished was lost, F and G never written. Now the suites that finished are written, the
 * report says where the run stopped, and the exit status is 130.
 */

/** A run's --json and --html files, in a folder of their own that is removed after `body`. */
async function withReportFiles(body: (files: { json: string; html: string }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-int-'));
  try {
    await body({ json: join(dir, 'r.json'), html: join(dir, 'r.html') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('interrupted during its second suite, the runner writes the first to --json and --html, says where it stopped, and returns 130', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    const stop = new AbortController();
    const fakes: Partial<Record<SuiteName, SuiteRun>> = {
      transport: () => Promise.resolve({ suite: 'transport', figures: { boot_ms: 12 } }),
      // Logs a row, then Ctrl-C comes while it is still running (it never ends by itself).
      replication: ({ log }) => {
        log?.('replication: none batch 1: 1234 puts/s');
        stop.abort();
        return new Promise(() => undefined);
      },
      commit: () => Promise.reject(new Error('commit must not start after the interrupt')),
    };
    const code = await main(['transport', 'replication', 'commit', '--quick', '--json', json, '--html', html], {
      loadSuite: (name) => Promise.resolve(fakes[name]),
      interrupt: stop.signal,
    });
    t.is(code, INTERRUPTED_STATUS);
    t.is(INTERRUPTED_STATUS, 130);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    t.deepEqual(report.results, [{ suite: 'transport', figures: { boot_ms: 12 } }]);
    t.deepEqual(report.interrupted, { signal: 'SIGINT', suite: 'replication', lines: ['replication: none batch 1: 1234 puts/s'], notRun: ['commit'] });
    const page = readFileSync(html, 'utf8');
    t.true(page.includes('<strong>Interrupted (Ctrl-C) during replication</strong>: 1 suite finished and is below'), page);
    t.true(page.includes('commit never started'));
    t.true(page.includes('replication: none batch 1: 1234 puts/s'));
    t.true(page.includes('<section id="transport">'));
  });
});

test('stopped by SIGTERM, the runner says so in --json and --html (the report said "Interrupted (Ctrl-C)": found by a review, session 57) and returns 143', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    const stop = new AbortController();
    const code = await main(['transport', '--quick', '--json', json, '--html', html], {
      loadSuite: () =>
        Promise.resolve(() => {
          // As untilInterrupted aborts at a SIGTERM: its reason the signal's name.
          stop.abort('SIGTERM');
          return new Promise(() => undefined);
        }),
      interrupt: stop.signal,
    });
    t.is(code, 143);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { interrupted: { signal: string } };
    t.is(report.interrupted.signal, 'SIGTERM');
    const page = readFileSync(html, 'utf8');
    t.true(page.includes('<strong>Terminated (SIGTERM) during transport</strong>: 0 suites finished'), page);
    t.false(page.includes('Ctrl-C'));
  });
});

test('a run that is not interrupted writes no interrupted entry and returns 0', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    const code = await main(['transport', '--json', json, '--html', html], {
      loadSuite: () => Promise.resolve(() => Promise.resolve({ suite: 'transport', figures: { boot_ms: 12 } })),
      interrupt: new AbortController().signal,
    });
    t.is(code, 0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    t.false('interrupted' in report);
    t.false(readFileSync(html, 'utf8').includes('Interrupted'));
  });
});

test('a suite that throws is one line; the suites after it still run, --json and --html are written with a failed entry, exit 1 (found by an audit, session 54)', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['elle', 'transport', 'sim', '--json', json, '--html', html], {
        loadSuite: (name) =>
          Promise.resolve(() =>
            name === 'transport' ? Promise.reject(new Error('nats-server did not start')) : Promise.resolve({ suite: name, figures: { x: 1 } }),
          ),
        interrupt: new AbortController().signal,
      });
    } finally {
      process.stderr.write = write;
    }
    t.is(code, 1);
    const text = errors.join('');
    t.regex(text, /bench: suite transport failed: nats-server did not start\n/);
    t.regex(text, /bench: 1 of 3 suites failed \(transport\); exit 1\n/);
    t.false(text.includes('    at '), 'no stack trace');
    const report = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ suite: string }>; failed: unknown };
    t.deepEqual(
      report.results.map((r) => r.suite),
      ['elle', 'sim'],
    );
    t.deepEqual(report.failed, [{ suite: 'transport', error: 'nats-server did not start' }]);
    // The HTML says so too: it read as a clean report of two suites (found by an audit, session 55).
    t.regex(
      readFileSync(html, 'utf8'),
      /<strong>1 suite failed<\/strong> and has no figures below:<\/p><ul><li><strong>transport<\/strong>: nats-server did not start<\/li><\/ul>/,
    );
  });
});

test('--json and --html naming one file through a link exit 2 before any suite runs (the HTML overwrote the JSON)', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    writeFileSync(json, '{}');
    symlinkSync(json, html);
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
    let ran = false;
    try {
      const code = await main(['elle', '--json', json, '--html', html], {
        loadSuite: () => ((ran = true), Promise.resolve(() => Promise.resolve({ suite: 'elle', figures: {} }))),
        interrupt: new AbortController().signal,
      });
      t.is(code, 2);
    } finally {
      process.stderr.write = write;
    }
    t.false(ran);
    t.regex(errors.join(''), /--json and --html name the same file/);
  });
});

/**
 * `args` run by `node FILE`, sent SIGINT once stderr shows the first suite started (the runner's
 * plain progress line off a terminal); its exit and stderr.
 */
async function interrupted(
  file: string,
  args: string[],
  started = 'bench: [1/1] transport',
): Promise<{ sent: boolean; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!sent && stderr.includes(started)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  return { sent, code, signal, stderr };
}

for (const [entry, file, first] of [
  ['node dist/bench/run.js', '../bench/run.js', []],
  ['meridian bench', '../src/cli.js', ['bench']],
] as const) {
  test(`SIGINT to ${entry} in the middle of a suite: the files are written, the run says it was interrupted and ends there, exit 130`, async (t) => {
    await withReportFiles(async ({ json, html }) => {
      const r = await interrupted(file, [...first, 'transport', '--quick', '--json', json, '--html', html]);
      t.true(r.sent, r.stderr);
      t.deepEqual({ code: r.code, signal: r.signal }, { code: 130, signal: null }, r.stderr);
      t.regex(r.stderr, /bench: interrupted \(Ctrl-C\) during transport: no suite had finished; writing .*r\.json and .*r\.html with what finished\n/);
      // The last line: the suite cut short did not go on (under `meridian bench` it ran on to its end, logging, before the process could exit).
      t.true(r.stderr.endsWith('bench: interrupted: 0 of 1 suites finished; exit 130\n'), r.stderr);
      const report = JSON.parse(readFileSync(json, 'utf8')) as { results: unknown[]; interrupted: { suite: string; notRun: string[] } };
      t.deepEqual(report.results, []);
      t.is(report.interrupted.suite, 'transport');
      t.deepEqual(report.interrupted.notRun, []);
      t.true(readFileSync(html, 'utf8').includes('Interrupted (Ctrl-C) during transport'));
    });
  });
}

test('SIGINT to node dist/bench/run.js during its second suite: the first, which finished, is in --json and --html', async (t) => {
  await withReportFiles(async ({ json, html }) => {
    const r = await interrupted('../bench/run.js', ['latency-model', 'transport', '--quick', '--json', json, '--html', html], 'bench: [2/2] transport');
    t.true(r.sent, r.stderr);
    t.deepEqual({ code: r.code, signal: r.signal }, { code: 130, signal: null }, r.stderr);
    t.regex(r.stderr, /bench: interrupted \(Ctrl-C\) during transport: latency-model had finished; writing /);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ suite: string; figures: object }>; interrupted: { suite: string } };
    t.deepEqual(
      report.results.map((x) => x.suite),
      ['latency-model'],
    );
    t.true(Object.keys(report.results[0]!.figures).length > 0);
    t.is(report.interrupted.suite, 'transport');
    const page = readFileSync(html, 'utf8');
    t.true(page.includes('<strong>Interrupted (Ctrl-C) during transport</strong>: 1 suite finished'));
    t.true(page.includes('<section id="latency-model">'));
  });
});
