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

  constructor(private readonly text: string) {}

  /** Line of the reader's position, from 1: for error messages. */
  line(): number {
    let n = 1;
    for (let i = 0; i < this.pos && i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) n++;
    return n;
  }

  private fail(what: string): never {
    throw new ValidationError(`line ${this.line()}`, `${what} (EDN)`);
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
    if (!this.more()) this.fail('unexpected end of input');
    const c = this.text[this.pos]!;
    switch (c) {
      case '{':
        return this.map();
      case '[':
        this.pos++;
        return this.seq(']');
      case '(':
        this.pos++;
        return this.seq(')');
      case '"':
        return this.string();
      case ':':
        this.pos++;
        return new Keyword(this.token());
      case '#': {
        const next = this.text[this.pos + 1];
        if (next === '{') {
          this.pos += 2;
          return this.seq('}');
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

  private seq(close: string): Edn[] {
    const out: Edn[] = [];
    for (;;) {
      if (!this.more()) this.fail(`missing ${close}`);
      if (this.text[this.pos] === close) {
        this.pos++;
        return out;
      }
      out.push(this.read());
    }
  }

  private map(): Map<string, Edn> {
    this.pos++;
    const items = this.seq('}');
    if (items.length % 2 !== 0) this.fail('a map with an odd number of forms');
    const out = new Map<string, Edn>();
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      out.set(k instanceof Keyword ? k.name : JSON.stringify(k), items[i + 1]!);
    }
    return out;
  }

  private string(): string {
    const begin = this.pos;
    this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    if (this.pos >= this.text.length) this.fail('a string without its closing quote');
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
    if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?[NM]?$/.test(t)) return Number(t.replace(/[NM]$/, ''));
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
 * The transactions (`:f :txn`) of a Jepsen history in EDN, in order, as Elle's events (each
 * its own `:index`, or its position among them if it has none; `process` kept; Jepsen's `:time`
 * in nanoseconds as `time` in ms). A
 * ValidationError names the operation (its position among the forms) or the line. With
 * list-append, a completed read of nil is the empty list, as Elle reads it.
 */
export function parseElleEdn(text: string, model: TxnModel = 'list-append'): ElleOp[] {
  const reader = new Reader(text);
  const forms: Edn[] = [];
  while (reader.more()) {
    const form = reader.read();
    // A history may also be one vector of maps.
    if (Array.isArray(form)) forms.push(...form);
    else forms.push(form);
  }
  const out: ElleOp[] = [];
  forms.forEach((form, i) => {
    const where = `operation ${i}`;
    if (!(form instanceof Map)) throw new ValidationError(where, 'expected a map such as {:type :invoke, :f :txn, :value [...], :process 0}');
    const f = form.get('f');
    if (!(f instanceof Keyword) || f.name !== 'txn') return;
    const type = form.get('type');
    const process = form.get('process');
    if (!(type instanceof Keyword) || !(TYPES as readonly string[]).includes(type.name))
      throw new ValidationError(`${where}.type`, 'expected :invoke, :ok, :fail or :info');
    if (process instanceof Keyword) return; // :nemesis
    if (typeof process !== 'number' && typeof process !== 'string') throw new ValidationError(`${where}.process`, 'expected a number');
    const value = form.get('value');
    if (!Array.isArray(value)) throw new ValidationError(`${where}.value`, 'expected a vector of micro-ops');
    // Its own :index where it has one, so that the anomalies name the operations as the file does.
    const given = form.get('index');
    const index = typeof given === 'number' && Number.isInteger(given) && given >= 0 ? given : out.length;
    const mops = value.map((m, j) => microOp(m, `${where}.value[${j}]`));
    // Elle's list-append reads nil as the empty list: here a null read is one whose value is not known.
    if (model === 'list-append' && type.name === 'ok') for (const m of mops) if (m[0] === 'r' && m[2] === null) m[2] = [];
    const op: ElleOp = { index, process, type: type.name as ElleOpType, f: 'txn', value: mops };
    // Jepsen's :time, nanoseconds since the test began: kept in ms (the timeline's axis).
    const time = form.get('time');
    if (typeof time === 'number' && Number.isFinite(time)) op.time = time / 1e6;
    out.push(op);
  });
  return out;
}
