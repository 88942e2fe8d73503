import test from 'ava';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './helpers/run-node.js';
import { main as benchMain } from '../bench/run.js';
import type { Chart, SuiteRun } from '../bench/lib/suite.js';
import { main as checkMain } from '../src/cli/check.js';
import { main as hostMain } from '../src/cli/host.js';
import { demoMain } from '../src/cli/top.js';
import { main as verifyMain } from '../src/cli/verify.js';

/**
 * The CLI's exit statuses, messages and help (an audit of the commands' user-facing contract,
 * session 69): what no command handles, standard output that cannot be written.
 */

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const benchRunner = fileURLToPath(new URL('../bench/run.js', import.meta.url));

/** `node [nodeArgs] script args` in a new process, its standard output to `stdout` (a file descriptor) or collected; killed after 60 s. */
function node(
  nodeArgs: readonly string[],
  script: string,
  args: readonly string[],
  stdout?: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', stdout ?? 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

/** `node ... script args` with its standard output on /dev/full: every write fails with ENOSPC, as on a full disk. */
async function toFullDisk(script: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync('/dev/full', 'w');
  try {
    return await node([], script, args, fd);
  } finally {
    closeSync(fd);
  }
}

const devFull = existsSync('/dev/full') ? test : test.skip;

devFull(
  'standard output that cannot be written (ENOSPC) is one line and exit 2, for meridian and the bench runner alike: it threw from the stdout listener, a stack trace and exit 1 (a failed check), even for a run that passed',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-errors-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // A history that passes: verify exits 0 with its output written, 2 with it lost.
    const history = join(dir, 'h.json');
    writeFileSync(
      history,
      JSON.stringify([
        { id: 1, client: 'c', key: 'k', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 1 },
        { id: 2, client: 'c', key: 'k', kind: 'get', input: null, invokeMs: 2, outcome: 'ok', output: 1, completeMs: 3 },
      ]),
    );
    const passing = await node([], cli, ['verify', history]);
    t.is(passing.code, 0, passing.stdout + passing.stderr);
    for (const [script, args, command] of [
      [cli, ['--help'], 'meridian'],
      [cli, ['verify', history], 'meridian'],
      [benchRunner, ['--help'], 'bench'],
    ] as const) {
      const r = await toFullDisk(script, args);
      t.is(r.code, 2, `${command} ${args.join(' ')}: ${r.stderr}`);
      t.is(
        r.stderr,
        `${command}: cannot write standard output (ENOSPC: no space left on device, write): the rest of the run's output is lost; exit 2\n`,
        'one line, no stack trace',
      );
    }
  },
);

test('an error no command catches (thrown in a listener, a promise rejected unhandled) is an internal error, exit 70 with its stack, for meridian and the bench runner alike: it exited 1, which a failed check or suite gives', async (t) => {
  // Thrown once the command is done and the process about to end: after its modules loaded,
  // wherever it runs.
  for (const [fault, message] of [
    ['throw new Error("boom in a listener")', 'boom in a listener'],
    ['Promise.reject(new Error("boom unhandled"))', 'boom unhandled'],
  ] as const) {
    const inject = ['--import', `data:text/javascript,process.once("beforeExit",()=>{${fault}})`];
    for (const [script, command] of [
      [cli, 'meridian'],
      [benchRunner, 'bench'],
    ] as const) {
      const r = await node(inject, script, ['--help']);
      t.is(r.code, 70, `${command}: ${r.stderr}`);
      t.true(r.stderr.startsWith(`${command}: internal error (a bug in meridian, exit 70): Error: ${message}\n    at `), r.stderr);
      t.regex(r.stdout, /^usage:/, 'the command itself ran');
    }
  }
});

/** bench's main with the suites `suites` gives (each name: a result, or the error it throws), its stderr collected. */
async function benchWith(argv: string[], suites: (name: string) => SuiteRun): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await benchMain(argv, { loadSuite: (name) => Promise.resolve(suites(name)), interrupt: new AbortController().signal });
    return { code, stderr: lines.join('') };
  } finally {
    process.stderr.write = write;
  }
}

test.serial(
  'bench: a --json file that cannot be written at the end of the run (its folder removed meanwhile) is exit 2, as in check and verify, whatever the suites did: it was 1, which a failed suite gives',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-errors-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const folder = join(dir, 'gone');
    const json = join(folder, 'r.json');
    for (const failing of [false, true]) {
      mkdirSync(folder);
      const r = await benchWith(['elle', 'sim', '--json', json], (name) => () => {
        rmSync(folder, { recursive: true, force: true });
        return failing && name === 'sim' ? Promise.reject(new Error('a suite failed')) : Promise.resolve({ suite: name, figures: { x: 1 } });
      });
      t.is(r.code, 2, r.stderr);
      t.regex(r.stderr, new RegExp(`^bench: --json: cannot write ${JSON.stringify(json).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOENT`, 'm'));
      t.regex(r.stderr, /; exit 2\n$/, r.stderr);
      if (failing) t.regex(r.stderr, /^bench: 1 of 2 suites failed \(sim\); /m);
    }
  },
);

test('--help=x is refused as a flag given a value it takes none of (exit 2, one line naming it), in check, verify, host and demo as in bench: it printed the usage and exited 0', async (t) => {
  const commands: Array<[string, (argv: string[], io: { out: (l: string) => void; err: (l: string) => void }) => Promise<number>]> = [
    ['check', checkMain],
    ['verify', verifyMain],
    ['host', hostMain],
    ['demo', demoMain],
  ];
  for (const [name, main] of commands) {
    for (const argv of [['--help=x'], ['--help=']]) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
      t.is(code, 2, `${name} ${argv.join(' ')}: ${out.join('\n')}`);
      t.deepEqual(out, [], `${name} ${argv.join(' ')}: no usage on stdout`);
      t.true(err[0]?.startsWith(`meridian ${name}: --help takes no value, got ${JSON.stringify(argv[0]!.slice('--help='.length))}`), err.join('\n'));
    }
    // --help and -h alone still print the usage, exit 0.
    for (const argv of [['--help'], ['-h']]) {
      const out: string[] = [];
      t.is(await main(argv, { out: (l) => out.push(l), err: () => undefined }), 0, `${name} ${argv.join(' ')}`);
      t.regex(out.join('\n'), /usage/);
    }
  }
});

test.serial("every command's --help gives its exit statuses, the internal error's among them: check's, host's and bench's gave none", async (t) => {
  const helps: Array<[string, string]> = [];
  for (const [name, main] of [
    ['check', checkMain],
    ['verify', verifyMain],
    ['host', hostMain],
    ['demo', demoMain],
  ] as const) {
    const out: string[] = [];
    await main(['--help'], { out: (l) => out.push(l), err: () => undefined });
    helps.push([name, out.join('\n')]);
  }
  const write = process.stdout.write.bind(process.stdout);
  let bench = '';
  process.stdout.write = ((chunk: string) => ((bench += String(chunk)), true)) as typeof process.stdout.write;
  try {
    await benchMain(['--help']);
  } finally {
    process.stdout.write = write;
  }
  helps.push(['bench', bench]);
  for (const [name, help] of helps) {
    t.regex(help, /exit status/i, name);
    t.regex(help, /\b70\b[^\n]*internal error/, `${name}: the internal error's status`);
    t.regex(help, /\b2\b[^\n]*bad flag/, `${name}: a bad flag's status`);
  }
  for (const name of ['check', 'bench']) t.regex(helps.find(([n]) => n === name)![1], /\b1\b[^\n]* failed/, `${name}: a failed run's status`);
});

test.serial(
  'bench: a --compare report whose figures nest thousands deep is refused before any suite runs (exit 2, naming the field): compareReports overflowed the stack after every suite had run',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-errors-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const old = join(dir, 'old.json');
    // Written as text: JSON.stringify of it would overflow too.
    writeFileSync(old, `{"results":[{"suite":"elle","figures":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}]}`);
    let ran = false;
    const r = await benchWith(['elle', '--compare', old], () => () => ((ran = true), Promise.resolve({ suite: 'elle', figures: { a: 1 } })));
    t.is(r.code, 2, r.stderr);
    t.false(ran, 'no suite ran');
    t.true(
      r.stderr.startsWith(
        `bench: --compare needs a report an earlier run wrote with --json, got ${JSON.stringify(old)}: results[0].figures nest more than 32 deep\n`,
      ),
      r.stderr,
    );
    // Figures nested as deep as allowed still compare.
    writeFileSync(old, `{"results":[{"suite":"elle","figures":${'{"a":'.repeat(31)}2${'}'.repeat(31)}}]}`);
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 1; i < 31; i++) deep = { a: deep };
    const ok = await benchWith(['elle', '--compare', old], () => () => Promise.resolve({ suite: 'elle', figures: deep }));
    t.is(ok.code, 0, ok.stderr);
  },
);

test('the bench runner still running 10 s after its last suite (a handle leaked: a bug) exits 70, the internal error’s status: it exited 1, a failed suite’s', async (t) => {
  // An interval of no one's keeps the process up once main has returned (--help: no suite, nothing else to wait for).
  const r = await node(['--import', 'data:text/javascript,setInterval(()=>{},1e6)'], benchRunner, ['--help']);
  t.is(r.code, 70, r.stderr);
  t.regex(r.stderr, /^bench: still running 10000 ms after the last suite; leaked: .*Timeout.* \(a bug in meridian, exit 70\)\n$/);
});

test('a file flag naming a pipe through a link (/dev/stdout on a pipe, or a shell’s >(cmd), /dev/fd/63) is written to the pipe: it failed after the run, ENOENT on /dev/fd/.pipe:[...].tmp, exit 2', async (t) => {
  if (!existsSync('/proc/self/fd') || !existsSync('/bin/bash')) return t.pass('no /proc/self/fd or bash here');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-errors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const history = join(dir, 'h.json');
  writeFileSync(history, JSON.stringify([{ id: 1, client: 'c', key: 'k', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 1 }]));
  // Standard output a shell's pipe (not a socket, as a spawned child's 'pipe' is): /dev/stdout
  // links to /proc/self/fd/1, a link to pipe:[N].
  const r = await runCommand(
    '/bin/bash',
    ['-c', '"$0" "$1" verify "$2" --timeline /dev/stdout | cat; exit "${PIPESTATUS[0]}"', process.execPath, cli, history],
    60_000,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /<!DOCTYPE html>/);
  t.regex(r.stdout, /\ntimeline: written to \/dev\/stdout\n$/);
});

test.serial(
  'bench: a report that throws as it is made (renderHtml on a chart it cannot draw) is an internal error, exit 70 with its stack, the other file still written: it read as a file that cannot be written',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-errors-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const [json, html] = [join(dir, 'r.json'), join(dir, 'r.html')];
    const chart = { title: 't', kind: 'line', xLabel: 'x', yLabel: 'y', series: null } as unknown as Chart;
    const r = await benchWith(['elle', '--json', json, '--html', html], () => () => Promise.resolve({ suite: 'elle', figures: { a: 1 }, charts: [chart] }));
    t.is(r.code, 70, r.stderr);
    t.true(r.stderr.includes(`bench: --html: ${JSON.stringify(html)} not written: bench: internal error (a bug in meridian, exit 70): TypeError: `), r.stderr);
    t.regex(r.stderr, /\n {4}at /, 'with its stack');
    t.regex(r.stderr, /bench: a report file was not written; exit 70\n$/);
    t.true(existsSync(json), 'the JSON report still written');
    t.false(existsSync(html));
  },
);
