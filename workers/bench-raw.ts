/**
 * The raw baseline of the transport bench: a bare worker thread, no actors, no router. Two of
 * these exchange msgpack-encoded batches over one MessageChannel, buffers transferred: the
 * physical limit of worker-thread messaging on this machine.
 *
 * Roles: the `pinger` keeps `window` requests in flight and times the run; the `ponger`
 * answers every frame of requests with one frame of replies.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { FrameWriter, makeReply, makeRequest, rawPackr, type BenchReply, type BenchRequest } from '../bench/lib/messages.js';

/** How messages go into a frame: packed one by one and concatenated, or as one array. */
export type RawEncoding = 'each' | 'batch';

export type RawCommand =
  | { type: 'peer'; port: MessagePort }
  /** The NATS baseline: the same frames published through a NATS server, one connection each. */
  | { type: 'nats'; url: string; subject: string; peerSubject: string }
  | { type: 'close' }
  | { type: 'throughput'; total: number; window: number; encoding: RawEncoding }
  | { type: 'rtt'; count: number };

export interface RawDone {
  type: 'done';
  received: number;
  elapsedMs: number;
  frames: number;
  rttsMs: number[];
}

const packr = rawPackr();
const writer = new FrameWriter(packr);
const control = parentPort!;
const role = (workerData as { role: 'pinger' | 'ponger' }).role;
/** Where frames go: a MessagePort, or a NATS subject that looks like one. */
interface FramePort {
  postMessage(frame: Uint8Array, transfer: ArrayBuffer[]): void;
}
let peer: FramePort | undefined;
let nc: NatsConnection | undefined;

// The pinger's run in progress.
let total = 0;
let sent = 0;
let received = 0;
let framesSent = 0;
let encoding: RawEncoding = 'each';
let startedMs = 0;
let rttMode = false;
let sentAtMs = 0;
let rtts: number[] = [];

function decode(frame: Uint8Array): unknown[] {
  const values = packr.unpackMultiple(frame) as unknown[];
  // A batch-encoded frame is one msgpack array; an each-encoded frame is many values.
  return values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
}

function post(port: FramePort, messages: unknown[], how: RawEncoding): void {
  let frame: Uint8Array;
  if (how === 'batch') {
    frame = packr.pack(messages).slice();
  } else {
    for (const m of messages) writer.append(m);
    frame = writer.take();
  }
  framesSent++;
  port.postMessage(frame, [frame.buffer as ArrayBuffer]);
}

function sendRequests(n: number): void {
  const batch: BenchRequest[] = [];
  for (let i = 0; i < n; i++) batch.push(makeRequest(sent++));
  if (rttMode) sentAtMs = performance.now();
  post(peer!, batch, encoding);
}

function onPingerFrame(frame: Uint8Array): void {
  const replies = decode(frame) as BenchReply[];
  for (const r of replies) if (r.type !== 'res') throw new Error(`pinger got ${String(r.type)}`);
  received += replies.length;
  if (rttMode) rtts.push(performance.now() - sentAtMs);
  if (received >= total) {
    const done: RawDone = { type: 'done', received, elapsedMs: performance.now() - startedMs, frames: framesSent, rttsMs: rtts };
    control.postMessage(done);
    return;
  }
  const more = Math.min(replies.length, total - sent);
  if (more > 0) sendRequests(more);
}

function onPongerFrame(frame: Uint8Array): void {
  const values = packr.unpackMultiple(frame) as unknown[];
  const batched = values.length === 1 && Array.isArray(values[0]);
  const requests = (batched ? values[0] : values) as BenchRequest[];
  const replies: BenchReply[] = [];
  for (const req of requests) replies.push(makeReply(req));
  post(peer!, replies, batched ? 'batch' : 'each');
}

control.on('message', (command: RawCommand) => {
  switch (command.type) {
    case 'peer':
      peer = command.port;
      command.port.on('message', (frame: Uint8Array) => (role === 'pinger' ? onPingerFrame(frame) : onPongerFrame(frame)));
      break;
    case 'nats':
      void connect({ servers: command.url, name: `bench-raw-${role}` })
        .then((conn) => {
          nc = conn;
          conn.subscribe(command.subject, { callback: (_error, msg) => (role === 'pinger' ? onPingerFrame(msg.data) : onPongerFrame(msg.data)) });
          peer = { postMessage: (frame) => conn.publish(command.peerSubject, frame) };
          return conn.flush();
        })
        .then(() => control.postMessage({ type: 'nats-ready' }));
      break;
    case 'close':
      void (nc?.close() ?? Promise.resolve()).then(() => control.postMessage({ type: 'closed' }));
      break;
    case 'throughput':
      total = command.total;
      encoding = command.encoding;
      rttMode = false;
      sent = received = framesSent = 0;
      rtts = [];
      startedMs = performance.now();
      sendRequests(Math.min(command.window, total));
      break;
    case 'rtt':
      total = command.count;
      encoding = 'each';
      rttMode = true;
      sent = received = framesSent = 0;
      rtts = [];
      startedMs = performance.now();
      sendRequests(1);
      break;
  }
});
