import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import type { Behavior } from '../src/runtime/actor.js';
import { MemoryDurableStore } from '../src/runtime/durable-memory.js';
import type { DirectoryEntry } from '../src/runtime/host.js';
import { LOCAL_QUEUE_KEPT_MAX, ThreadHost } from '../src/runtime/transports/thread-host.js';

/** Replies `{ type: 'pong', n }` to every `ping`; a `poke` makes it send a ping to `peer`. */
const echo: Behavior<{ peer: string; pongs: number }, { peer: string }> = {
  name: 'echo',
  init: (_ctx, params) => ({ peer: params.peer, pongs: 0 }),
  receive(state, msg, ctx) {
    const m = msg as { type: string; n?: number };
    if (m.type === 'ping') ctx.reply({ type: 'pong', n: m.n });
    else if (m.type === 'poke') ctx.send(state.peer, { type: 'ping', n: m.n });
    else if (m.type === 'pong') state.pongs++;
  },
};

/** a/0 and a/1 on host 1, b/0 on host 2. */
const TWO_HOSTS = new Map<string, DirectoryEntry>([
  ['a/0', { host: 1, region: 'r1', node: 'a/0', index: 0 }],
  ['a/1', { host: 1, region: 'r1', node: 'a/1', index: 1 }],
  ['b/0', { host: 2, region: 'r1', node: 'b/0', index: 2 }],
]);

function pair(): { a: ThreadHost; b: ThreadHost; close: () => void } {
  const directory = TWO_HOSTS;
  const behaviors = new Map<string, Behavior>([['echo', echo as Behavior]]);
  const make = (id: number): ThreadHost => new ThreadHost({ id, seed: 1, directory, behaviors, durable: new MemoryDurableStore(), report: () => undefined });
  const a = make(1);
  const b = make(2);
  const { port1, port2 } = new MessageChannel();
  a.connect(2, port1);
  b.connect(1, port2);
  a.host.spawn({ address: 'a/0', behavior: 'echo', params: { peer: 'b/0' }, region: 'r1', node: 'a/0' });
  a.host.spawn({ address: 'a/1', behavior: 'echo', params: { peer: 'b/0' }, region: 'r1', node: 'a/1' });
  b.host.spawn({ address: 'b/0', behavior: 'echo', params: { peer: 'a/0' }, region: 'r1', node: 'b/0' });
  return {
    a,
    b,
    close: () => {
      a.close();
      b.close();
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Until `done()` holds, checking every 5 ms, for at most 10 s (no timing is asserted). */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 10_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('thread host: what a callback sends leaves at its end (a microtask), not at the end of the event-loop turn', async (t) => {
  const { a, b, close } = pair();
  try {
    // Two timers due together run in one timers phase, each followed by its own microtask
    // checkpoint, as two frames arriving on ports in one poll phase are. Each one's ping
    // leaves at its own checkpoint: a reply never waits for the rest of the turn (a flush on
    // setImmediate batched these into one frame, and tripled the round trip of a lone
    // message in the transport bench: 23-41 us -> 74-92 us p50, 13:54 UTC).
    await new Promise<void>((resolve) => {
      setTimeout(() => a.host.deliver({ to: 'a/0', from: 'test', msg: { type: 'poke', n: 1 } }), 0);
      setTimeout(() => a.host.deliver({ to: 'a/1', from: 'test', msg: { type: 'poke', n: 2 } }), 0);
      setTimeout(resolve, 0);
    });
    await until(() => a.host.stats.delivered >= 4);
    t.is(a.framesSent, 2, 'one frame per callback');
    t.is(b.host.stats.delivered, 2);
    t.is(a.host.stats.delivered, 4, 'two pokes and two pongs');
  } finally {
    close();
  }
});

test('thread host: a full frame leaves at once, the rest at the end of the turn', async (t) => {
  const { a, close } = pair();
  try {
    const big = 'x'.repeat(1_500);
    a.host.deliver({ to: 'a/0', from: 'test', msg: { type: 'poke', n: 1 } });
    a.host.route('a/0', 'b/0', { type: 'note', text: big });
    t.is(a.framesSent, 0, 'below the flush size nothing leaves within the step');
    a.host.route('a/0', 'b/0', { type: 'note', text: big });
    t.is(a.framesSent, 1, 'past FRAME_BYTES_FLUSH the frame leaves at once');
    await until(() => a.framesSent >= 2);
    t.is(a.framesSent, 2, 'the poke ping leaves at the end of the turn');
  } finally {
    close();
  }
});

test('thread host: same-host messages arrive all and in order, over many drains, through the reused queues', async (t) => {
  const seen: number[] = [];
  const sender: Behavior<null, unknown> = {
    name: 'sender',
    init: () => null,
    receive(_state, msg, ctx) {
      const m = msg as { type: string; from?: number; count?: number };
      // Each go sends a run of numbered notes; the runs interleave with the receiver's drains.
      if (m.type === 'go') for (let i = 0; i < m.count!; i++) ctx.send('a/1', { type: 'note', n: m.from! + i });
    },
  };
  const recorder: Behavior<null, unknown> = {
    name: 'recorder',
    init: () => null,
    receive(_state, msg) {
      seen.push((msg as unknown as { n: number }).n);
    },
  };
  const directory = new Map<string, DirectoryEntry>([
    ['a/0', { host: 1, region: 'r1', node: 'a/0', index: 0 }],
    ['a/1', { host: 1, region: 'r1', node: 'a/1', index: 1 }],
  ]);
  const behaviors = new Map<string, Behavior>([
    ['sender', sender as Behavior],
    ['recorder', recorder as Behavior],
  ]);
  const a = new ThreadHost({ id: 1, seed: 1, directory, behaviors, durable: new MemoryDurableStore(), report: () => undefined });
  try {
    a.host.spawn({ address: 'a/0', behavior: 'sender', params: {}, region: 'r1', node: 'a/0' });
    a.host.spawn({ address: 'a/1', behavior: 'recorder', params: {}, region: 'r1', node: 'a/1' });
    // Runs of 3, then one past the queue kept for reuse (let go), then small again.
    const runs = [3, 3, 5, LOCAL_QUEUE_KEPT_MAX + 10, 7, 2, 1, 4];
    let from = 0;
    for (const count of runs) {
      a.host.deliver({ to: 'a/0', from: 'test', msg: { type: 'go', from, count } });
      from += count;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => seen.length >= from);
    await tick();
    t.is(seen.length, from, 'every note arrives once');
    t.deepEqual(
      seen,
      Array.from({ length: from }, (_, i) => i),
      'in send order',
    );
  } finally {
    a.close();
  }
});

test('thread host: a step that messages this host and another lets the local actors run before its frame is posted (a woken thread can take the core)', async (t) => {
  // a/0 sends to a/1 (same host) and to b/0 (host 2) in one step; a/1 answers a/0 and sends
  // to b/0 too. Everything both local steps send to host 2 leaves in one frame, after them:
  // posting first wakes the other thread, which on a 2-core machine took this one's core for
  // 175 us before the local follower of a Paxos leader could answer it.
  const order: string[] = [];
  const leader: Behavior<null, unknown> = {
    name: 'leader',
    init: () => null,
    receive(_state, msg, ctx) {
      const m = msg as { type: string };
      order.push(`a/0 ${m.type}`);
      if (m.type === 'go') {
        ctx.send('b/0', { type: 'accept' });
        ctx.send('a/1', { type: 'accept' });
      }
    },
  };
  const follower: Behavior<null, unknown> = {
    name: 'follower',
    init: () => null,
    receive(_state, msg, ctx) {
      order.push(`a/1 ${(msg as { type: string }).type}`);
      ctx.send('a/0', { type: 'accepted' });
      ctx.send('b/0', { type: 'note' });
    },
  };
  const directory = TWO_HOSTS;
  const behaviors = new Map<string, Behavior>([
    ['leader', leader as Behavior],
    ['follower', follower as Behavior],
  ]);
  const frames: number[] = [];
  const a = new ThreadHost({
    id: 1,
    seed: 1,
    directory,
    behaviors,
    durable: new MemoryDurableStore(),
    report: () => undefined,
    sendFrame: (peer, frame) => {
      order.push(`post to ${peer}`);
      frames.push(new DataView(frame.buffer, frame.byteOffset).getUint32(4));
      return undefined;
    },
  });
  try {
    a.host.spawn({ address: 'a/0', behavior: 'leader', params: {}, region: 'r1', node: 'a/0' });
    a.host.spawn({ address: 'a/1', behavior: 'follower', params: {}, region: 'r1', node: 'a/1' });
    a.host.deliver({ to: 'a/0', from: 'test', msg: { type: 'go' } });
    await until(() => order.includes('post to 2'));
    await tick();
    t.deepEqual(order, ['a/0 go', 'a/1 accept', 'a/0 accepted', 'post to 2']);
    t.deepEqual(frames, [2], 'one frame with both messages for host 2');
  } finally {
    a.close();
  }
});

/** A memory store that counts its syncs and says which records are still waiting for one. */
class CountingStore extends MemoryDurableStore {
  syncs = 0;
  unsynced: string[] = [];

  override append(address: string, records: unknown[]): void {
    super.append(address, records);
    for (const r of records) this.unsynced.push(`${address} ${String(r)}`);
  }

  sync(): void {
    this.syncs++;
    this.unsynced = [];
  }
}

test('thread host: a same-host delivery is not a sync; the records of every step before a frame are synced before it leaves (the Ready rule)', async (t) => {
  // a/0 persists and messages a/1 (same host); a/1 persists and messages b/0 (host 2). The
  // leader and local follower of a lone put wrote their logs at each local delivery (four
  // writes a put); the one sync before the frame is what the Ready rule needs.
  const store = new CountingStore();
  const seen: string[] = [];
  const leader: Behavior<null, unknown> = {
    name: 'leader',
    init: () => null,
    receive(_state, msg, ctx) {
      if ((msg as { type: string }).type !== 'go') return;
      ctx.persist('accept');
      ctx.send('a/1', { type: 'accept' });
    },
  };
  const follower: Behavior<null, unknown> = {
    name: 'follower',
    init: () => null,
    receive(_state, _msg, ctx) {
      seen.push(`a/1 stepped after ${store.syncs} syncs, unsynced: ${store.unsynced.join(', ')}`);
      ctx.persist('accepted');
      ctx.send('b/0', { type: 'accepted' });
    },
  };
  const directory = TWO_HOSTS;
  const behaviors = new Map<string, Behavior>([
    ['leader', leader as Behavior],
    ['follower', follower as Behavior],
  ]);
  const a = new ThreadHost({
    id: 1,
    seed: 1,
    directory,
    behaviors,
    durable: store,
    report: () => undefined,
    sendFrame: (peer) => {
      seen.push(`frame to ${peer} after ${store.syncs} syncs, unsynced: ${store.unsynced.join(', ')}`);
      return undefined;
    },
  });
  try {
    a.host.spawn({ address: 'a/0', behavior: 'leader', params: {}, region: 'r1', node: 'a/0' });
    a.host.spawn({ address: 'a/1', behavior: 'follower', params: {}, region: 'r1', node: 'a/1' });
    const syncsAtStart = store.syncs;
    a.host.deliver({ to: 'a/0', from: 'test', msg: { type: 'go' } });
    await until(() => seen.length >= 2);
    t.deepEqual(seen, [`a/1 stepped after ${syncsAtStart} syncs, unsynced: a/0 accept`, `frame to 2 after ${syncsAtStart + 1} syncs, unsynced: `]);
  } finally {
    a.close();
  }
});
