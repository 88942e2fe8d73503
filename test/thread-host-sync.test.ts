import test from 'ava';
import type { Behavior } from '../src/runtime/actor.js';
import { MemoryDurableStore } from '../src/runtime/durable-memory.js';
import type { DirectoryEntry } from '../src/runtime/host.js';
import { ThreadHost } from '../src/runtime/transports/thread-host.js';

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

/** Until `done()` holds, checking every 5 ms, for at most 10 s (no timing is asserted). */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 10_000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
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
  const directory = new Map<string, DirectoryEntry>([
    ['a/0', { host: 1, region: 'r1', node: 'a/0', index: 0 }],
    ['a/1', { host: 1, region: 'r1', node: 'a/1', index: 1 }],
    ['b/0', { host: 2, region: 'r1', node: 'b/0', index: 2 }],
  ]);
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
