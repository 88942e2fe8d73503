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
 * wrong (measured: every structure past the 32nd). test/codec.test.ts round-trips each one.
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

export function createPackr(): Packr {
  return new Packr({
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
 * Accumulates encoded envelopes for one destination and hands out an exact-size buffer that
 * can be transferred (a `pack()` result is a view into a shared slab, so it is copied here).
 */
export class FrameBuilder {
  private bytes: Uint8Array;
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
    if (need > this.bytes.byteLength) {
      let size = this.bytes.byteLength * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
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
    const view = new DataView(frame.buffer);
    view.setUint32(0, FRAME_MAGIC);
    view.setUint32(4, this.count);
    this.length = FRAME_HEADER_BYTES;
    this.count = 0;
    return frame;
  }
}

/** Decodes a frame; throws FrameError when it is not a well-formed frame of envelopes. */
export function decodeFrame(packr: Packr, frame: Uint8Array): Envelope[] {
  if (!(frame instanceof Uint8Array) || frame.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameError('frame too short or not bytes');
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0) !== FRAME_MAGIC) throw new FrameError('bad frame magic');
  const count = view.getUint32(4);
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
