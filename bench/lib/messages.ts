import { Packr } from 'msgpackr';

/**
 * The one message shape every transport bench sends, so the baselines and Meridian carry the
 * same bytes' worth of work: the cluster's own request shape (src/cluster/messages.ts) and
 * its reply.
 */
export interface BenchRequest {
  type: 'req';
  rid: number;
  body: { op: 'put'; key: string; value: number };
}

export interface BenchReply {
  type: 'res';
  rid: number;
  ok: true;
  value: number;
}

export function makeRequest(rid: number): BenchRequest {
  return { type: 'req', rid, body: { op: 'put', key: 'k123', value: 123 } };
}

export function makeReply(req: BenchRequest): BenchReply {
  return { type: 'res', rid: req.rid, ok: true, value: req.body.value };
}

/**
 * The raw baseline's codec: msgpackr records whose structures both threads know up front,
 * covering exactly the bench shapes. This is the best case msgpackr offers; Meridian's codec
 * (src/core/codec.ts) is compared against it.
 */
export function rawPackr(): Packr {
  const structures = [
    ['type', 'rid', 'body'],
    ['op', 'key', 'value'],
    ['type', 'rid', 'ok', 'value'],
  ];
  return new Packr({
    structures,
    maxSharedStructures: structures.length,
    shouldShareStructure: () => false,
    useRecords: true,
    moreTypes: false,
  });
}

/** Frame bytes grow by doubling from this size. */
export const FRAME_BYTES_INITIAL = 16 * 1024;

/**
 * Packs messages one by one into an exact-size buffer that can be transferred (a `pack()`
 * result is a view into msgpackr's shared slab, so it must be copied before transfer).
 */
export class FrameWriter {
  private bytes = new Uint8Array(FRAME_BYTES_INITIAL);
  private length = 0;
  count = 0;

  constructor(private readonly packr: Packr) {}

  append(value: unknown): void {
    const encoded = this.packr.pack(value);
    const need = this.length + encoded.byteLength;
    if (need > this.bytes.byteLength) {
      let size = this.bytes.byteLength * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(encoded, this.length);
    this.length = need;
    this.count++;
  }

  /** An exact-size copy with its own ArrayBuffer; the writer starts over. */
  take(): Uint8Array {
    const frame = this.bytes.slice(0, this.length);
    this.length = 0;
    this.count = 0;
    return frame;
  }
}
