import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/index.js';
import { checkHostLayout, checkLayout } from '../src/cluster/data-dir.js';
import { createCoordinatorCore, createParticipantCore } from '../src/replication/commit-cores.js';

// A class audit of state across a restart (session 66): a restart on a dataDir with another
// commit protocol. The transactions' durable records are the protocol's own: a coordinator's
// (2PC commit records; Paxos Commit promises, accepted values and rounds) in its log, a
// participant's (2PC/3PC `voted`, Paxos Commit `prepared`, ...) in its shard's Paxos log. The
// folder recorded the layout, mode, factor and groups, not the protocol, so a start with
// another one was taken, and the cores of the new one misread what the old one left in doubt.

/** A fresh directory under the system's temp folder, removed when the test ends. */
function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('restart audit: the cores of one commit protocol cannot read what another left in doubt', (t) => {
  const options = { acceptors: ['coordinator/a'], seed: 1 };
  // A Paxos Commit RM's prepared record, as the shard's log keeps it, read by a 2PC core: the
  // core throws, and with it every step of a server that leads the shard (a restart loop).
  const prepared = { record: { type: 'prepared', txn: 'a:x:1', coordinator: 'coordinator/a', rms: ['shard/0'], payload: null } };
  t.throws(() => createParticipantCore('2pc', 'shard/0', [prepared], options), { instanceOf: ConfigError });
  // A 2PC participant's yes vote read by a Paxos Commit core: forgotten, its keys stay locked
  // (the orphan watch rebuilds the core from the same records at every tick, and never aborts).
  const voted = { record: { type: 'voted', txn: 'a:x:2', coordinator: 'coordinator/a', payload: null } };
  t.is(createParticipantCore('paxos-commit', 'shard/0', [voted], options).phaseOf('a:x:2'), undefined);
  // A 2PC coordinator's commit record read by a Paxos Commit coordinator: the commit it owed
  // its uncertain participants is never sent.
  const coordinator = createCoordinatorCore('paxos-commit', 'coordinator/a', [{ type: 'commit', txn: 'a:x:3', participants: ['shard/0'] }], options);
  t.is(coordinator.phaseOf('a:x:3'), undefined);
  t.deepEqual(coordinator.ready().messages, []);
});

test('restart audit: a dataDir records its commit protocol, and a start with another is refused naming commit', (t) => {
  const dataDir = tempDir(t, 'meridian-commit-');
  const file = join(dataDir, 'meridian-layout.json');
  // What startCluster checks, under the folder's lock, before any actor starts (cluster.ts).
  const config = {
    regions: [{ name: 'a', servers: 1 }],
    shards: 2,
    replication: { mode: 'active', factor: 1 },
    commit: '2pc',
    messageBytesMax: 1048576,
  } as const;
  checkLayout(dataDir, config);
  t.is(JSON.parse(readFileSync(file, 'utf8')).commit, '2pc');
  // Before: taken, and a transaction in doubt at the restart was misread (the test above).
  for (const other of ['paxos-commit', '3pc'] as const) {
    const error = t.throws(() => checkLayout(dataDir, { ...config, commit: other }), { instanceOf: ConfigError });
    t.is(error!.field, 'commit');
    t.is(
      error!.message,
      `config.commit: expected '2pc', as recorded in ${file} (its logs hold the durable records of '2pc' transactions, which '${other}' ` +
        `cannot read: a transaction in doubt would hold its keys' locks for good, or fail every server that leads its shard; ` +
        `start with commit '2pc', or on a new dataDir), got "${other}"`,
    );
  }
  t.notThrows(() => checkLayout(dataDir, config), 'the same protocol restarts');
  // A layout file an earlier version wrote (no protocol recorded) is taken, and this start's recorded.
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete earlier['commit'];
  writeFileSync(file, JSON.stringify(earlier));
  checkLayout(dataDir, { ...config, commit: 'paxos-commit' });
  t.is(JSON.parse(readFileSync(file, 'utf8')).commit, 'paxos-commit');
  // A protocol that is not one Meridian wrote is refused, not overwritten.
  writeFileSync(file, JSON.stringify({ ...earlier, commit: 'tpc' }));
  const unknown = t.throws(() => checkLayout(dataDir, config), { instanceOf: ConfigError });
  t.regex(unknown!.message, /\(meridian-layout\.json there is not one Meridian wrote\)/);
});

test("restart audit: a 'meridian host' data directory records its commit protocol, and refuses an assignment with another naming commit", (t) => {
  const dir = tempDir(t, 'meridian-host-commit-');
  const file = join(dir, 'meridian-layout.json');
  const record = {
    cluster: 'shop',
    layout: { shards: 2, regions: [{ name: 'a', servers: 1 }] },
    replication: { mode: 'active', factor: 1 } as const,
    nodes: ['a/0'],
  };
  // An assignment of servers or a coordinator says its protocol (their params: cli/host.ts commitOf).
  checkHostLayout(dir, { ...record, commit: 'paxos-commit' })();
  t.is(JSON.parse(readFileSync(file, 'utf8')).commit, 'paxos-commit');
  const error = t.throws(() => checkHostLayout(dir, { ...record, commit: '2pc' }), { instanceOf: ConfigError });
  t.is(error!.field, 'commit');
  t.regex(
    error!.message,
    /^config\.commit: expected 'paxos-commit', as recorded in \S+ \(its logs hold .* start with commit 'paxos-commit', or on a new --data-dir\), got "2pc"$/,
  );
  t.notThrows(() => checkHostLayout(dir, { ...record, commit: 'paxos-commit' })(), 'the same protocol');
  // One that starts no server or coordinator says none: taken, and the recorded one kept.
  checkHostLayout(dir, record)();
  t.is(JSON.parse(readFileSync(file, 'utf8')).commit, 'paxos-commit');
  // A file an earlier version wrote (no protocol recorded): taken, and this assignment's recorded.
  const earlier = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete earlier['commit'];
  writeFileSync(file, JSON.stringify(earlier));
  checkHostLayout(dir, { ...record, commit: '2pc' })();
  t.is(JSON.parse(readFileSync(file, 'utf8')).commit, '2pc');
});
