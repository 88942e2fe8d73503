/**
 * Snapshots sent in pieces. A snapshot whose encoding is larger than a message may carry is
 * encoded once (msgpack, the wire's codec, in base64: plain ASCII, so a piece of n characters
 * is n bytes on the wire) and cut into pieces of at most `pieceChars` characters. Every piece
 * names the snapshot it belongs to: the index it covers, the encoding's length and hash, and
 * the number of pieces. The receiver keeps the pieces of one snapshot at a time and hands the
 * whole back only once every piece is in and the text has the length and hash the pieces
 * named: a lost piece is asked for again, a duplicate is ignored, a piece of an older snapshot
 * is ignored, and one of a newer snapshot (or another encoding of the same index) starts the
 * assembly over. Nothing is persisted until the whole is in (the caller installs it then).
 * Pieces none of which came for a while are dropped (PieceAssembly.age, on the owner's ticks).
 */
import { Buffer } from 'node:buffer';
import { createPackr, FastEncoder } from '../core/codec.js';

/** Pieces sent for one request of a receiver (a window: it asks for the next ones once these are in). */
export const SNAPSHOT_PIECES_WINDOW = 4;

/** What names a snapshot in pieces: pieces with the same header are of the same encoding. */
export interface PieceHeader {
  /** What the snapshot covers (a log index, or a learner's applied count): a higher one supersedes. */
  index: number;
  /** FNV-1a of the encoding, and its length in characters. */
  hash: number;
  size: number;
  /** How many pieces. */
  of: number;
}

export interface Piece extends PieceHeader {
  /** This piece's number, from 0. */
  at: number;
  text: string;
}

/** A snapshot encoded for sending in pieces. */
export class PiecedSnapshot implements PieceHeader {
  readonly size: number;
  readonly hash: number;
  readonly of: number;

  constructor(
    readonly index: number,
    private readonly text: string,
    private readonly pieceChars: number,
  ) {
    this.size = text.length;
    this.hash = hashText(text);
    this.of = Math.max(1, Math.ceil(text.length / pieceChars));
  }

  /** Piece `at` (0 <= at < of). */
  piece(at: number): Piece {
    return { index: this.index, hash: this.hash, size: this.size, of: this.of, at, text: this.text.slice(at * this.pieceChars, (at + 1) * this.pieceChars) };
  }

  /** The same snapshot as `h` names (a receiver asking to go on with it). */
  is(h: { index: number; hash: number }): boolean {
    return h.index === this.index && h.hash === this.hash;
  }
}

const packr = createPackr();
const sizer = new FastEncoder();
// A value's bytes (a Uint8Array) copied out of the decoded text, not a view that would keep it all.
const unpackr = createPackr(true);

/**
 * `data`, the snapshot of `index`, cut into pieces of `pieceChars` characters, or undefined if
 * it is sent whole: its encoding is at most twice `pieceChars` bytes (so it goes as it always
 * did, in one message), or it cannot be encoded (it then fails as one message did).
 */
export function piecesOf(index: number, data: unknown, pieceChars: number): PiecedSnapshot | undefined {
  let bytes: Uint8Array;
  try {
    bytes = packr.pack(data);
  } catch {
    return undefined;
  }
  if (bytes.byteLength <= 2 * pieceChars) return undefined;
  return new PiecedSnapshot(index, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), pieceChars);
}

/**
 * The bytes msgpackr writes for `value` (see FastEncoder, which writes them without msgpackr's
 * per-call set-up); Infinity if it cannot be encoded.
 */
export function encodedBytes(value: unknown): number {
  const size = sizer.encode(value);
  if (size >= 0) return size;
  try {
    return packr.pack(value).byteLength;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Sizes kept beside what they measure, by identity: a command's (measured when it is proposed,
 * see MultiPaxos.propose) and a batch's (a slot's commands, their sum). A value's encoding
 * depends on nothing but the value, which nobody changes once it is proposed; a copy (a
 * command another replica received) is measured once, when a size of it is first needed.
 */
const commandSizes = new WeakMap<object, number>();
const batchSizes = new WeakMap<readonly unknown[], number>();

/** encodedBytes(command), measured once per command (see commandSizes). */
export function commandBytes(command: unknown): number {
  if (typeof command !== 'object' || command === null) return encodedBytes(command);
  let size = commandSizes.get(command);
  if (size === undefined) {
    size = encodedBytes(command);
    commandSizes.set(command, size);
  }
  return size;
}

/** The sum of commandBytes over `commands`, added once per batch (see commandSizes). */
export function batchBytes(commands: readonly unknown[]): number {
  let size = batchSizes.get(commands);
  if (size === undefined) {
    size = 0;
    for (let i = 0; i < commands.length; i++) size += commandBytes(commands[i]);
    batchSizes.set(commands, size);
  }
  return size;
}

/** The bytes of a msgpack array header for `length` elements. */
function arrayHeaderBytes(length: number): number {
  return length < 16 ? 1 : length < 0x10000 ? 3 : 5;
}

/** The bytes msgpackr writes for a number `n` (as FastEncoder's writeNumber: with records on, fixints stop at 0x3f). */
export function numberBytes(n: number): number {
  if (n >>> 0 === n) return n < 0x40 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  return encodedBytes(n);
}

const NO_COMMANDS: readonly unknown[] = Object.freeze([]);

/**
 * What a slot `{ index, ballot, commands, chosen }` (a catch-up's `entries` hold them) encodes
 * to, from its commands' kept sizes: the same as encodedBytes(slot) when its commands share
 * no record shape of their own (not one of SHARED_STRUCTURES), more when they do (the slot
 * writes such a shape's definition once, each command's own size holds it).
 */
export function slotBytes(slot: { index: number; ballot: unknown; commands: readonly unknown[]; chosen: boolean }): number {
  const shell = encodedBytes({ index: slot.index, ballot: slot.ballot, commands: NO_COMMANDS, chosen: slot.chosen });
  return shell - arrayHeaderBytes(0) + arrayHeaderBytes(slot.commands.length) + batchBytes(slot.commands);
}

/** What a learner's entry `[index, command]` encodes to: exactly encodedBytes(entry). */
export function entryBytes(entry: readonly [number, unknown]): number {
  return arrayHeaderBytes(2) + numberBytes(entry[0]) + commandBytes(entry[1]);
}

/**
 * How many of the first `count` of `items` (at least one, if any) to send in one message whose
 * share for them is `bytes`: the longest prefix whose sizes (`sizeOf`, encodedBytes unless
 * given) add up to at most that. Entries that catch a copy up (a follower's slots, a learner's
 * commands) and the commands of a new Multi-Paxos slot are cut this way, as snapshots are in
 * pieces; each from sizes kept (commandBytes, slotBytes, entryBytes): a cut adds numbers.
 */
export function prefixWithin<T>(items: readonly T[], bytes: number, count = items.length, sizeOf: (item: T) => number = encodedBytes): number {
  const end = Math.min(count, items.length);
  let total = 0;
  for (let n = 0; n < end; n++) {
    total += sizeOf(items[n]!);
    if (total > bytes) return Math.max(1, n);
  }
  return end;
}

/**
 * `items` cut in order into runs that each take at most `bytes` by `sizeOf` (encodedBytes unless
 * given; an item over it alone is a run of one): the cut prefixWithin makes, run after run.
 * What a burst gathered for one address goes so when it would be over messageBytesMax as one
 * message: a coordinator's wires, a participant's replies, a region's digest and down-members.
 */
export function chunksWithin<T>(items: readonly T[], bytes: number, sizeOf: (item: T) => number = encodedBytes): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let used = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (chunk.length > 0 && used + size > bytes) {
      chunks.push(chunk);
      chunk = [];
      used = 0;
    }
    chunk.push(item);
    used += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The snapshot an assembled text encodes (see PieceAssembly); undefined if it does not decode. */
export function decodePieces(text: string): { data: unknown } | undefined {
  try {
    return { data: unpackr.unpack(Buffer.from(text, 'base64')) };
  } catch {
    return undefined;
  }
}

/** FNV-1a (32 bits) of the characters of `text`. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The receiver's side: the pieces of one snapshot at a time (see the top of this file). */
export class PieceAssembly {
  private head: PieceHeader | undefined = undefined;
  private texts: Array<string | undefined> = [];
  private held = 0;
  /** Every piece before this one is held. */
  next = 0;
  /** The `next` last asked for (see windowDone()): a piece that completes a window asks once. */
  private askedFor = -1;
  /** Ticks since the last piece of this snapshot came (see age()). */
  private idleTicks = 0;

  /** The snapshot being assembled, if any. */
  header(): PieceHeader | undefined {
    return this.head;
  }

  /**
   * Takes `p`, unless it is malformed, a duplicate, or of an older snapshot than the one being
   * assembled. Returns the whole text once the last piece is in and the text checks out (it
   * is then forgotten here); undefined otherwise (a text that does not check out is dropped).
   */
  add(p: Piece): string | undefined {
    if (!wellFormed(p)) return undefined;
    const h = this.head;
    if (h !== undefined && p.index < h.index) return undefined;
    if (h === undefined || p.index > h.index || p.hash !== h.hash || p.size !== h.size || p.of !== h.of) this.start(p);
    this.idleTicks = 0;
    if (this.texts[p.at] !== undefined) return undefined;
    this.texts[p.at] = p.text;
    this.held++;
    while (this.next < p.of && this.texts[this.next] !== undefined) this.next++;
    if (this.held < p.of) return undefined;
    const text = this.texts.join('');
    this.clear();
    if (text.length !== p.size || hashText(text) !== p.hash) return undefined;
    return text;
  }

  /**
   * Whether to ask for the pieces from `next` on now: every piece up to `until` (the end of the
   * window the last piece came in) is held, and they were not asked for already. Notes the ask.
   */
  windowDone(until: number): boolean {
    if (this.head === undefined || this.next < until || this.next <= this.askedFor) return false;
    this.askedFor = this.next;
    return true;
  }

  /** What to name when asking the sender to go on (a retry): notes the ask. */
  resume(): { index: number; hash: number; next: number } | undefined {
    const h = this.head;
    if (h === undefined) return undefined;
    this.askedFor = this.next;
    return { index: h.index, hash: h.hash, next: this.next };
  }

  /**
   * `n` ticks passed (the owner's clock: a Multi-Paxos core's, a learner's server's). Pieces held
   * of a snapshot none of whose pieces came for more than `keptTicks` are dropped: their sender
   * died or moved on, and they would otherwise stay in memory for good. Memory only: nothing is
   * sent (a sender that comes back sends them again).
   */
  age(n: number, keptTicks: number): void {
    if (this.head !== undefined && (this.idleTicks += n) > keptTicks) this.clear();
  }

  clear(): void {
    this.head = undefined;
    this.texts = [];
    this.held = 0;
    this.next = 0;
    this.askedFor = -1;
    this.idleTicks = 0;
  }

  private start(p: Piece): void {
    this.clear();
    this.head = { index: p.index, hash: p.hash, size: p.size, of: p.of };
    this.texts = new Array<string | undefined>(p.of);
  }
}

/** A piece as a sender makes them: numbers where numbers go, `at` within `of`, `of` within reason for `size`. */
function wellFormed(p: Piece): boolean {
  return (
    Number.isSafeInteger(p.index) &&
    Number.isSafeInteger(p.hash) &&
    Number.isSafeInteger(p.size) &&
    Number.isSafeInteger(p.of) &&
    Number.isSafeInteger(p.at) &&
    p.of >= 1 &&
    p.of <= Math.max(1, p.size) &&
    p.at >= 0 &&
    p.at < p.of &&
    typeof p.text === 'string' &&
    p.text.length <= p.size
  );
}
