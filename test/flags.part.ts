import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs as parseBenchArgs, wantsHelp as benchWantsHelp } from '../bench/run.js';
import { parseCheckArgs } from '../src/cli/check.js';
import { FlagError, readArgs, wantsHelp } from '../src/cli/flags.js';
import { main as hostMain, parseHostArgs } from '../src/cli/host.js';
import { parseVerifyArgs } from '../src/cli/verify.js';

/**
 * How the commands read a command line (readArgs, src/cli/flags.ts): `--flag value` and
 * `--flag=value` alike in every command, and `--help`/`-h` only where a flag goes. Before
 * (audit, session 56) bench alone took `--json=FILE` (check, verify and host refused
 * `--seeds=3`), and `-h` anywhere printed the help: `meridian host --cluster -h` could not name
 * the cluster `-h` that nats.cluster takes, nor `--cluster --x` the cluster `--x`.
 */

test('readArgs: a value after the flag or its =; --help, -h and bare flags take none; a value is never read as a flag', (t) => {
  t.deepEqual(readArgs(['--seeds', '3', '--mode=passive', '--shrink', '--cluster=--x', '--json=', 'FILE', '-h'], new Set(['--shrink'])), [
    { arg: '--seeds', value: '3', inline: false },
    { arg: '--mode', value: 'passive', inline: true },
    { arg: '--shrink', value: undefined, inline: false },
    { arg: '--cluster', value: '--x', inline: true },
    { arg: '--json', value: '', inline: true },
    { arg: 'FILE', value: undefined, inline: false },
    { arg: '-h', value: undefined, inline: false },
  ]);
  t.true(wantsHelp(['--seeds', '3', '-h']));
  t.true(wantsHelp(['--help']));
  t.false(wantsHelp(['--cluster', '-h']), '-h as a value');
  t.false(wantsHelp(['--unsafe', '--help']), '--help as a value');
  t.false(wantsHelp(['--cluster=-h']));
});

test('check and verify take --flag=value as --flag value; a flag that takes no value refuses one', (t) => {
  t.deepEqual(
    parseCheckArgs(['--seed=3', '--mode=passive', '--faults=pause,crash', '--shrink']),
    parseCheckArgs(['--seed', '3', '--mode', 'passive', '--faults', 'pause,crash', '--shrink']),
  );
  t.throws(() => parseCheckArgs(['--seed', '1', '--shrink=yes']), { instanceOf: FlagError, message: '--shrink takes no value, got "yes"' });
  t.throws(() => parseCheckArgs(['--seeds=0x10']), {
    instanceOf: FlagError,
    message: /^--seeds needs an integer from 1 to \d+ in decimal digits, got "0x10"$/,
  });
  t.throws(() => parseCheckArgs(['--seeds=3', '--seeds=4']), { instanceOf: FlagError, message: '--seeds given twice ("3" and "4"): give it once' });
  t.deepEqual(parseVerifyArgs(['h.edn', '--format=elle-edn', '--check-budget=2']), parseVerifyArgs(['h.edn', '--format', 'elle-edn', '--check-budget', '2']));
  // A value that looks like -h is the value (before, it printed the help).
  t.throws(() => parseVerifyArgs(['h.json', '--format', '-h']), { instanceOf: FlagError, message: /^--format takes json, .*, got "-h"$/ });
});

test('bench: --help only where a flag goes (a file may be named -h)', (t) => {
  t.true(benchWantsHelp(['transport', '-h']));
  t.false(benchWantsHelp(['--json', '-h']));
  t.is(parseBenchArgs(['--json', '-h']).json, '-h');
  t.throws(() => parseBenchArgs(['--quick=1']), { message: '--quick takes no value, got "1"' });
});

test('meridian host: --cluster=NAME, and any name nats.cluster takes (-h, --x); a value that starts with -- goes after =', async (t) => {
  const url = 'nats://127.0.0.1:4222';
  t.like(parseHostArgs([`--nats=${url}`, '--cluster=shop']), { servers: [url], cluster: 'shop' });
  t.like(parseHostArgs(['--nats', url, '--cluster=--x']), { cluster: '--x' });
  t.like(parseHostArgs(['--nats', url, '--cluster', '-h']), { cluster: '-h' });
  t.throws(() => parseHostArgs(['--nats', url, '--cluster', '--x']), {
    instanceOf: FlagError,
    message: `--cluster needs the cluster's name (the launcher's nats.cluster), got "--x" (a value that starts with -- goes after =: --cluster=--x)`,
  });
  t.throws(() => parseHostArgs(['--nats', url, '--cluster=']), { instanceOf: FlagError, message: /^--cluster needs the cluster's name .*, got ""$/ });
  // Through main: `--cluster -h` is a cluster, not the help (no NATS here: exit 1, not the usage and 0).
  const dir = mkdtempSync(join(tmpdir(), 'meridian-flags-'));
  try {
    let out = '';
    let err = '';
    const code = await hostMain(['--nats', 'nats://127.0.0.1:1', '--cluster', '-h', '--data-dir', join(dir, 'logs')], {
      out: (l) => (out += `${l}\n`),
      err: (l) => (err += `${l}\n`),
    });
    t.is(code, 1, out + err);
    t.false(out.includes('usage:'));
    t.regex(err, /cannot reach NATS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flag without its value says "got no value" in every command (it said "got null", which reads as a bug); a wrong value is still quoted', (t) => {
  const missing: Array<[() => unknown, string]> = [
    [() => parseCheckArgs(['--seeds']), '--seeds'],
    [() => parseCheckArgs(['--mode']), '--mode'],
    [() => parseCheckArgs(['--txn-share']), '--txn-share'],
    [() => parseCheckArgs(['--check-budget']), '--check-budget'],
    [() => parseCheckArgs(['--shape']), '--shape'],
    [() => parseCheckArgs(['--faults']), '--faults'],
    [() => parseCheckArgs(['--only-faults']), '--only-faults'],
    [() => parseCheckArgs(['--unsafe']), '--unsafe'],
    [() => parseCheckArgs(['--nats']), '--nats'],
    [() => parseCheckArgs(['--processes']), '--processes'],
    [() => parseCheckArgs(['--seeds', '3', '--json']), '--json'],
    // Given before with a value: this said `--seeds given twice ("3" and null)`.
    [() => parseCheckArgs(['--seeds', '3', '--seeds']), '--seeds'],
    [() => parseVerifyArgs(['h.json', '--format']), '--format'],
    [() => parseVerifyArgs(['h.json', '--timeline']), '--timeline'],
    [() => parseHostArgs(['--data-dir']), '--data-dir'],
  ];
  for (const [parse, flag] of missing) {
    const error = t.throws(parse, { instanceOf: FlagError }, flag);
    t.true(error?.message.startsWith(`${flag} `) === true && error.message.endsWith(', got no value'), `${flag}: ${error?.message}`);
  }
  t.throws(() => parseCheckArgs(['--seeds', 'abc']), { instanceOf: FlagError, message: /^--seeds needs an integer from 1 to \d+, got "abc"$/ });
  t.throws(() => parseCheckArgs(['--shape', 'abc']), { instanceOf: FlagError, message: /^--shape takes random .*, got "abc"$/ });
  t.throws(() => parseVerifyArgs(['h.json', '--timeline', '--format']), {
    instanceOf: FlagError,
    message: '--timeline needs a file to write the HTML timeline to, got "--format"',
  });
});
