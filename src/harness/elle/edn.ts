/**
 * Jepsen's histories as Elle reads them: EDN, one operation map per line (history.edn) or a
 * vector of them, such as `{:type :invoke, :f :txn, :value [[:append 9 1] [:r 8 nil]],
 * :process 0, :index 0}`. `parseElleEdn` turns the transactions among them into the events
 * `checkTransactions` takes; the nemesis's operations and any other `:f` are left out.
 *
 * The reader covers the EDN a Jepsen history holds: maps, vectors, lists and sets, keywords,
 * strings, integers and decimals (a trailing N or M dropped), nil, true, false, symbols, and
 * tagged values (`#inst "..."`: the tag dropped, the value kept); `;` comments and `#_` discards.
 */
import { ValidationError } from '../../core/errors.js';
import { HISTORY_NESTING_MAX } from '../../core/limits.js';
import type { EntryField } from './history.js';
import type { ElleOp, ElleOpType, MicroOp, TxnModel } from './types.js';

/** A keyword, kept apart from a string of the same text. */
class Keyword {
  constructor(readonly name: string) {}
}

type Edn = null | boolean | number | string | Keyword | Edn[] | Map<string, Edn>;

const DELIMITERS = new Set(['{', '}', '[', ']', '(', ')', '"', ';']);

const ESCAPES: Readonly<Record<string, string>> = { t: '\t', r: '\r', n: '\n', b: '\b', f: '\f', '\\': '\\', '"': '"' };

/**
 * An EDN string's body (between its quotes) read as Clojure's EDN reader reads it: any
 * character as itself (a tab or a line break too), and the escapes \t \r \n \b \f \\ \"
 * \uXXXX and octal \NNN (to \377). `{ bad }`: the first escape EDN does not have.
 */
export function ednStringBody(body: string): { text: string } | { bad: string } {
  if (!body.includes('\\')) return { text: body };
  let text = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      text += c;
      continue;
    }
    const e = body[i + 1] ?? '';
    const simple = ESCAPES[e];
    const unicode = /^u[0-9a-fA-F]{4}/.exec(body.slice(i + 1, i + 6));
    const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4));
    if (simple !== undefined) {
      text += simple;
      i += 1;
    } else if (unicode !== null) {
      text += String.fromCharCode(parseInt(unicode[0].slice(1), 16));
      i += 5;
    } else if (octal !== null && parseInt(octal[0], 8) <= 0o377) {
      text += String.fromCharCode(parseInt(octal[0], 8));
      i += octal[0].length;
    } else return { bad: body.slice(i, i + (e === 'u' ? 6 : 2)) };
  }
  return { text };
}

class Reader {
  private pos = 0;
  /** How many reads are under way: the nesting of the form being read. */
  private depth = 0;

  constructor(private readonly text: string) {}

  /** Where each map read began (for `lineOf`). */
  private readonly starts = new WeakMap<Map<string, Edn>, number>();
  /** lineAt's count so far: the line of position `countedTo`. */
  private countedTo = 0;
  private countedLine = 1;

  /** Line of the map `form` read began on. */
  lineOf(form: Map<string, Edn>): number {
    return this.lineAt(this.starts.get(form) ?? this.pos);
  }

  /** Line of position `pos`: counted on from the last position asked about (asked in order, the text is read once). */
  private lineAt(pos: number): number {
    if (pos < this.countedTo) {
      this.countedTo = 0;
      this.countedLine = 1;
    }
    for (; this.countedTo < pos && this.countedTo < this.text.length; this.countedTo++) if (this.text.charCodeAt(this.countedTo) === 10) this.countedLine++;
    return this.countedLine;
  }

  /** A ValidationError naming the line of `at` (default the reader's position). */
  private fail(what: string, at = this.pos): never {
    throw new ValidationError(`line ${this.lineAt(at)}`, `${what} (EDN)`);
  }

  /**
   * Skips whitespace, commas, comments and discarded forms (`#_` and the form after it, which
   * may be the last of a collection); true if a form follows.
   */
  more(): boolean {
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) return false;
      if (c === ';') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else if (c === ',' || /\s/.test(c)) this.pos++;
      else if (c === '#' && this.text[this.pos + 1] === '_') {
        this.pos += 2;
        this.read();
      } else return true;
    }
  }

  read(): Edn {
    // Forms inside forms (collections, tags, discards) are read recursively: a bound, not a RangeError.
    if (++this.depth > HISTORY_NESTING_MAX) this.fail(`forms nested more than ${HISTORY_NESTING_MAX} deep`);
    const form = this.form();
    this.depth--;
    return form;
  }

  private form(): Edn {
    if (!this.more()) this.fail('unexpected end of input', this.text.trimEnd().length);
    const c = this.text[this.pos]!;
    switch (c) {
      case '{':
        return this.map();
      case '[':
        this.pos++;
        return this.seq(']', this.pos - 1);
      case '(':
        this.pos++;
        return this.seq(')', this.pos - 1);
      case '"':
        return this.string();
      case ':':
        this.pos++;
        return new Keyword(this.token());
      case '#': {
        const next = this.text[this.pos + 1];
        if (next === '{') {
          this.pos += 2;
          return this.seq('}', this.pos - 2);
        }
        this.pos++;
        this.token(); // the tag
        return this.read();
      }
      case '}':
      case ']':
      case ')':
        return this.fail(`unexpected ${c}`);
      default:
        return this.atom(this.token());
    }
  }

  /**
   * The forms up to `close`; `begin`, where the collection opened, is the line an end of input
   * names (the end's line was one past a file's last line break: an audit, session 61).
   */
  private seq(close: string, begin: number): Edn[] {
    const out: Edn[] = [];
    for (;;) {
      if (!this.more()) this.fail(`missing ${close}: the ${this.text[begin]}${this.text[begin] === '#' ? '{' : ''} opened here is not closed`, begin);
      if (this.text[this.pos] === close) {
        this.pos++;
        return out;
      }
      out.push(this.read());
    }
  }

  private map(): Map<string, Edn> {
    const begin = this.pos;
    this.pos++;
    const items = this.seq('}', begin);
    if (items.length % 2 !== 0) this.fail('a map with an odd number of forms');
    const out = new Map<string, Edn>();
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      out.set(k instanceof Keyword ? k.name : JSON.stringify(k), items[i + 1]!);
    }
    this.starts.set(out, begin);
    return out;
  }

  private string(): string {
    const begin = this.pos;
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    if (this.pos >= this.text.length) this.fail('a string without its closing quote', begin);
    this.pos++;
    const read = ednStringBody(this.text.slice(begin + 1, this.pos - 1));
    return 'text' in read ? read.text : this.fail(`a string with an escape EDN does not have: ${read.bad}`);
  }

  private token(): string {
    const begin = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === ',' || /\s/.test(c) || DELIMITERS.has(c)) break;
      this.pos++;
    }
    if (this.pos === begin) this.fail(`unexpected ${JSON.stringify(this.text[this.pos] ?? 'end of input')}`);
    return this.text.slice(begin, this.pos);
  }

  private atom(t: string): Edn {
    if (t === 'nil') return null;
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?[NM]?$/.test(t)) {
      const n = Number(t.replace(/[NM]$/, ''));
      // Beyond 2^53 - 1 a number holds an integer inexactly: two values could read as one.
      if (Number.isInteger(n) && !Number.isSafeInteger(n)) this.fail(`an integer beyond 2^53 - 1 in size, which a number does not hold exactly: ${t}`);
      return n;
    }
    return t; // a symbol: its name
  }
}

const TYPES: readonly ElleOpType[] = ['invoke', 'ok', 'fail', 'info'];

/** A micro-op `[:append k v]`, `[:r k v]` or `[:w k v]` as checkTransactions takes it (keys and values as read). */
function microOp(form: Edn, where: string): MicroOp {
  if (!Array.isArray(form) || form.length !== 3 || !(form[0] instanceof Keyword)) {
    throw new ValidationError(where, 'expected a micro-op [:append k v], [:r k v] or [:w k v]');
  }
  const f = form[0].name;
  if (f !== 'append' && f !== 'r' && f !== 'w') throw new ValidationError(where, `expected :append, :r or :w, got :${f}`);
  const plain = (x: Edn): unknown =>
    x instanceof Keyword ? `:${x.name}` : Array.isArray(x) ? x.map(plain) : x instanceof Map ? Object.fromEntries([...x].map(([k, v]) => [k, plain(v)])) : x;
  return [f, plain(form[1]!), plain(form[2]!)] as MicroOp;
}

/**
 * The transactions (`:f :txn`) of a Jepsen history in EDN, in order, as Elle's events (`process`
 * kept; Jepsen's `:time` in nanoseconds as `time` in ms). Each keeps its own `:index`; those
 * without one are numbered on from the largest given (from 0 when none has one), so that no two
 * share one. A ValidationError names the line (or, for a form that is not a map, its position
 * among the forms). With list-append, a completed read of nil is the empty list, as Elle reads it.
 */
export function parseElleEdn(text: string, model: TxnModel = 'list-append'): ElleOp[] {
  return readElleEdn(text, model).ops;
}

/**
 * parseElleEdn's transactions, and `name`, which names a field of one of them by its line
 * (`line 4 :value[0][2]`), for the errors of validateTransactions.
 */
export function readElleEdn(text: string, model: TxnModel = 'list-append'): { ops: ElleOp[]; name: EntryField } {
  const reader = new Reader(text);
  const forms: Edn[] = [];
  while (reader.more()) {
    const form = reader.read();
    // A history may also be one vector of maps.
    // One element at a time: push(...form) takes a whole vector as arguments, and a vector of
    // some 150,000 operations overflowed the stack (RangeError; an audit, session 57).
    if (Array.isArray(form)) for (const op of form) forms.push(op);
    else forms.push(form);
  }
  const out: ElleOp[] = [];
  const lines: number[] = [];
  /** Operations without an :index of their own. */
  const unindexed: ElleOp[] = [];
  let maxIndex = -1;
  forms.forEach((form, i) => {
    if (!(form instanceof Map)) throw new ValidationError(`operation ${i}`, 'expected a map such as {:type :invoke, :f :txn, :value [...], :process 0}');
    const f = form.get('f');
    if (!(f instanceof Keyword) || f.name !== 'txn') return;
    const line = reader.lineOf(form);
    const where = `line ${line}`;
    const type = form.get('type');
    const process = form.get('process');
    if (!(type instanceof Keyword) || !(TYPES as readonly string[]).includes(type.name))
      throw new ValidationError(`${where} :type`, 'expected :invoke, :ok, :fail or :info');
    if (process instanceof Keyword) return; // :nemesis
    if (typeof process !== 'number' && typeof process !== 'string') throw new ValidationError(`${where} :process`, 'expected a number');
    const value = form.get('value');
    if (!Array.isArray(value)) throw new ValidationError(`${where} :value`, 'expected a vector of micro-ops');
    // Its own :index where it has one, so that the anomalies name the operations as the file does.
    const given = form.get('index');
    if (given !== undefined && given !== null && !(typeof given === 'number' && Number.isSafeInteger(given) && given >= 0))
      throw new ValidationError(
        `${where} :index`,
        `expected an integer >= 0, or none, got ${given instanceof Keyword ? `:${given.name}` : JSON.stringify(given)}`,
      );
    const mops = value.map((m, j) => microOp(m, `${where} :value[${j}]`));
    // Elle's list-append reads nil as the empty list: here a null read is one whose value is not known.
    if (model === 'list-append' && type.name === 'ok') for (const m of mops) if (m[0] === 'r' && m[2] === null) m[2] = [];
    const op: ElleOp = { index: typeof given === 'number' ? given : -1, process, type: type.name as ElleOpType, f: 'txn', value: mops };
    if (typeof given === 'number') maxIndex = Math.max(maxIndex, given);
    else unindexed.push(op);
    // Jepsen's :time, nanoseconds since the test began: kept in ms (the timeline's axis).
    const time = form.get('time');
    if (typeof time === 'number' && Number.isFinite(time)) op.time = time / 1e6;
    out.push(op);
    lines.push(line);
  });
  for (const op of unindexed) op.index = ++maxIndex;
  return { ops: out, name: (i, field) => `line ${lines[i] ?? '?'}${field === '' ? '' : ` :${field}`}` };
}
