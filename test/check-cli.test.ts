import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/check.js';

/**
 * `meridian check`, through the real command: many seeds on a pool, a broken variant caught
 * with its witness and replay line, a replayed trace that is the same twice, bad flags.
 */

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function meridian(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

test('check --seeds 6 --workers 2: progress, a summary line, exit 0', async (t) => {
  const r = await meridian(['check', '--seeds', '6', '--workers', '2']);
  t.log(r.stdout.split('\n').at(-2));
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^meridian check: seeds 1\.\.6, active replication, builtin faults, 2 workers/);
  t.is(r.stdout.match(/^progress \d+\/6/gm)?.length, 6);
  t.regex(r.stdout, /\ncheck: 6 seeds, 6 passed, 0 failed, \d+ operations checked, [\d.]+ s on 2 workers\n$/);
});

test('check catches a broken variant: failing seeds with witness, faults and replay line, exit 1; the replay fails the same way', async (t) => {
  const from = 3030;
  t.log(`seeds ${from}..${from + 23}, active, unsafe amnesia`);
  const r = await meridian(['check', '--seeds', '24', '--from', String(from), '--unsafe', 'amnesia']);
  t.is(r.code, 1, `no seed of ${from}..${from + 23} caught amnesia:\n${r.stdout}${r.stderr}`);
  const failed = /failed \(([\d, ]+)\)/.exec(r.stdout)?.[1]?.split(', ').map(Number) ?? [];
  t.true(failed.length > 0, r.stdout);
  t.regex(r.stdout, /failing seeds:\nseed \d+ \(active\): not-linearizable/);
  t.regex(r.stdout, /witness \(\d+ ops(, minimal)?\):\n {6}\S+ (get|put|cas)\(/);
  t.regex(r.stdout, /faults:\n {4}\d+ (crash|partition|restart|heal)/);
  t.regex(r.stdout, new RegExp(`replay: meridian check --seed ${failed[0]} --mode active --unsafe amnesia --trace`));
  const replay = await meridian(['check', '--seed', String(failed[0]), '--unsafe', 'amnesia']);
  t.is(replay.code, 1, replay.stdout);
  t.regex(replay.stdout, /verdict: FAILED: not-linearizable/);
});

test('check --seed 3 --trace prints the same trace twice, and another seed a different one', async (t) => {
  const [a, b, c] = await Promise.all([
    meridian(['check', '--seed', '3', '--trace']),
    meridian(['check', '--seed', '3', '--trace']),
    meridian(['check', '--seed', '4', '--trace']),
  ]);
  t.is(a.code, 0, a.stderr);
  const lines = a.stdout.split('\n');
  const header = lines.find((l) => l.startsWith('trace ('));
  t.log(header, lines.at(-2));
  const count = Number(/trace \((\d+) messages/.exec(header ?? '')?.[1]);
  t.true(count > 100, `${count} messages`);
  t.true(lines.filter((l) => /^ +\d+ {2}\S+ -> \S+ {2}\S+$/.test(l)).length === count, 'one line per message');
  t.regex(a.stdout, /\nfaults:\n/);
  t.regex(a.stdout, /\nverdict: ok: linearizable, live \(\d+ operations, trace hash 0x[0-9a-f]{8}\)\n$/);
  t.is(a.stdout, b.stdout, 'byte for byte');
  t.not(a.stdout, c.stdout);
});

test('bad flags name the flag and exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--seeds', '0'], /--seeds needs an integer from 1/],
    [['--seeds', 'x'], /--seeds needs an integer/],
    [['--seeds', '3', '--workers', '0'], /--workers needs an integer from 1 to 64/],
    [['--seeds', '3', '--mode', 'bogus'], /--mode takes active, passive, hybrid, got "bogus"/],
    [['--seeds', '3', '--unsafe', 'nope'], /--unsafe takes ack-before-chosen, forget-promises, amnesia/],
    [['--seeds', '3', '--nemesis', 'chaos'], /--nemesis takes builtin, swarm/],
    [['--seeds', '3', '--trace'], /--trace needs --seed/],
    [['--seed', '3', '--seeds', '3'], /give one of them/],
    [['--seed', '3', '--workers', '2'], /--workers applies to --seeds/],
    [['--seed'], /--seed needs an integer/],
    [['--frobnicate'], /unknown check option "--frobnicate"/],
    [[], /give --seeds N .* or --seed S/],
  ];
  for (const [argv, pattern] of cases) {
    const err: string[] = [];
    const code = await main(argv, { out: () => undefined, err: (l) => err.push(l) });
    t.is(code, 2, argv.join(' '));
    t.regex(err.join('\n'), pattern, argv.join(' '));
  }
  const spawned = await meridian(['check', '--workers', 'many', '--seeds', '2']);
  t.is(spawned.code, 2);
  t.regex(spawned.stderr, /meridian check: --workers needs an integer from 1 to 64, got "many"\nusage:/);
  t.is(spawned.stdout, '');
});
