import { Packr } from 'msgpackr';

/**
 * The wire codec of the data plane. Every thread builds the same Packr with the same fixed
 * list of shared record structures, and `maxSharedStructures` equal to its length so that no
 * thread ever adds a shared structure another thread would not know: shapes outside the list
 * are written as inline record definitions, which any Packr can read.
 */
/**
 * At most 32: msgpackr writes the first 32 shared record ids in one byte, and with more than
 * 32 shared structures (two-byte ids) a Packr built from a fixed list reads some records back
 * wrong (measured: every structure past the 32nd). test/codec.part.ts round-trips each one.
 */
export const SHARED_STRUCTURES_MAX = 32;

export const SHARED_STRUCTURES: readonly string[][] = [
  // Envelope and timers.
  ['to', 'from', 'msg'],
  ['type', 'key'],
  // Client requests and answers (src/cluster/messages.ts), in the key order they are built.
  ['type', 'rid', 'body'],
  ['type', 'rid', 'body', 'hops'],
  ['op', 'key', 'value'],
  ['op', 'key', 'value', 'rq'],
  ['op', 'key', 'consistency', 'rq'],
  ['op', 'key', 'rq'],
  ['op', 'key', 'expected', 'value', 'rq'],
  ['type', 'rid', 'ok', 'by'],
  ['type', 'rid', 'ok', 'by', 'value'],
  ['type', 'rid', 'ok', 'value'],
  ['type', 'rid', 'ok', 'code', 'message'],
  // Replication: Multi-Paxos messages wrapped per shard, ballots, log commands, records.
  ['type', 's', 'm'],
  ['round', 'id'],
  ['type', 'ballot', 'index', 'commands', 'commitIndex'],
  ['type', 'ballot', 'index'],
  ['type', 'ballot', 'commitIndex'],
  ['k', 'id', 'body'],
  ['k', 'id', 'writes', 'result', 'term', 'seq'],
  ['k', 'id', 'writes', 'result', 'term', 'seq', 'rq'],
  ['key', 'value'],
  ['s', 'r'],
  ['type', 'index', 'ballot', 'commands'],
  ['type', 'index'],
  // Transactions: commit-protocol messages and the participant's log commands.
  ['type', 'txn', 'payload'],
  ['type', 'txn', 'yes'],
  ['type', 'txn'],
  ['k', 'txn', 'pc'],
  ['k', 'txn', 'record'],
  // Liveness: heartbeats and the load they carry.
  ['type', 'node', 'seq', 'incarnation', 'load'],
  ['inflight', 'mailbox', 'latencyEwmaMs', 'busyMs', 'requests'],
];

/**
 * `copyBuffers`: a decoded Uint8Array is a copy, not a view of the bytes decoded (which it would
 * keep alive): for a large buffer decoded once, such as a snapshot sent in pieces.
 */
export function createPackr(copyBuffers = false): Packr {
  return new Packr({
    ...(copyBuffers ? { copyBuffers } : {}),
    structures: SHARED_STRUCTURES.map((keys) => [...keys]),
    maxSharedStructures: SHARED_STRUCTURES.length,
    shouldShareStructure: () => false,
    useRecords: true,
    // Keep JS Maps, Sets and typed arrays out of the wire: plain data only.
    moreTypes: false,
  });
}

/** A frame is a header (magic, count) followed by `count` msgpack values, one per envelope. */
export const FRAME_MAGIC = 0x4d524431; // "MRD1"
export const FRAME_HEADER_BYTES = 8;

export interface Envelope {
  to: string;
  from: string;
  msg: Message;
}

/** Every message is a plain object with a string-literal `type`. */
export interface Message {
  type: string;
  [field: string]: unknown;
}

export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  // An address, or its directory index (see DirectoryEntry.index).
  if ((typeof v.to !== 'string' && typeof v.to !== 'number') || (typeof v.from !== 'string' && typeof v.from !== 'number')) return false;
  const msg = v.msg as Record<string, unknown> | null;
  return typeof msg === 'object' && msg !== null && typeof msg.type === 'string';
}

export class FrameError extends Error {}

/** Below this size a copy is a plain loop (no view, no native call). */
export const SMALL_COPY_BYTES = 256;

/**
 * A buffer of at least `need` bytes that holds bytes[0, used): `bytes` itself when it is large
 * enough, else a new one twice as large (or more) with those bytes copied in. The frame
 * builder's and the durable stores' growing buffers.
 */
export function grownBytes(bytes: Uint8Array<ArrayBuffer>, used: number, need: number): Uint8Array<ArrayBuffer> {
  if (need <= bytes.byteLength) return bytes;
  let size = Math.max(1, bytes.byteLength * 2);
  while (size < need) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(bytes.subarray(0, used));
  return grown;
}

/**
 * Accumulates encoded envelopes for one destination and hands out an exact-size buffer that
 * can be transferred (a `pack()` result is a view into a shared slab, so it is copied here).
 */
export class FrameBuilder {
  private bytes: Uint8Array<ArrayBuffer>;
  private length = FRAME_HEADER_BYTES;
  count = 0;

  constructor(initialBytes = 16 * 1024) {
    this.bytes = new Uint8Array(initialBytes);
  }

  get byteLength(): number {
    return this.length;
  }

  append(encoded: Uint8Array): void {
    this.appendRange(encoded, 0, encoded.byteLength);
  }

  /** Copy bytes[start, end) in, without making a view of them. */
  appendRange(bytes: Uint8Array, start: number, end: number): void {
    const need = this.length + (end - start);
    this.bytes = grownBytes(this.bytes, this.length, need);
    if (end - start <= SMALL_COPY_BYTES) {
      // Most envelopes are a few dozen bytes: a plain loop beats a view plus set() or copy().
      const target = this.bytes;
      let at = this.length;
      for (let i = start; i < end; i++) target[at++] = bytes[i]!;
    } else {
      this.bytes.set(bytes.subarray(start, end), this.length);
    }
    this.length = need;
    this.count++;
  }

  /** Returns an exact-size frame (its own ArrayBuffer) and resets the builder. */
  take(): Uint8Array {
    const frame = this.bytes.slice(0, this.length);
    // Big-endian, as DataView.setUint32 writes them (no view per frame).
    writeUint32(frame, 0, FRAME_MAGIC);
    writeUint32(frame, 4, this.count);
    this.length = FRAME_HEADER_BYTES;
    this.count = 0;
    return frame;
  }
}

/** `value` at bytes[at, at + 4), big-endian, as DataView.setUint32 writes it (no view). */
export function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/** The big-endian unsigned 32-bit number at bytes[at, at + 4). */
function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Decodes a frame; throws FrameError when it is not a well-formed frame of envelopes. */
export function decodeFrame(packr: Packr, frame: Uint8Array): Envelope[] {
  if (!(frame instanceof Uint8Array) || frame.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameError('frame too short or not bytes');
  }
  if (readUint32(frame, 0) !== FRAME_MAGIC) throw new FrameError('bad frame magic');
  const count = readUint32(frame, 4);
  let values: unknown[];
  try {
    values = packr.unpackMultiple(frame.subarray(FRAME_HEADER_BYTES)) as unknown[];
  } catch (error) {
    throw new FrameError(`undecodable frame: ${(error as Error).message}`);
  }
  if (!Array.isArray(values) || values.length !== count) {
    throw new FrameError(`frame announced ${count} envelopes, decoded ${Array.isArray(values) ? values.length : 0}`);
  }
  for (const value of values) {
    if (!isEnvelope(value)) throw new FrameError('frame holds a value that is not an envelope');
  }
  return values as Envelope[];
}

/**
 * A deep copy of a value the FastEncoder encoded, equal to what msgpackr decodes from its
 * bytes: the same keys in the same order, -0 read back as 0 (writeNumber writes it as 0),
 * `undefined` kept. For values the FastEncoder accepted only (plain objects, arrays,
 * strings, numbers, booleans, null, undefined). One difference: a string holding a lone
 * surrogate is kept as it is, where the bytes read back U+FFFD.
 */
export function copyEncoded(value: unknown): unknown {
  if (typeof value !== 'object') return value === 0 ? 0 : value;
  if (value === null) return null;
  if (Array.isArray(value)) {
    const n = value.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = copyEncoded(value[i]);
    return out;
  }
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key in object) out[key] = copyEncoded(object[key]);
  return out;
}

/** A primitive as copyEncoded copies it: itself, but -0 as 0. */
function copyOf(value: unknown): unknown {
  return value === 0 ? 0 : value;
}

/** The fast encoder's buffer to begin with; it grows (up to FAST_ENCODER_BYTES_MAX) for a value that does not fit. */
export const FAST_ENCODER_BYTES = 64 * 1024;
/**
 * The fast encoder's buffer at most: a value larger than this is left to msgpackr. A server's
 * snapshot record (a shard's data and 4,096 remembered request ids) is 100-200 KB: at 64 KB
 * it was written twice, up to the limit and then by msgpackr.
 */
export const FAST_ENCODER_BYTES_MAX = 4 * 1024 * 1024;

/** msgpackr's first own record id with 32 shared structures (0x40 + 32), and how many fit in one byte. */
const OWN_RECORD_ID_FIRST = 0x60;
const OWN_STRUCTURES_MAX = 32;
/** Message types whose own (not shared) shape the fast encoder remembers, at most. */
export const OWN_SHAPES_BY_TYPE_MAX = 256;
/** Shape-trie nodes learnt from messages (other shapes than the shared ones) before it starts again. */
export const SHAPE_NODES_LEARNT_MAX = 10_000;

/**
 * A node of the shape trie: the keys read so far, in order. Shared shapes are built in; other
 * shapes are learnt as messages show them (as msgpackr's transitions are), so that a repeated
 * shape costs a walk, not a key list and a lookup.
 */
interface ShapeNode {
  /** Children as parallel lists: a few identity compares of interned keys beat a Map lookup. */
  keys: string[];
  nodes: ShapeNode[];
  /** The record id (0x40 + index in SHARED_STRUCTURES) of the shared shape that ends here, or 0. */
  id: number;
  /** The keys from the root to here. */
  path: string[];
  /** The message (its stamp) in which this shape was given an own record id, and that id. */
  stamp: number;
  ownId: number;
  /** Copies made of objects of this shape, and once there were enough, the copy's maker. */
  copies: number;
  make: CopyMaker | undefined;
  /**
   * The bytes of `path` as an array of strings, what an inline definition of this shape writes
   * after its id, kept from the first time it was written: most messages of the simulator's
   * check are of shapes that are not shared (digests, load reports), and their definitions
   * were a third of the strings it wrote.
   */
  definition: Uint8Array | undefined;
}

/** Builds an object of one shape from values[base, base + keys): an object literal, one map. */
type CopyMaker = (values: unknown[], base: number) => Record<string, unknown>;

/** Copies of one shape made before its copy gets a maker of its own (compiled, so not at once). */
export const COPIES_BEFORE_MAKER = 16;
/** Compiled makers kept for the process, by shape (every encoder, every simulated run, shares them). */
export const COPY_MAKERS_KEPT_MAX = 4096;
const copyMakers = new Map<string, CopyMaker>();

/**
 * The maker of copies of a shape: a function returning an object literal with the shape's keys
 * in order (what `{}` plus one store per key gives, the same keys in the same order, but
 * without a generic keyed store per key). Keys are written as JSON string literals; a
 * `__proto__` key, which a literal would take as the prototype, gets the generic stores.
 */
function copyMaker(keys: readonly string[]): CopyMaker {
  const name = JSON.stringify(keys);
  const known = copyMakers.get(name);
  if (known !== undefined) return known;
  if (keys.includes('__proto__') || copyMakers.size >= COPY_MAKERS_KEPT_MAX) {
    return (values, base) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[base + i];
      return out;
    };
  }
  const fields = keys.map((key, i) => `${JSON.stringify(key)}: v[b + ${i}]`).join(', ');
  const made = new Function('v', 'b', `return { ${fields} };`) as CopyMaker;
  copyMakers.set(name, made);
  return made;
}

/** The copy of an object of shape `node` whose values are values[base, base + keys). */
function makeCopy(node: ShapeNode, values: unknown[], base: number): Record<string, unknown> {
  if (node.make !== undefined) return node.make(values, base);
  if (++node.copies >= COPIES_BEFORE_MAKER) node.make = copyMaker(node.path);
  const keys = node.path;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[base + i];
  return out;
}

function shapeNode(path: string[]): ShapeNode {
  return { keys: [], nodes: [], id: 0, path, stamp: 0, ownId: 0, copies: 0, make: undefined, definition: undefined };
}

function childOf(node: ShapeNode, key: string): ShapeNode | undefined {
  const keys = node.keys;
  for (let i = 0; i < keys.length; i++) if (keys[i] === key) return node.nodes[i];
  return undefined;
}

/**
 * Writes exactly the bytes msgpackr's `pack` writes with `createPackr()`'s options, for the
 * values that need none of its machinery: strings, numbers, booleans, null, undefined, arrays
 * and plain objects: a shape of SHARED_STRUCTURES as its one-byte id, any other with an inline
 * record definition the first time it appears in the message. For anything else (a Map, a
 * Date, a typed array, a bigint, more than 32 new shapes...) `encode` answers -1 and the
 * caller packs with msgpackr. The output is the same encoding, decoded by msgpackr on the
 * other side; this only skips msgpackr's per-call set-up and its per-object key walk.
 * test/codec.part.ts compares the bytes with msgpackr's.
 */
export class FastEncoder {
  /** Where `encode` wrote; read it after each call (a larger one replaces it when a value does not fit). */
  buffer = new Uint8Array(FAST_ENCODER_BYTES);
  private view = new DataView(this.buffer.buffer);
  /** The buffer's length: the bound every write checks. */
  private limit = FAST_ENCODER_BYTES;
  /** A write stopped at `limit` (not at a value it cannot write): a larger buffer may do. */
  private overflowed = false;
  private root: ShapeNode = shapeNode([]);
  private learnt = 0;
  private pos = 0;
  /** Stamps messages, so own ids of an earlier message are stale without clearing them. */
  private stamp = 0;
  /** Shapes given an own id in the message being written, in order: own[0, ownCount). */
  private readonly own: ShapeNode[] = [];
  private ownCount = 0;
  /** The record id of ['to', 'from', 'msg'], or 0 when the list lacks it. */
  private envelopeId = 0;
  /**
   * By message type: the shape of the last message of that type when it was not a shared one
   * (region digests, load reports...). Such a message is written with its definition first,
   * in one pass, instead of once as a guess and again once its shape is known (see writeRecord).
   */
  private ownShapeByType = new Map<string, ShapeNode>();
  /**
   * While true, writing an object or an array also builds its copy as copyEncoded makes it
   * (in the same pass: no second walk of the value), left in `copy`; a primitive's copy is
   * itself (-0 as 0, see copyOf).
   */
  private copying = false;
  /** The copy of the last object or array written while copying. */
  private copy: unknown = undefined;
  /**
   * The values of the objects being written, in [0, valuesTop), read in the walk of their keys
   * (see writeRecord); while copying, each is replaced by its copy once written.
   */
  private readonly values: unknown[] = [];
  private valuesTop = 0;
  /** The copy of the message of the last encodeEnvelope(..., true) that answered >= 0. */
  copied: unknown = undefined;

  constructor(private readonly structures: readonly (readonly string[])[] = SHARED_STRUCTURES) {
    this.build();
  }

  private build(): void {
    this.root = shapeNode([]);
    this.ownShapeByType = new Map();
    this.learnt = 0;
    this.structures.forEach((keys, index) => {
      let node = this.root;
      for (const key of keys) node = childOf(node, key) ?? this.addChild(node, key);
      node.id = 0x40 + index;
    });
    this.learnt = 0;
    const to = childOf(this.root, 'to');
    const from = to === undefined ? undefined : childOf(to, 'from');
    const msg = from === undefined ? undefined : childOf(from, 'msg');
    this.envelopeId = msg?.id ?? 0;
  }

  private addChild(node: ShapeNode, key: string): ShapeNode {
    const child = shapeNode([...node.path, key]);
    node.keys.push(key);
    node.nodes.push(child);
    this.learnt++;
    return child;
  }

  private begin(): void {
    if (this.learnt > SHAPE_NODES_LEARNT_MAX) this.build();
    this.stamp = (this.stamp + 1) | 0 || 1;
    this.ownCount = 0;
    // Left by a write that threw (a getter): nothing of it is kept.
    if (this.valuesTop > 0) this.dropValues(0);
  }

  /** Encodes `value` into `buffer` from 0; returns the end, or -1 when msgpackr must do it. */
  encode(value: unknown): number {
    for (;;) {
      this.copying = false;
      this.overflowed = false;
      this.begin();
      this.pos = 0;
      if (this.write(value)) return this.pos;
      if (!this.grow()) return -1;
    }
  }

  /** A bound check failed: note it (the caller may retry with a larger buffer) and say so. */
  private overflow(): true {
    this.overflowed = true;
    return true;
  }

  /** After a write that overflowed: a buffer 4 times larger, if allowed; false otherwise. */
  private grow(): boolean {
    if (!this.overflowed || this.limit >= FAST_ENCODER_BYTES_MAX) return false;
    this.limit = Math.min(FAST_ENCODER_BYTES_MAX, this.limit * 4);
    this.buffer = new Uint8Array(this.limit);
    this.view = new DataView(this.buffer.buffer);
    return true;
  }

  /**
   * As `encode` for the envelope { to, from, msg }, without building it. With `copy`, a deep
   * copy of `msg` equal to copyEncoded(msg) is left in `copied` (made as it is written).
   */
  encodeEnvelope(to: string | number, from: string | number, msg: unknown, copy = false): number {
    for (;;) {
      const end = this.encodeEnvelopeOnce(to, from, msg, copy);
      if (end >= 0 || !this.grow()) return end;
    }
  }

  private encodeEnvelopeOnce(to: string | number, from: string | number, msg: unknown, copy: boolean): number {
    this.copying = false;
    this.copied = undefined;
    this.overflowed = false;
    if (this.envelopeId === 0) return -1;
    this.begin();
    this.buffer[0] = this.envelopeId;
    this.pos = 1;
    if (!this.write(to) || !this.write(from)) return -1;
    this.copying = copy;
    const end = this.writeMessage(msg);
    this.copying = false;
    if (copy && end >= 0) this.copied = typeof msg === 'object' && msg !== null ? this.copy : copyOf(msg);
    this.copy = undefined;
    return end;
  }

  private writeMessage(msg: unknown): number {
    const type = msg !== null && typeof msg === 'object' && (msg as object).constructor === Object ? (msg as { type?: unknown }).type : undefined;
    if (typeof type === 'string') {
      const predicted = this.ownShapeByType.get(type);
      if (predicted !== undefined && this.writeOwnRecord(msg as Record<string, unknown>, predicted)) return this.pos;
      const at = this.pos;
      if (!this.write(msg)) return -1;
      // The message's shape was not a shared one: it was defined inline (0xd4 0x72 id keys), as
      // the first own shape of the message.
      if (this.buffer[at] === 0xd4 && this.buffer[at + 1] === 0x72 && this.ownCount > 0) {
        if (this.ownShapeByType.size < OWN_SHAPES_BY_TYPE_MAX) this.ownShapeByType.set(type, this.own[0]!);
      } else if (predicted !== undefined) {
        this.ownShapeByType.delete(type);
      }
      return this.pos;
    }
    return this.write(msg) ? this.pos : -1;
  }

  /**
   * The message as an own shape `node` defined inline, written in one pass: the definition,
   * then the values, checking that the message's keys are the shape's. False (nothing
   * written, the position back where it was) when they are not, or the buffer is short.
   * Only for the message itself (no own shape is defined before it in the message).
   */
  private writeOwnRecord(object: Record<string, unknown>, node: ShapeNode): boolean {
    const start = this.pos;
    if (this.ownCount !== 0 || (start + 3 > this.limit && this.overflow())) return false;
    const keys = node.path;
    node.stamp = this.stamp;
    node.ownId = OWN_RECORD_ID_FIRST;
    this.own[this.ownCount++] = node;
    const b = this.buffer;
    b[this.pos++] = 0xd4;
    b[this.pos++] = 0x72;
    b[this.pos++] = node.ownId;
    const copying = this.copying;
    let ok = this.writeDefinition(node);
    const values = this.values;
    const base = this.valuesTop;
    let i = 0;
    if (ok) {
      for (const key in object) {
        const v = object[key];
        if (i >= keys.length || keys[i] !== key || !this.write(v)) {
          ok = false;
          break;
        }
        if (copying) values[this.valuesTop++] = typeof v === 'object' && v !== null ? this.copy : copyOf(v);
        i++;
      }
    }
    if (ok && i === keys.length) {
      if (copying) this.copy = makeCopy(node, values, base);
      this.dropValues(base);
      return true;
    }
    this.dropValues(base);
    // Not this shape (or no room): undo, as writeRecord does.
    this.pos = start;
    const own = this.own;
    while (this.ownCount > 0) own[--this.ownCount]!.stamp = 0;
    return false;
  }

  private write(value: unknown): boolean {
    switch (typeof value) {
      case 'string':
        return this.writeString(value);
      case 'number':
        return this.writeNumber(value);
      case 'boolean':
        if (this.pos + 1 > this.limit && this.overflow()) return false;
        this.buffer[this.pos++] = value ? 0xc3 : 0xc2;
        return true;
      case 'undefined':
        if (this.pos + 3 > this.limit && this.overflow()) return false;
        this.buffer[this.pos++] = 0xd4;
        this.buffer[this.pos++] = 0;
        this.buffer[this.pos++] = 0;
        return true;
      case 'object': {
        if (value === null) {
          if (this.pos + 1 > this.limit && this.overflow()) return false;
          this.buffer[this.pos++] = 0xc0;
          return true;
        }
        const ctor = (value as object).constructor;
        if (ctor === Object) return this.writeRecord(value as Record<string, unknown>);
        if (ctor === Array) return this.writeArray(value as unknown[]);
        return false;
      }
      default:
        return false;
    }
  }

  private writeRecord(object: Record<string, unknown>): boolean {
    // The shape first, from the keys alone, so each value is written once: a shape used the
    // first time in this message is defined inline before its values (0xd4 0x72 id, then the
    // keys as an array) and numbered before any shape inside it, as msgpackr does. (Writing
    // the values first and again after a new shape wrote a value nested k new shapes deep
    // 2^k times: a 100 KB snapshot record took 5x msgpackr's time.) The values are read in
    // the same walk of the keys, onto the value stack (one for-in per object, not two).
    if (this.pos + 1 > this.limit && this.overflow()) return false;
    let node = this.root;
    const values = this.values;
    const base = this.valuesTop;
    let top = base;
    for (const key in object) {
      node = childOf(node, key) ?? this.addChild(node, key);
      values[top++] = object[key];
    }
    this.valuesTop = top;
    const b = this.buffer;
    if (node.id !== 0) {
      b[this.pos++] = node.id;
    } else if (node.stamp === this.stamp && node.ownId - OWN_RECORD_ID_FIRST < this.ownCount) {
      // An own shape already defined earlier in this message.
      b[this.pos++] = node.ownId;
    } else {
      if (this.ownCount >= OWN_STRUCTURES_MAX || (this.pos + 3 > this.limit && this.overflow())) return this.dropValues(base);
      node.stamp = this.stamp;
      node.ownId = OWN_RECORD_ID_FIRST + this.ownCount;
      this.own[this.ownCount++] = node;
      b[this.pos++] = 0xd4;
      b[this.pos++] = 0x72;
      b[this.pos++] = node.ownId;
      if (!this.writeDefinition(node)) return this.dropValues(base);
    }
    if (this.copying) {
      // Each value's copy takes its place on the stack; the copy is made from them.
      for (let i = base; i < top; i++) {
        const v = values[i];
        if (!this.write(v)) return this.dropValues(base);
        values[i] = typeof v === 'object' && v !== null ? this.copy : copyOf(v);
      }
      this.copy = makeCopy(node, values, base);
    } else {
      for (let i = base; i < top; i++) if (!this.write(values[i])) return this.dropValues(base);
    }
    this.dropValues(base);
    return true;
  }

  /** Drop the values above `base` (so the stack holds no message after it is written); false, for the failing paths. */
  private dropValues(base: number): false {
    const values = this.values;
    for (let i = base; i < this.valuesTop; i++) values[i] = undefined;
    this.valuesTop = base;
    return false;
  }

  /** The keys of an inline definition of `node`'s shape: its kept bytes, else written (not copied) and kept. */
  private writeDefinition(node: ShapeNode): boolean {
    const kept = node.definition;
    if (kept !== undefined) {
      const n = kept.length;
      if (this.pos + n > this.limit && this.overflow()) return false;
      const b = this.buffer;
      let at = this.pos;
      for (let i = 0; i < n; i++) b[at++] = kept[i]!;
      this.pos = at;
      return true;
    }
    const start = this.pos;
    const copying = this.copying;
    this.copying = false;
    const ok = this.writeArray(node.path);
    this.copying = copying;
    if (ok) node.definition = this.buffer.slice(start, this.pos);
    return ok;
  }

  private writeArray(array: unknown[]): boolean {
    const length = array.length;
    const b = this.buffer;
    if (this.pos + 5 > this.limit && this.overflow()) return false;
    if (length < 0x10) {
      b[this.pos++] = 0x90 | length;
    } else if (length < 0x10000) {
      b[this.pos++] = 0xdc;
      b[this.pos++] = length >> 8;
      b[this.pos++] = length & 0xff;
    } else {
      b[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
    if (!this.copying) {
      for (let i = 0; i < length; i++) if (!this.write(array[i])) return false;
      return true;
    }
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const v = array[i];
      if (!this.write(v)) return false;
      out[i] = typeof v === 'object' && v !== null ? this.copy : copyOf(v);
    }
    this.copy = out;
    return true;
  }

  private writeNumber(value: number): boolean {
    const b = this.buffer;
    if (this.pos + 9 > this.limit && this.overflow()) return false;
    if (value >>> 0 === value) {
      // With records on, 0x40..0x7f are record ids: only 0..0x3f are written as fixints.
      if (value < 0x40) {
        b[this.pos++] = value;
      } else if (value < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = value;
      } else if (value < 0x10000) {
        b[this.pos++] = 0xcd;
        b[this.pos++] = value >> 8;
        b[this.pos++] = value & 0xff;
      } else {
        b[this.pos++] = 0xce;
        this.view.setUint32(this.pos, value);
        this.pos += 4;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) {
        b[this.pos++] = 0x100 + value;
      } else if (value >= -0x80) {
        b[this.pos++] = 0xd0;
        b[this.pos++] = value + 0x100;
      } else if (value >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, value);
        this.pos += 2;
      } else {
        b[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, value);
        this.pos += 4;
      }
    } else {
      b[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, value);
      this.pos += 8;
    }
    return true;
  }

  /** UTF-8 as msgpackr writes it (a lone surrogate becomes U+FFFD), with the smallest header. */
  private writeString(value: string): boolean {
    const strLength = value.length;
    if (this.pos + 5 + strLength * 3 > this.limit && this.overflow()) return false;
    const b = this.buffer;
    // Written after a 5-byte gap, then moved next to the header once the length is known,
    // unless it is short ASCII-sized (the common case), written in place after 1 byte.
    const headerGuess = strLength < 0x20 ? 1 : 5;
    let at = this.pos + headerGuess;
    for (let i = 0; i < strLength; i++) {
      let c1 = value.charCodeAt(i);
      if (c1 < 0x80) {
        b[at++] = c1;
      } else if (c1 < 0x800) {
        b[at++] = (c1 >> 6) | 0xc0;
        b[at++] = (c1 & 0x3f) | 0x80;
      } else {
        let c2: number;
        if ((c1 & 0xfc00) === 0xd800 && ((c2 = value.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
          c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
          i++;
          b[at++] = (c1 >> 18) | 0xf0;
          b[at++] = ((c1 >> 12) & 0x3f) | 0x80;
          b[at++] = ((c1 >> 6) & 0x3f) | 0x80;
          b[at++] = (c1 & 0x3f) | 0x80;
        } else if ((c1 & 0xf800) === 0xd800) {
          b[at++] = 0xef;
          b[at++] = 0xbf;
          b[at++] = 0xbd;
        } else {
          b[at++] = (c1 >> 12) | 0xe0;
          b[at++] = ((c1 >> 6) & 0x3f) | 0x80;
          b[at++] = (c1 & 0x3f) | 0x80;
        }
      }
    }
    const length = at - this.pos - headerGuess;
    const header = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    if (header !== headerGuess) b.copyWithin(this.pos + header, this.pos + headerGuess, at);
    if (header === 1) {
      b[this.pos] = 0xa0 | length;
    } else if (header === 2) {
      b[this.pos] = 0xd9;
      b[this.pos + 1] = length;
    } else if (header === 3) {
      b[this.pos] = 0xda;
      b[this.pos + 1] = length >> 8;
      b[this.pos + 2] = length & 0xff;
    } else {
      b[this.pos] = 0xdb;
      this.view.setUint32(this.pos + 1, length);
    }
    this.pos += header + length;
    return true;
  }
}
