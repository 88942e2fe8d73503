/**
 * `meridian verify FILE`: the checkers on a history read from a file, with no cluster. What it
 * reads: a document `meridian check --history` wrote (each of its runs checked with the model
 * it names), a JSON array of single-key operations (`cluster.history()`) or of transactions as
 * Elle's events (`cluster.history({ format: 'elle' })`), either as historyToJson writes it (its
 * values as recorded: JSON.stringify loses NaN, Infinity and byte arrays), or one of Porcupine's test data
 * formats (`--format jepsen-etcd|kv-edn`, src/harness/parse.ts), or a Jepsen transactional
 * history in EDN as Elle reads it (`--format elle-edn`, src/harness/elle/edn.ts). Exit codes: 0 every run
 * passed, 1 one failed or its checker ran out of budget, or there was nothing to check (unknown is not a pass),
 * or a document's run itself failed (verify repeats only the check of its history), 2 bad flags
 * or a file that cannot be read or is not a history (the error names the file and the field).
 */
import { readFileSync } from 'node:fs';
import { MeridianError, ValidationError } from '../core/errors.js';
import { historyFromJson, pathText, shortPath, tooDeep } from '../cluster/history.js';
import { HISTORY_NESTING_MAX } from '../core/limits.js';
import { entryKinds, type History } from '../core/history.js';
import { checkTransactions, describeAnomaly } from '../harness/elle/index.js';
import { TXN_CONSISTENCIES, TXN_MODELS, validateTransactions, type EntryField } from '../harness/elle/history.js';
import type { Anomaly, ElleOp, TxnConsistency, TxnModel } from '../harness/elle/types.js';
import { CYCLE_SEARCH_BUDGET } from '../harness/elle/classify.js';
import { CHECK_STEPS_MAX, validateHistory, type Violation } from '../harness/linearizability.js';
import { CHECK_BUDGET_MAX, searchBudgetFor, stepsMaxFor } from '../harness/check-budget.js';
import { MODEL_NAMES, type ModelName } from '../harness/models.js';
import { checkLinearizable } from '../harness/parallel.js';
import { parseJepsenEtcdLog, parseKvEdn } from '../harness/parse.js';
import { readElleEdn } from '../harness/elle/edn.js';
import { ANOMALIES_SHOWN, timelineHtml, type TimelineRun } from '../harness/timeline.js';
import { count, formatViolation, undecidedLine, undecidedWhy } from './format.js';
import { FlagError, once, oneOf, positiveDecimalFlag, readFlags, wantsHelp } from './flags.js';
import { outputFile, sameFile, writable, writeText } from './output-file.js';

const FORMATS = ['json', 'elle-edn', 'jepsen-etcd', 'kv-edn'] as const;
type Format = (typeof FORMATS)[number];
type Model = ModelName | TxnModel;
const MODELS: readonly Model[] = [...MODEL_NAMES, ...TXN_MODELS];

export const VERIFY_USAGE = `usage: meridian verify FILE [--model ${MODELS.join('|')}] [--consistency ${TXN_CONSISTENCIES.join('|')}] [--format ${FORMATS.join('|')}] [--timeline OUT.html] [--check-budget B]
  FILE           a history; - reads it from stdin
  --format F     json (default): a document written by meridian check --history, or a JSON array of
                 single-key operations (cluster.history()) or of transactions as Elle's events
                 (cluster.history({ format: 'elle' }); a read of a missing key has no output field: null is
                 a value), or either as historyToJson(history) writes it (save histories so: JSON.stringify
                 writes NaN and Infinity as null and a byte array as an object); elle-edn: a Jepsen history of transactions in EDN
                 (its :f :txn operations); jepsen-etcd, kv-edn: Porcupine's test data
  --model M      register or kv for single-key operations (default register; kv is Porcupine's
                 store of strings), list-append or rw-register for transactions (default list-append);
                 a --history document names its own, and so do Porcupine's formats (kv-edn kv, jepsen-etcd register)
  --consistency  transactions only: the level they must meet, strict-serializable (default), or a weaker one
  --timeline OUT an HTML timeline of every run to OUT (self-contained): a lane per client/process, a bar
                 per operation coloured by outcome, the witness or anomaly's transactions outlined, the
                 faults a check --history document recorded drawn on the time axis; - is refused
  --check-budget B
                 the checkers' search budget, B times the default (above 0, at most ${CHECK_BUDGET_MAX}; default 1:
                 ${CHECK_STEPS_MAX.toLocaleString('en-US')} steps per key, ${CYCLE_SEARCH_BUDGET.toLocaleString('en-US')} edges per cycle search of transactions): a run left
                 undecided (unknown) may be decided with more
  exit status: 0 every run passed, 1 one failed or was not decided (unknown; so is nothing to check), or a
                 --history document's run itself failed (its other checks are not repeated here), 2 bad flags or input,
                 70 verify itself failed (an internal error: a bug to report)
  a flag's value may also follow an =: --format=elle-edn`;

export interface VerifyIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface VerifyArgs {
  file: string;
  format: Format;
  model?: Model;
  consistency?: TxnConsistency;
  /** --timeline: the HTML timeline of every run, to this file. */
  timeline?: string;
  /** --check-budget: the checkers' search budgets, this many times their defaults. */
  checkBudget?: number;
}

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs {
  let file: string | undefined;
  const args: Partial<VerifyArgs> = {};
  const given = new Map<string, string | undefined>();
  for (const { arg: flag, value } of readFlags(argv)) {
    if (flag.startsWith('--')) once(given, flag, value);
    switch (flag) {
      case '--format':
        args.format = oneOf(value, flag, FORMATS);
        break;
      case '--model':
        args.model = oneOf(value, flag, MODELS);
        break;
      case '--consistency':
        args.consistency = oneOf(value, flag, TXN_CONSISTENCIES);
        break;
      case '--timeline':
        args.timeline = outputFile(value, flag, 'a file to write the HTML timeline to');
        break;
      case '--check-budget':
        args.checkBudget = positiveDecimalFlag(value, flag, CHECK_BUDGET_MAX);
        break;
      default:
        if (flag.startsWith('--')) throw new FlagError(`unknown verify option ${JSON.stringify(flag)}`);
        if (file !== undefined) throw new FlagError(`one FILE only, got ${JSON.stringify(file)} and ${JSON.stringify(flag)}`);
        file = flag;
    }
  }
  if (file === undefined || file === '') throw new FlagError('FILE is missing: the history to check (- for stdin)');
  if (args.timeline !== undefined && file !== '-' && sameFile(file, args.timeline))
    throw new FlagError(`--timeline ${JSON.stringify(args.timeline)} is FILE, the history read: the HTML would overwrite it; give another path`);
  return {
    file,
    format: args.format ?? 'json',
    ...(args.model === undefined ? {} : { model: args.model }),
    ...(args.consistency === undefined ? {} : { consistency: args.consistency }),
    ...(args.timeline === undefined ? {} : { timeline: args.timeline }),
    ...(args.checkBudget === undefined ? {} : { checkBudget: args.checkBudget }),
  };
}

/** A history to check: single-key operations or transactions, with the model to check it by. */
type Run = ({ kind: 'kv'; model: ModelName; history: History } | { kind: 'txn'; model: TxnModel; history: ElleOp[] }) & {
  label: string;
  /** A `meridian check --history` document's run: the verdict the run itself printed, and its outcome when the document says. */
  recorded?: Recorded;
  /** A `meridian check --history` document's run: its fault log lines (for --timeline). */
  faults?: string[];
  /** How errors name a field of entry i (history[i] when not given; elle-edn names the line). */
  name?: EntryField;
};

type Outcome = 'pass' | 'fail' | 'unknown';
const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'unknown'];

/** What a `meridian check --history` run itself decided: its verdict line, and its outcome when known. */
interface Recorded {
  verdict: string;
  outcome: Outcome | undefined;
}

/**
 * What a document's run itself decided. Since session 55 `outcome` and `verdict` as the run's
 * verdict line printed them (`FAILED: linearizable, live (... a promise was lost)`); before,
 * a kv run's `verdict` was the checker's word alone (`linearizable` for a run that failed on
 * a lost promise) beside `outcome`, and a txn run's was the checker's words beside `ok`: read
 * with the word its verdict line began with.
 */
function recordedOf(run: { verdict?: unknown; outcome?: unknown; ok?: unknown }, where: string): Recorded | undefined {
  // A field there but of another type or value is refused, named: a verdict of 42 read as none,
  // and an outcome of "bogus" as unknown-to-the-document (an audit, session 57).
  if (run.verdict !== undefined && typeof run.verdict !== 'string')
    throw new InputError(`${where}.verdict: expected a string (the run's verdict line), got ${JSON.stringify(run.verdict)}`);
  if (run.outcome !== undefined && !OUTCOMES.some((o) => o === run.outcome))
    throw new InputError(`${where}.outcome: expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(run.outcome)}`);
  if (run.ok !== undefined && typeof run.ok !== 'boolean') throw new InputError(`${where}.ok: expected true or false, got ${JSON.stringify(run.ok)}`);
  const verdict = run.verdict;
  let outcome = OUTCOMES.find((o) => o === run.outcome);
  // No outcome field: the word the verdict line begins with (a FAILED run without one counted
  // as passed when its history checked: an audit, session 57).
  if (outcome === undefined && verdict !== undefined) outcome = VERDICT_WORDS.find((w) => verdict.startsWith(`${w.word}: `))?.outcome;
  // An older txn run: ok, or not; a search out of budget with nothing else named was unknown.
  if (outcome === undefined && typeof run.ok === 'boolean')
    outcome = run.ok ? 'pass' : verdict !== undefined && /^not decided \([^)]*\)$/.test(verdict) ? 'unknown' : 'fail';
  if (verdict === undefined) return outcome === undefined ? undefined : { verdict: outcome, outcome };
  if (outcome === undefined || VERDICT_WORDS.some((w) => verdict.startsWith(`${w.word}: `))) return { verdict, outcome };
  return { verdict: `${VERDICT_WORDS.find((w) => w.outcome === outcome)!.word}: ${verdict}`, outcome };
}

/** The word a run's verdict line begins with, by outcome. */
const VERDICT_WORDS: ReadonlyArray<{ word: string; outcome: Outcome }> = [
  { word: 'ok', outcome: 'pass' },
  { word: 'FAILED', outcome: 'fail' },
  { word: 'UNKNOWN', outcome: 'unknown' },
];

/** The input is not a history: the message names the file and what is wrong. */
class InputError extends Error {}

const isTxnModel = (m: Model): m is TxnModel => (TXN_MODELS as readonly string[]).includes(m);

/** Why a model (`named`: the flag or the document's) does not suit what `where` holds: transactions when `txn`. */
function modelMismatch(named: string, txn: boolean, where: string): string {
  return txn
    ? `${named} is for single-key operations; ${where} holds transactions (Elle's events): use ${TXN_MODELS.join(' or ')}`
    : `${named} is for transactions; ${where} holds single-key operations: use ${MODEL_NAMES.join(' or ')}`;
}

/**
 * Transactions or single-key operations: by the model when one is named, else by what most
 * entries look like (Elle's events have an `f`, single-key operations a `kind`; none, or a tie:
 * single-key operations). An entry that does not fit is named by the validation that follows.
 * `model` is from --model (a FlagError when most entries are of the other kind) or from the
 * document (an InputError).
 */
function runOf(label: string, history: unknown[], model: { name: Model; from: 'flag' | 'document' } | undefined, where: string): Run {
  const { events, operations } = entryKinds(history);
  const txn = model === undefined ? events > operations : isTxnModel(model.name);
  if (model !== undefined && (txn ? operations > events : events > operations)) {
    const message = modelMismatch(model.from === 'flag' ? `--model ${model.name}` : `the document's model ${model.name}`, !txn, where);
    throw model.from === 'flag' ? new FlagError(message) : new InputError(message);
  }
  if (txn) return { label, kind: 'txn', model: (model?.name as TxnModel | undefined) ?? 'list-append', history: history as ElleOp[] };
  return { label, kind: 'kv', model: (model?.name as ModelName | undefined) ?? 'register', history: history as History };
}

/** A number in a JSON text that JSON.parse does not read as written: its path and its text. */
interface Inexact {
  path: Array<string | number>;
  literal: string;
}

/**
 * What is wrong with an inexact number: an integer a double does not hold, or a number beyond
 * a double's range, which reads as Infinity (1e400 and 2e400 both: a put of one and a get of the
 * other passed, an audit of session 61), or as 0 (1e-400).
 */
function inexactProblem({ literal }: Inexact): string {
  const read = Number(literal);
  if (!Number.isFinite(read) || read === 0)
    return `expected a number within a double's range (a magnitude between about 5e-324 and 1.8e308, or 0), got ${literal}, which reads as ${read}: two such numbers would read as one (a history with NaN or Infinity as values: save it with historyToJson)`;
  return `expected an integer a double holds exactly, or as JSON.stringify writes one, got ${literal}, which reads as ${read}`;
}

/**
 * The number literals of a JSON text (valid: JSON.parse read it) that JSON.parse cannot read
 * as written: one beyond a double's range (1e400 reads as Infinity, 1e-400 as 0), and an
 * integer a double does not hold: 9007199254740993 reads as ...992, and the two would be one value. Such literals
 * are what writers of 64-bit integers (Jepsen, int64 fields) give. Taken: an integer a double
 * holds exactly, one as JSON.stringify writes the double it reads as (2^64 as
 * 18446744073709552000: what JSON.stringify writes always reads back as the number it wrote),
 * and any number with a fraction or an exponent (a double's notation: 1e21 as 1e+21). The text is read, not the parsed value: a refusal of
 * every integer above 2^53 - 1 refused histories saved from cluster.history() (an audit,
 * session 58). `found` is told of each, with its path from the top; true stops the scan.
 */
function inexactNumbers(text: string, found: (inexact: Inexact) => boolean): void {
  const path: Array<string | number> = [];
  /** Per open container: an object (true) or an array. */
  const objects: boolean[] = [];
  let keyNext = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: its end is the next quote not escaped; an object's key names the path.
      let j = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(j); d !== 0x22; d = text.charCodeAt(j)) {
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else j++;
      }
      if (keyNext) {
        path[path.length - 1] = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        keyNext = false;
      }
      i = j + 1;
    } else if (c === 0x7b || c === 0x5b) {
      objects.push(c === 0x7b);
      path.push(c === 0x7b ? '' : 0);
      keyNext = c === 0x7b;
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      objects.pop();
      path.pop();
      i++;
    } else if (c === 0x2c) {
      if (objects[objects.length - 1] === true) keyNext = true;
      else (path[path.length - 1] as number)++;
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let integer = true;
      let exponent = false;
      for (let d = text.charCodeAt(j); j < n; d = text.charCodeAt(++j)) {
        if (d === 0x65 || d === 0x45) exponent = true;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) integer = false;
        else if (d < 0x30 || d > 0x39) break;
      }
      // 15 characters or fewer and no exponent: below 10^15 and above 10^-14 (or 0), which a
      // double holds (an integer exactly).
      if (exponent || j - i > 15) {
        const literal = text.slice(i, j);
        const read = Number(literal);
        // Out of range: Infinity, or 0 from digits not all 0 (the exponent's are not the value's).
        const outOfRange = !Number.isFinite(read) || (read === 0 && /[1-9]/.test(literal.replace(/[eE].*$/, '')));
        const inexact = outOfRange || (integer && BigInt(literal) !== BigInt(read) && String(read) !== literal);
        if (inexact && found({ path: [...path], literal })) return;
      }
      i = j;
    } else i++;
  }
}

/**
 * An InputError if `history` (`where` in `file`) nests deeper than HISTORY_NESTING_MAX, or
 * holds `inexact` (its path below `history`).
 */
function readable(history: unknown[], file: string, where: string, inexact: Inexact | undefined): void {
  const deep = tooDeep(history);
  let found: { path: string; problem: string } | undefined;
  if (deep !== undefined) found = { path: pathText(deep), problem: `nested more than ${HISTORY_NESTING_MAX} deep` };
  else if (inexact !== undefined) found = { path: pathText(inexact.path), problem: inexactProblem(inexact) };
  if (found === undefined) return;
  throw new InputError(`${file}: ${where}${shortPath(found.path)}: ${found.problem}`);
}

/**
 * JSON.parse's message with the line and column of the position it names (a character
 * position alone, in a file of many lines, left the reader to count: an audit, session 61).
 */
function jsonErrorText(message: string, text: string): string {
  const at = / at position (\d+)/.exec(message);
  if (at === null) return message;
  const pos = Number(at[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `${message}: line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

/** A note when `text` is JSON lines (a JSON value a line, more than one): verify reads one JSON document. */
function jsonLines(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return '';
  for (const line of lines.slice(0, 2)) {
    try {
      JSON.parse(line);
    } catch {
      return '';
    }
  }
  return '; it looks like JSON lines (a value a line), which verify does not read: give one JSON array of the operations';
}

/** The runs a JSON document holds: a `meridian check --history` document's, or one array's. */
function jsonRuns(text: string, file: string, model: Model | undefined): { runs: Run[]; about: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // EDN's maps begin with a keyword (`{:type :invoke ...}`): say which formats read it.
    const edn = /^\s*\[?\s*\{\s*:/.test(text) ? '; it looks like EDN: --format elle-edn or kv-edn' : '';
    throw new InputError(`${file}: not JSON (${jsonErrorText((error as Error).message, text)})${edn}${jsonLines(text)}`);
  }
  if (Array.isArray(doc)) {
    let inexact: Inexact | undefined;
    inexactNumbers(text, (found) => ((inexact = found), true));
    readable(doc, file, 'history', inexact);
    const run = runOf('history', doc, model === undefined ? undefined : { name: model, from: 'flag' }, file);
    return { runs: [run], about: run.kind === 'txn' ? "transactions as Elle's events" : 'single-key operations' };
  }
  const d = doc as { command?: unknown; model?: unknown; runs?: unknown; format?: unknown; history?: unknown };
  if (typeof doc === 'object' && doc !== null && d.format !== undefined) {
    // historyToJson's document: its values tagged where JSON cannot hold them, read back as recorded.
    if (Array.isArray(d.history)) {
      let inexact: Inexact | undefined;
      inexactNumbers(text, (found) => found.path[0] === 'history' && ((inexact = { ...found, path: found.path.slice(1) }), true));
      readable(d.history, file, 'history', inexact);
    }
    let history: unknown[];
    try {
      history = historyFromJson(doc);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new InputError(`${file}: ${error.message}`);
    }
    const run = runOf('history', history, model === undefined ? undefined : { name: model, from: 'flag' }, file);
    return { runs: [run], about: `${run.kind === 'txn' ? "transactions as Elle's events" : 'single-key operations'}, written by historyToJson` };
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray(d.runs))
    throw new InputError(
      `${file}: expected a JSON array of history operations, a document historyToJson wrote (an object with format and history) or a meridian check --history document (an object with runs), got ${doc === null ? 'null' : typeof doc}`,
    );
  if (d.model !== undefined && !(MODELS as readonly unknown[]).includes(d.model))
    throw new InputError(`${file}: model: expected one of ${MODELS.join(', ')}, got ${JSON.stringify(d.model)}`);
  if (model !== undefined && d.model !== undefined && model !== d.model)
    throw new FlagError(`--model ${model}: ${file} was recorded for the ${String(d.model)} model (leave --model out)`);
  // The first inexact integer of each run's history (what else the document holds is not read).
  const inexact = new Map<number, Inexact>();
  inexactNumbers(text, ({ path, literal }) => {
    const [runs, i, history] = path;
    if (runs === 'runs' && typeof i === 'number' && history === 'history' && path.length > 3 && !inexact.has(i))
      inexact.set(i, { path: path.slice(3), literal });
    return false;
  });
  const runs = d.runs.map((r: unknown, i) => {
    const run = r as { commit?: unknown; history?: unknown; verdict?: unknown; outcome?: unknown; ok?: unknown; faults?: unknown };
    if (typeof r !== 'object' || r === null || !Array.isArray(run.history))
      throw new InputError(`${file}: runs[${i}].history: expected an array of history operations`);
    readable(run.history, file, `runs[${i}].history`, inexact.get(i));
    // Older documents have no faults; when there, the run's fault log lines.
    if (run.faults !== undefined && (!Array.isArray(run.faults) || !run.faults.every((f) => typeof f === 'string')))
      throw new InputError(
        `${file}: runs[${i}].faults: expected an array of strings (the run's fault log lines), got ${Array.isArray(run.faults) ? `an array holding ${JSON.stringify(run.faults.find((f) => typeof f !== 'string') ?? null)}` : JSON.stringify(run.faults)}`,
      );
    const label = typeof run.commit === 'string' ? `run ${i + 1} (${run.commit})` : `run ${i + 1}`;
    const from =
      model !== undefined
        ? ({ name: model, from: 'flag' } as const)
        : d.model === undefined
          ? undefined
          : ({ name: d.model as Model, from: 'document' } as const);
    const checked: Run = runOf(label, run.history, from, `${file} runs[${i}]`);
    if (run.faults !== undefined) checked.faults = run.faults as string[];
    const recorded = recordedOf(run, `${file}: runs[${i}]`);
    return recorded === undefined ? checked : { ...checked, recorded };
  });
  return { runs, about: typeof d.command === 'string' ? `recorded by ${d.command}` : 'a meridian check --history document' };
}

function readRuns(args: VerifyArgs): { runs: Run[]; about: string } {
  const name = args.file === '-' ? 'stdin' : args.file;
  let text: string;
  try {
    text = readFileSync(args.file === '-' ? 0 : args.file, 'utf8');
  } catch (error) {
    throw new InputError(`${name}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  // A byte order mark, which some editors write, is no part of the history (JSON.parse refused it).
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  if (args.format === 'json') return jsonRuns(text, name, args.model);
  // elle-edn holds transactions, Porcupine's formats single-key operations.
  const txn = args.format === 'elle-edn';
  if (args.model !== undefined && isTxnModel(args.model) !== txn) throw new FlagError(modelMismatch(`--model ${args.model}`, txn, `--format ${args.format}`));
  // Each of Porcupine's formats is checked by its own model: kv-edn's store of strings (a missing
  // key reads "", append concatenates) is no register, nor an etcd register a kv store. The other
  // model was taken: kv-edn under register left every key with an append unchecked (not a pass,
  // pointing to transactions) and failed a read of "" of a missing key; jepsen-etcd under kv was
  // refused as "history[0].kind" (audit, session 68).
  const porcupineModel = args.format === 'kv-edn' ? 'kv' : 'register';
  if (!txn && args.model !== undefined && args.model !== porcupineModel)
    throw new FlagError(
      `--model ${args.model}: --format ${args.format} is checked with the ${porcupineModel} model (Porcupine's own for it): leave --model out`,
    );
  let history: unknown[];
  let entryField: EntryField | undefined;
  try {
    // With list-append, the EDN reader turns a completed read of nil into [] (as Elle reads it).
    if (txn) ({ ops: history, name: entryField } = readElleEdn(text, (args.model as TxnModel | undefined) ?? 'list-append'));
    else history = args.format === 'jepsen-etcd' ? parseJepsenEtcdLog(text) : parseKvEdn(text);
  } catch (error) {
    if (!(error instanceof MeridianError)) throw error;
    throw new InputError(`${name}: not ${args.format} (${error.message})`);
  }
  // The parsers pass over what is not an operation they check (a Jepsen log's other lines, the
  // nemesis's operations): none at all is a wrong file or format.
  if (history.length === 0 && text.trim() !== '') throw new InputError(`${name}: no ${txn ? 'transactions (:f :txn)' : `${args.format} operations`} in it`);
  if (txn)
    return {
      runs: [
        {
          label: 'history',
          kind: 'txn',
          model: (args.model as TxnModel | undefined) ?? 'list-append',
          history: history as ElleOp[],
          ...(entryField === undefined ? {} : { name: entryField }),
        },
      ],
      about: "a Jepsen history in EDN, Elle's input",
    };
  return { runs: [{ label: 'history', kind: 'kv', model: porcupineModel, history: history as History }], about: `Porcupine's ${args.format} format` };
}

/** A run's outcome and, for --timeline, what the timeline draws of it (its verdict line, the checker's findings). */
async function verifyRun(
  run: Run,
  consistency: TxnConsistency,
  checkBudget: number | undefined,
  io: VerifyIo,
): Promise<{ outcome: Outcome; timeline: TimelineRun }> {
  const faults = run.faults === undefined ? {} : { faults: run.faults };
  const result = (
    outcome: Outcome,
    verdict: string,
    found: { violations?: Violation[]; anomalies?: Anomaly[]; undecided?: string[]; memoryBound?: string[]; unchecked?: string[] } = {},
  ): { outcome: Outcome; timeline: TimelineRun } => ({
    outcome,
    timeline:
      run.kind === 'kv'
        ? {
            label: run.label,
            verdict,
            outcome,
            ...faults,
            kind: 'kv',
            history: run.history,
            violations: found.violations ?? [],
            undecided: found.undecided ?? [],
            memoryBound: found.memoryBound ?? [],
            unchecked: found.unchecked ?? [],
          }
        : { label: run.label, verdict, outcome, ...faults, kind: 'txn', history: run.history, anomalies: found.anomalies ?? [] },
  });
  if (run.history.length === 0) {
    io.out(`${run.label}: no operations: nothing to check`);
    return result('unknown', 'no operations: nothing to check');
  }
  if (run.kind === 'txn') {
    // No transaction known to have committed: no read or write is known, nothing to check
    // (such a history passed, exit 0: an audit, session 57).
    if (!run.history.some((e) => e.type === 'ok')) {
      io.out(`${run.label}: no transaction completed (ok): nothing to check`);
      return result('unknown', 'no transaction completed (ok): nothing to check');
    }
    const r = checkTransactions(run.history, { model: run.model, consistency, searchBudget: searchBudgetFor(checkBudget) });
    const txns = run.history.filter((e) => e.type === 'invoke').length;
    const label = `${run.label}: ${count(txns, 'transaction')}, ${run.model}`;
    if (r.ok) {
      io.out(`${label}: ${consistency}`);
      return result('pass', `${label}: ${consistency}`);
    }
    if (r.undecided !== undefined) {
      const why = `UNKNOWN: the search for ${r.undecided.join(', ')} ran out of its budget (not a pass)`;
      io.out(`${label}: ${why}`);
      return result('unknown', `${label}: ${why}`);
    }
    const verdict = `FAILED: not ${consistency} (${[...new Set(r.anomalies.map((a) => a.type))].join(', ')})`;
    io.out(`${label}: ${verdict}`);
    for (const a of r.anomalies.slice(0, ANOMALIES_SHOWN)) io.out(`  ${describeAnomaly(a)}`);
    if (r.anomalies.length > ANOMALIES_SHOWN) io.out(`  ... and ${r.anomalies.length - ANOMALIES_SHOWN} more`);
    return result('fail', `${verdict}: ${label}`, { anomalies: r.anomalies });
  }
  const r = await checkLinearizable(run.history, run.model, { stepsMax: stepsMaxFor(checkBudget) });
  const label = `${run.label}: ${count(run.history.length, 'operation')} on ${count(r.keys, 'key')}, ${run.model}`;
  // Every operation failed, or was a read of unknown outcome: the checker had no key to look at
  // (such a history passed, exit 0: an audit, session 57).
  if (r.verdict === 'linearizable' && r.keys === 0) {
    io.out(`${label}: no operation that took effect or may have: nothing to check`);
    return result('unknown', `${label}: nothing to check`);
  }
  if (r.verdict === 'linearizable') {
    io.out(`${label}: linearizable`);
    return result('pass', `${label}: linearizable`);
  }
  if (r.verdict === 'not-linearizable') {
    const verdict = `FAILED: not linearizable (${count(r.violations.length, 'key')})`;
    io.out(`${label}: ${verdict}`);
    for (const v of r.violations) for (const line of formatViolation(v)) io.out(`  ${line}`);
    // Keys left undecided beside a failing one (cut short once it failed, or out of budget):
    // said as check --seed says them (they went unsaid: found by an audit, session 55).
    if (r.timedOut.length > 0) io.out(`  ${undecidedLine(r.timedOut, r.memoryBound)}`);
    if (r.unchecked.length > 0) io.out(`  ${UNCHECKED}: ${r.unchecked.join(', ')}`);
    return result('fail', `${verdict}: ${label}`, { violations: r.violations, undecided: r.timedOut, memoryBound: r.memoryBound, unchecked: r.unchecked });
  }
  const why = [
    ...(r.timedOut.length > 0 ? [undecidedWhy(r.timedOut, r.memoryBound)] : []),
    ...(r.unchecked.length > 0 ? [`${UNCHECKED}: ${r.unchecked.join(', ')}`] : []),
  ];
  const verdict = `UNKNOWN: ${why.join('; ')} (not a pass)`;
  io.out(`${label}: ${verdict}`);
  return result('unknown', `${verdict}: ${label}`, { undecided: r.timedOut, memoryBound: r.memoryBound, unchecked: r.unchecked });
}

/** Why a key is in a CheckResult's `unchecked`. */
const UNCHECKED = "keys a list append wrote, which the register model does not check (check them as transactions: cluster.history({ format: 'elle' }))";

export async function main(argv: string[], io: VerifyIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(VERIFY_USAGE);
    return 0;
  }
  let args: VerifyArgs;
  let runs: Run[];
  let about: string;
  try {
    args = parseVerifyArgs(argv);
    ({ runs, about } = readRuns(args));
  } catch (error) {
    if (error instanceof FlagError) {
      io.err(`meridian verify: ${error.message}`);
      io.err(VERIFY_USAGE);
      return 2;
    }
    if (error instanceof InputError || error instanceof MeridianError) {
      io.err(`meridian verify: ${error.message}`);
      return 2;
    }
    throw error;
  }
  // A run with no operations reads as single-key ones: it is nothing to check, below, not a misuse of the flag.
  if (args.consistency !== undefined && runs.some((r) => r.kind === 'kv' && r.history.length > 0)) {
    io.err('meridian verify: --consistency is for transactions; single-key operations are checked linearizable');
    return 2;
  }
  // Every run's history before any is checked (transactions paired, values unique per key too): the first bad field, named.
  for (const run of runs) {
    try {
      if (run.kind === 'txn') validateTransactions(run.history, run.model, run.name);
      else validateHistory(run.history, run.model);
    } catch (error) {
      if (!(error instanceof MeridianError)) throw error;
      io.err(`meridian verify: ${run.label}: ${error.message}`);
      return 2;
    }
  }
  // --timeline: a file that cannot be written fails now, before any run is checked.
  if (args.timeline !== undefined && !writable('meridian verify', args.timeline, '--timeline', io.err)) return 2;
  const consistency = args.consistency ?? 'strict-serializable';
  io.out(`meridian verify: ${args.file === '-' ? 'stdin' : args.file}, ${count(runs.length, 'run')} (${about})`);
  // A document with no runs checks nothing: not a pass, as an empty history is not.
  if (runs.length === 0) io.out('no runs: nothing to check');
  const outcomes: Outcome[] = [];
  const timeline: TimelineRun[] = [];
  for (const run of runs) {
    const checked = await verifyRun(run, consistency, args.checkBudget, io);
    if (run.recorded === undefined) {
      outcomes.push(checked.outcome);
      timeline.push(checked.timeline);
      continue;
    }
    // The run checked more than its history (final reads, liveness, replicas' states): what it
    // said. A run that failed counts failed whatever its history checks: verify repeats only
    // the history's check, so it cannot clear the rest (a run failed by a lost promise passed,
    // exit 0: found by an audit, session 55). One left unknown (its checker out of budget) is
    // decided by the check here.
    io.out(`  the run itself: ${run.recorded.verdict}`);
    const outcome = run.recorded.outcome === 'fail' ? 'fail' : checked.outcome;
    if (outcome !== checked.outcome) io.out('  counted failed: the run itself failed, and verify repeats only the check of its history');
    outcomes.push(outcome);
    timeline.push({ ...checked.timeline, outcome, verdict: `${checked.timeline.verdict}; the run itself: ${run.recorded.verdict}` });
  }
  const n = (o: Outcome): number => outcomes.filter((x) => x === o).length;
  io.out(`verify: ${count(runs.length, 'run')}, ${n('pass')} passed, ${n('fail')} failed, ${n('unknown')} unknown`);
  if (args.timeline !== undefined) {
    const html = timelineHtml({ title: args.file === '-' ? 'stdin' : args.file, runs: timeline });
    if (!writeText('meridian verify', args.timeline, html, '--timeline', io.err)) return 2;
    io.out(`timeline: written to ${args.timeline}`);
  }
  return runs.length > 0 && n('pass') === runs.length ? 0 : 1;
}
