/**
 * Parsers for a peer's linearizability test data (Porcupine's `test_data`, see
 * shared/data/porcupine/README.md), so Meridian's checker can be held to the same verdicts.
 * Time is the line number: only the order of events matters.
 */
import { ValidationError } from '../core/errors.js';
import type { History, HistoryOp, OpKind } from '../core/history.js';
import { ednStringBody } from './elle/edn.js';

/** Builds a history from invocation and completion events, one open operation per process. */
class EventLog {
  private readonly ops: HistoryOp[] = [];
  private readonly open = new Map<string, HistoryOp>();

  invoke(process: string, key: string, kind: OpKind, input: unknown, at: number): void {
    // A process invokes one operation at a time (Jepsen gives a crashed process a new number).
    const open = this.open.get(process);
    if (open !== undefined)
      throw new ValidationError(`line ${at}`, `process ${process} invokes again while its ${open.kind} of line ${open.invokeMs} is open (not completed)`);
    const op: HistoryOp = { id: this.ops.length, client: process, key, kind, input, invokeMs: at, outcome: 'unknown' };
    this.ops.push(op);
    this.open.set(process, op);
  }

  /**
   * Completes the process's open operation. A completion with nothing open, or of another kind
   * than the open one, is refused (a ValidationError naming the line): it was passed over, and
   * a stale read left out that way passed (an audit, session 57).
   */
  complete(process: string, kind: OpKind, outcome: HistoryOp['outcome'], output: unknown, at: number): void {
    const op = this.open.get(process);
    if (op === undefined) throw new ValidationError(`line ${at}`, `process ${process} completes a ${kind} it did not invoke (no operation of it is open)`);
    if (op.kind !== kind)
      throw new ValidationError(`line ${at}`, `process ${process} completes a ${kind}, but its open operation (line ${op.invokeMs}) is a ${op.kind}`);
    this.open.delete(process);
    op.outcome = outcome;
    if (outcome === 'unknown') return;
    op.completeMs = at;
    if (output !== undefined) op.output = output;
  }

  /** Operations never completed keep their 'unknown' outcome. */
  history(): History {
    return this.ops;
  }
}

type JepsenKind = 'read' | 'write' | 'cas';

const JEPSEN_LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.*?)\s*$/;
const CAS_ARGS = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/;

function jepsenValue(text: string, line: number): number | undefined {
  if (text === 'nil') return undefined;
  if (!/^-?\d+$/.test(text)) throw new ValidationError(`line ${line}`, `expected nil or an integer, got ${text}`);
  return safeInteger(text, line);
}

/** `digits` as a number; a ValidationError naming the line if a number cannot hold it exactly (beyond 2^53 - 1: two such values could read as one). */
function safeInteger(digits: string, line: number): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n))
    throw new ValidationError(`line ${line}`, `expected an integer of at most 2^53 - 1 in size (which a number holds exactly), got ${digits}`);
  return n;
}

/**
 * A Jepsen etcd log: one integer register, on key `key` (default ''). Lines that do not
 * look like operations are noise. A completed cas that answered `:fail` is a compare that
 * failed: it did not change the register, but it did read it, so it is recorded as an ok cas
 * with output false, as Porcupine's etcd model treats it. Timed-out (`:info`, or a read's
 * `:fail :timed-out`) and never-completed operations have unknown outcomes.
 */
export function parseJepsenEtcdLog(text: string, key = ''): History {
  const log = new EventLog();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const match = JEPSEN_LINE.exec(raw);
    if (match === null) return;
    const [, process, type, kindText, arg] = match;
    // JEPSEN_LINE matches no other kind.
    const kind = kindText as JepsenKind;
    const at = index + 1;
    if (type === 'invoke') {
      log.invoke(process, key, kind, jepsenInput(kind, arg, at), at);
      return;
    }
    if (type === 'info' || arg === ':timed-out') {
      log.complete(process, kind, 'unknown', undefined, at);
      return;
    }
    if (kind === 'cas') {
      log.complete(process, kind, 'ok', type === 'ok', at);
    } else if (type === 'fail') {
      log.complete(process, kind, 'fail', undefined, at);
    } else {
      log.complete(process, kind, 'ok', kind === 'read' ? jepsenValue(arg, at) : undefined, at);
    }
  });
  return log.history();
}

function jepsenInput(kind: JepsenKind, arg: string, line: number): unknown {
  if (kind === 'read') return undefined;
  if (kind === 'write') return jepsenValue(arg, line);
  const cas = CAS_ARGS.exec(arg);
  if (cas === null) throw new ValidationError(`line ${line}`, `expected [FROM TO], got ${arg}`);
  return { expected: safeInteger(cas[1] as string, line), next: safeInteger(cas[2] as string, line) };
}

const EDN_PROCESS = /:process\s+(\d+)/;
const EDN_TYPE = /:type\s+:(invoke|ok|fail|info)/;
const EDN_F = /:f\s+:(get|put|append)/;
const EDN_KEY = /:key\s+"((?:[^"\\]|\\.)*)"/;
const EDN_VALUE = /:value\s+(?:nil|"((?:[^"\\]|\\.)*)")/;

/** The fields of a kv-edn event in the order they are looked at, and what each allows. */
const KV_EDN_FIELDS = [
  { name: 'process', allowed: 'an integer' },
  { name: 'type', allowed: ':invoke, :ok, :fail or :info' },
  { name: 'f', allowed: ':get, :put or :append' },
  { name: 'key', allowed: 'a string' },
  { name: 'value', allowed: 'nil or a string' },
] as const;

/** A string's body as EDN reads it; a ValidationError naming the line for an escape EDN does not have. */
function ednString(body: string, line: number): string {
  const read = ednStringBody(body);
  if ('bad' in read) throw new ValidationError(`line ${line}`, `a string with an escape EDN does not have: ${read.bad}`);
  return read.text;
}

/**
 * Porcupine's key-value EDN logs: one `{:process P, :type T, :f F, :key K, :value V}` event
 * per line, with get, put and append on string keys (use the 'kv' model).
 */
export function parseKvEdn(text: string): History {
  const log = new EventLog();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const at = index + 1;
    const process = EDN_PROCESS.exec(line);
    const type = EDN_TYPE.exec(line);
    const f = EDN_F.exec(line);
    const key = EDN_KEY.exec(line);
    const value = EDN_VALUE.exec(line);
    if (process === null || type === null || f === null || key === null || value === null) {
      // The first field that is not as allowed, named as elle-edn names one (`line 3 :key`).
      const bad = KV_EDN_FIELDS.find((_, i) => [process, type, f, key, value][i] === null) as (typeof KV_EDN_FIELDS)[number];
      const given = new RegExp(`:${bad.name}\\s+("(?:[^"\\\\]|\\\\.)*"|[^\\s,}]+)`).exec(line);
      throw new ValidationError(
        `line ${at} :${bad.name}`,
        `expected ${bad.allowed}, got ${given === null ? 'none' : given[1]!.slice(0, 40)} (a line is {:process P, :type T, :f F, :key K, :value V})`,
      );
    }
    const kind = f[1] as 'get' | 'put' | 'append';
    // A string's body, or undefined for nil.
    const v = value[1] === undefined ? undefined : ednString(value[1], at);
    const k = ednString(key[1] as string, at);
    const client = process[1] as string;
    switch (type[1]) {
      case 'invoke':
        log.invoke(client, k, kind, kind === 'get' ? undefined : v, at);
        return;
      case 'ok':
        log.complete(client, kind, 'ok', kind === 'get' ? (v ?? '') : undefined, at);
        return;
      case 'fail':
        log.complete(client, kind, 'fail', undefined, at);
        return;
      default:
        log.complete(client, kind, 'unknown', undefined, at);
    }
  });
  return log.history();
}
