import test from 'ava';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../src/index.js';
import { FileDurableStore } from '../src/runtime/durable-file.js';
import { checkLayout, DATA_DIR_LAYOUT } from '../src/cluster/data-dir.js';
import { replicaStateDiffs } from '../src/harness/scenario.js';
import type { ServerState } from '../src/cluster/server.js';
import type { Cluster } from '../src/cluster/cluster.js';

// A class audit (session 68): every piece of state a replica keeps that a snapshot, a
// checkpoint, a log compaction or a restart must carry, checked to be in the snapshot, restored,
// and of the snapshot's log position only.

function shardGroup(c: Cluster, id: string) {
  return (c.internals.runtime.host.cell(id)!.peekState() as ServerState).groups.get(0)!;
}

test('a snapshot holds the participant records of its own log position only: a replica that catches up by it applies none twice', async (t) => {
  // Paxos Commit, one region: its coordinator is the only acceptor. Crashed once the shard
  // prepared the transaction, it leaves the shard's RM to start a recovery round every 1.5-3 s
  // (a 'round' record, replicated through the shard's log). The leader's snapshot was taken
  // before the last one; a follower cut off meanwhile catches up by it and the slots after it.
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: [{ name: 'r1', servers: 3 }],
    transport: 'sim',
    seed,
    network: { jitterMs: 1 },
    shards: 1,
    replication: { mode: 'active', factor: 3, snapshotEvery: 4 },
    commit: 'paxos-commit',
  });
  try {
    const client = c.client({ region: 'r1' });
    for (let i = 0; i < 4; i++) await client.put(`k${i}`, i);
    const txn = client.transaction([{ op: 'put', key: 'a', value: 1 }]);
    txn.catch(() => undefined);
    const leaderOpen = (): boolean => {
      const leader = c.leaderOf(0);
      return leader !== undefined && shardGroup(c, leader).sm.openTransactionCount() > 0;
    };
    for (let i = 0; i < 200 && !leaderOpen(); i++) await c.sleep(1);
    t.true(leaderOpen(), 'the shard prepared the transaction');
    await c.crash('coordinator/r1');
    const leader = c.leaderOf(0)!;
    const follower = c.replicasOf(0).find((s) => s !== leader)!;
    await c.partition(
      [follower],
      c.replicasOf(0).filter((s) => s !== follower),
    );
    for (let i = 0; i < 12; i++) await client.put(`k${i % 4}`, i);
    const records = (): number => [...shardGroup(c, leader).sm.pc.values()][0]?.length ?? 0;
    const before = records();
    for (let i = 0; i < 400 && records() === before; i++) await c.sleep(10);
    const status = shardGroup(c, leader).status();
    t.true(records() > before, 'a recovery round was recorded');
    t.true(status.snapshotIndex < status.commitIndex, `a slot after the leader's snapshot (${status.snapshotIndex} < ${status.commitIndex})`);
    t.true(shardGroup(c, follower).status().commitIndex < status.snapshotIndex, 'the follower is behind the snapshot');
    await c.heal();
    await c.sleep(300);
    const states = c.replicaStates(0);
    t.is(new Set(states.map((s) => s.index)).size, 1, 'every replica at one index');
    t.deepEqual(
      states.map((s) => s.state.pc.map(([, list]) => list.length)),
      states.map(() => [records()]),
      'the same participant records everywhere',
    );
    t.deepEqual(replicaStateDiffs(c, 1), []);
  } finally {
    await c.stop();
  }
});

/**
 * The fsyncs and renames `run` makes in folder `dir`, in order (paths under it as DIR), watched
 * through node:fs: `run` is synchronous, so no other test's calls come between, and node:fs is
 * restored before this returns.
 */
function diskCalls(dir: string, run: () => void): string[] {
  const real = { openSync: fs.openSync, fsyncSync: fs.fsyncSync, renameSync: fs.renameSync };
  const paths = new Map<number, string>();
  const calls: string[] = [];
  const at = (p: fs.PathLike): string => String(p).replace(dir, 'DIR');
  try {
    fs.openSync = (p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode | null) => {
      const fd = real.openSync(p, flags, mode);
      paths.set(fd, at(p));
      return fd;
    };
    fs.fsyncSync = (fd: number) => {
      calls.push(`fsync ${paths.get(fd) ?? '?'}`);
      real.fsyncSync(fd);
    };
    fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
      calls.push(`rename ${at(to)}`);
      real.renameSync(from, to);
    };
    syncBuiltinESMExports();
    run();
  } finally {
    Object.assign(fs, real);
    syncBuiltinESMExports();
  }
  return calls;
}

test('the file store with fsync syncs the folder after it makes a log file and after a checkpoint renames one over it', (t) => {
  // A file's fsync does not make its name durable (POSIX): a power loss after a checkpoint could
  // bring back the log it replaced, without what was fsynced since into the file now named so.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-snapshot-'));
  try {
    const calls = diskCalls(dir, () => {
      const store = new FileDurableStore(dir, true);
      store.append('s/1', [{ n: 1 }]);
      store.sync();
      store.replace('s/1', [{ n: 2 }]);
      store.append('s/1', [{ n: 3 }]);
      store.sync();
      store.close();
    });
    t.deepEqual(calls, ['fsync DIR/s_1.log', 'fsync DIR', 'fsync DIR/s_1.log.tmp', 'rename DIR/s_1.log', 'fsync DIR', 'fsync DIR/s_1.log']);
    t.deepEqual(new FileDurableStore(dir, false).load('s/1'), [{ n: 2 }, { n: 3 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the file store with fsync names a folder it makes durably in its parent, each folder of the path it made', (t) => {
  // Before (session 68) only the entries inside its folder were synced: a power loss soon after
  // a first start could lose the new folder itself, and every log synced in it.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-snapshot-'));
  try {
    const calls = diskCalls(dir, () => new FileDurableStore(join(dir, 'a', 'b'), true).close());
    t.deepEqual(calls, ['fsync DIR/a', 'fsync DIR']);
    t.deepEqual(
      diskCalls(dir, () => new FileDurableStore(join(dir, 'a', 'b'), true).close()),
      [],
      'a folder already there: nothing to sync',
    );
    t.deepEqual(
      diskCalls(dir, () => new FileDurableStore(join(dir, 'c'), false).close()),
      [],
      'without fsync: nothing',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a data folder's layout record is synced, and its folder after the rename: a power loss could leave it empty, and every later start refused", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-audit-snapshot-'));
  try {
    const config = {
      shards: 2,
      regions: [{ name: 'r1', servers: 3 }],
      replication: { mode: 'active', factor: 3 },
      commit: '2pc',
      messageBytesMax: 1 << 20,
    } as const;
    const calls = diskCalls(dir, () => checkLayout(dir, config));
    t.deepEqual(calls, [`fsync DIR/${DATA_DIR_LAYOUT}.tmp`, `rename DIR/${DATA_DIR_LAYOUT}`, 'fsync DIR']);
    t.is(checkLayout(dir, config), undefined, 'read back as written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
