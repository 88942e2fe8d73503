/** What the commands' flag parsers share: how a command line is read, the error a bad flag throws, how it shows the value got, a choice among names, a flag given once, a number. */

/** A bad flag or flag value: the command prints its message and its usage, and exits 2. */
export class FlagError extends Error {}

/** One argument of a command line as readArgs reads it. */
export interface ArgRead {
  /** A flag (`--seeds`, from `--seeds=3` too), `-h`, or a positional argument. */
  arg: string;
  /** The flag's value: what follows `=`, else the next argument (undefined when there is none, and for a flag that takes none). */
  value: string | undefined;
  /** The value came after `=`: it is the flag's whatever it looks like (`--cluster=--x`, `--cluster=`). */
  inline: boolean;
}

/**
 * `argv` read as the commands take it (meridian demo, check, verify, host, bench): a flag's
 * value follows it (`--seeds 3`) or its `=` (`--seeds=3`); `--help`, `-h` and the flags in
 * `bare` take none; anything else is a positional argument. A value is never read as a flag:
 * `--cluster -h` names a cluster, not the help (before, `-h` anywhere printed the help, and
 * only bench took `--flag=value`).
 */
export function readArgs(argv: readonly string[], bare: ReadonlySet<string> = new Set()): ArgRead[] {
  const out: ArgRead[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 2) out.push({ arg: arg.slice(0, eq), value: arg.slice(eq + 1), inline: true });
    else if (arg.startsWith('--') && arg !== '--help' && !bare.has(arg)) out.push({ arg, value: argv[++i], inline: false });
    else out.push({ arg, value: undefined, inline: false });
  }
  return out;
}

/**
 * Whether `--help` or `-h` stands where a flag goes (not as another flag's value). Not
 * `--help=x`, which readFlags refuses: it printed the usage and exited 0 in check, verify, host
 * and demo, where bench refused it (an audit, session 69).
 */
export function wantsHelp(argv: readonly string[], bare?: ReadonlySet<string>): boolean {
  return readArgs(argv, bare).some((r) => (r.arg === '--help' && !r.inline) || r.arg === '-h');
}

/**
 * `argv` as readArgs reads it, for a command's flag parser (wantsHelp was asked first): a
 * FlagError for `--help=x`, as for any flag that takes no value given one (noValue).
 */
export function readFlags(argv: readonly string[], bare?: ReadonlySet<string>): ArgRead[] {
  const reads = readArgs(argv, bare);
  for (const read of reads) if (read.arg === '--help') noValue(read);
  return reads;
}

/**
 * How a flag error shows the value a flag got: quoted, or "got no value" when the command line
 * ended after the flag. Every flag error of the commands says it this way (`meridian check
 * --json`, `meridian host --data-dir` said `got null`, which reads as a bug: audit, session 60).
 */
export function gotValue(value: string | undefined): string {
  return value === undefined ? 'got no value' : `got ${JSON.stringify(value)}`;
}

/** A FlagError for a flag that takes no value given one with `=` (`--shrink=yes`). */
export function noValue(read: ArgRead): void {
  if (read.inline) throw new FlagError(`${read.arg} takes no value, got ${JSON.stringify(read.value)}`);
}

/** `value` if it is one of `allowed`; else a FlagError naming the flag, the choices and what it got (gotValue). */
export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new FlagError(`${flag} takes ${allowed.join(', ')}, ${gotValue(value)}`);
  return value as T;
}

/**
 * Records that `flag` was given `value`, in `given`; a FlagError naming the flag and both values
 * when it was given before with another value (the last would win silently: a run of other
 * seeds, a file not written where asked). The same value again is harmless: scripts that put
 * flags together (scripts/mutants.mjs) may repeat one. No value (`--seeds 3 --seeds`, a flag
 * that takes none) is not recorded: the flag's own check then says it got no value, where this
 * said `given twice ("3" and null)`.
 */
export function once(given: Map<string, string | undefined>, flag: string, value: string | undefined): void {
  if (value === undefined) return;
  if (given.has(flag) && given.get(flag) !== value)
    throw new FlagError(`${flag} given twice (${JSON.stringify(given.get(flag))} and ${JSON.stringify(value)}): give it once`);
  given.set(flag, value);
}

/** An integer as a number flag takes it: decimal digits, a minus sign at most (not 0x10, 1e2, +5, 1.0 or ' 5'). */
const DECIMAL_INTEGER = /^-?\d+$/;

/** `value` as a number if it is an integer in decimal digits (DECIMAL_INTEGER), else NaN: what every integer argument of the commands and bench scripts reads. */
export function decimalInt(value: string | undefined): number {
  return value !== undefined && DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
}

/** A fraction as a number flag takes it: decimal digits with a point at most (0.25, .5, 1; not 1e-1 or 0x1). */
const DECIMAL_FRACTION = /^\d*\.?\d+$/;

/**
 * `value` as an integer from `min` to `max`, written in decimal digits; else a FlagError naming
 * the flag and the range. Number() alone read `--seeds 0x10` as 16 and `--seeds 1e2` as 100:
 * a value in those forms is refused, saying that decimal digits are wanted.
 */
export function intFlag(value: string | undefined, flag: string, min: number, max: number): number {
  const n = decimalInt(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new FlagError(`${flag} needs an integer from ${min} to ${max}${inOtherForm(value) ? ' in decimal digits' : ''}, ${gotValue(value)}`);
  return n;
}

/** `value` as a number from 0 to 1 in decimal notation (0.25); else a FlagError naming the flag, as intFlag. */
export function fractionFlag(value: string | undefined, flag: string): number {
  const n = value !== undefined && DECIMAL_FRACTION.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new FlagError(`${flag} needs a number from 0 to 1${inOtherForm(value) ? ' in decimal notation (such as 0.25)' : ''}, ${gotValue(value)}`);
  return n;
}

/** `value` as a number above 0 and at most `max` in decimal notation (0.5, 10); else a FlagError naming the flag, as intFlag. */
export function positiveDecimalFlag(value: string | undefined, flag: string, max: number): number {
  const n = value !== undefined && DECIMAL_FRACTION.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new FlagError(
      `${flag} needs a number above 0 and at most ${max}${inOtherForm(value) ? ' in decimal notation (such as 0.5 or 10)' : ''}, ${gotValue(value)}`,
    );
  return n;
}

/** Whether `value` is a number Number() reads but not written in decimal (0x10, 1e2, +5, ' 5'): the message then says which form is wanted. */
function inOtherForm(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && Number.isFinite(Number(value)) && !/^-?\d*\.?\d+$/.test(value);
}

/**
 * `n` (from 0 to 1e21) as fractionFlag and positiveDecimalFlag read it back: String() writes
 * numbers under 1e-6 with an exponent (1e-7), which the flags refuse, so a replay line printed
 * with it would not run.
 */
export function decimalText(n: number): string {
  const text = String(n);
  const exp = /^(\d)(?:\.(\d+))?e-(\d+)$/.exec(text);
  return exp === null ? text : `0.${'0'.repeat(Number(exp[3]) - 1)}${exp[1]}${exp[2] ?? ''}`;
}
