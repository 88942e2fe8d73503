import test from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { BACKLOG_BYTES_MAX, CREDIT_WINDOW_BYTES, NatsLink, subjects } from '../src/runtime/transports/nats-wire.js';

/**
 * The credit window of the NATS link, against a stand-in connection that records what is
 * published and lets the test deliver messages: no server, no timing.
 */
interface Sub {
  subject: string;
  callback: (error: Error | null, msg: { subject: string; data: Uint8Array }) => void;
}

function fakeConnection() {
  const published: Array<{ subject: string; bytes: number }> = [];
  const subs: Sub[] = [];
  const nc = {
    publish: (subject: string, data: Uint8Array) => void published.push({ subject, bytes: data.byteLength }),
    isClosed: () => false,
    isDraining: () => false,
    subscribe: (subject: string, opts: { callback: Sub['callback'] }) => {
      const sub = { subject, callback: opts.callback };
      subs.push(sub);
      return { unsubscribe: () => void subs.splice(subs.indexOf(sub), 1) };
    },
  } as unknown as NatsConnection;
  const deliver = (subject: string, data: Uint8Array): void => {
    const sub = subs.find((s) => s.subject === subject || (s.subject.endsWith('.*') && subject.startsWith(s.subject.slice(0, -1))));
    sub?.callback(null, { subject, data });
  };
  return { nc, published, subs, deliver };
}

function credit(from: number, bytes: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, from);
  new DataView(out.buffer).setUint32(4, bytes);
  return out;
}

const subj = subjects('t', 'g1');
const FRAME = 256 * 1024;

test('nats link: frames past the credit window wait for credit, then go in order', (t) => {
  const { nc, published, deliver } = fakeConnection();
  const link = new NatsLink(nc, subj, 1, () => undefined);
  const frames = CREDIT_WINDOW_BYTES / FRAME + 3;
  for (let i = 0; i < frames; i++) t.is(link.send(2, new Uint8Array(FRAME)), undefined);
  const data = (): number => published.filter((p) => p.subject === subj.data(2, 1)).length;
  t.is(data(), CREDIT_WINDOW_BYTES / FRAME, 'exactly one window in flight');
  deliver(subj.credit(1), credit(2, 2 * FRAME));
  t.is(data(), CREDIT_WINDOW_BYTES / FRAME + 2, 'credit for two frames lets two more go');
  deliver(subj.credit(1), credit(2, CREDIT_WINDOW_BYTES));
  t.is(data(), frames, 'the rest go once credit returns');
  link.close();
});

test("nats link: a full backlog drops frames (as 'backlog-full') instead of growing without bound", (t) => {
  const { nc } = fakeConnection();
  const link = new NatsLink(nc, subj, 1, () => undefined);
  const fit = (CREDIT_WINDOW_BYTES + BACKLOG_BYTES_MAX) / FRAME;
  for (let i = 0; i < fit; i++) t.is(link.send(3, new Uint8Array(FRAME)), undefined);
  t.is(link.send(3, new Uint8Array(FRAME)), 'backlog-full');
  // Another peer has its own window.
  t.is(link.send(4, new Uint8Array(FRAME)), undefined);
  link.close();
});

test('nats link: the receiver hands frames to its host and returns credit to the sender', (t) => {
  const { nc, published, deliver } = fakeConnection();
  const got: number[] = [];
  const link = new NatsLink(nc, subj, 2, (frame) => got.push(frame.byteLength));
  // A quarter window from host 5 earns credit at once.
  const quarter = CREDIT_WINDOW_BYTES / 4;
  deliver(subj.data(2, 5), new Uint8Array(quarter / 2));
  deliver(subj.data(2, 5), new Uint8Array(quarter / 2));
  t.deepEqual(got, [quarter / 2, quarter / 2]);
  const credits = published.filter((p) => p.subject === subj.credit(5));
  t.is(credits.length, 1);
  t.is(credits[0]!.bytes, 8);
  link.close();
});

test('nats link: a fenced host (taken as gone) is sent nothing, and what it sends is dropped unread', (t) => {
  const { nc, published, deliver } = fakeConnection();
  const got: number[] = [];
  const link = new NatsLink(nc, subj, 2, (frame) => got.push(frame.byteLength));
  deliver(subj.data(2, 5), new Uint8Array(10));
  t.deepEqual(got, [10]);
  link.fence(5);
  deliver(subj.data(2, 5), new Uint8Array(20));
  deliver(subj.data(2, 6), new Uint8Array(30));
  t.deepEqual(got, [10, 30], 'host 6 is heard, host 5 no more');
  t.is(link.send(5, new Uint8Array(8)), 'dead');
  t.is(link.send(6, new Uint8Array(8)), undefined);
  t.deepEqual(
    published.filter((p) => p.subject.includes('.d.')).map((p) => p.subject),
    [subj.data(6, 2)],
  );
  link.close();
});
