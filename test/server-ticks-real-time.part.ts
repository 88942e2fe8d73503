/**
 * A server's lazy ticks when time passes between two messages of one mailbox, as on threads and
 * NATS (a thread descheduled, a long step) and never in the simulator, whose clock stands still
 * while an actor drains its mailbox. A step that sees more messages waiting leaves its due tick
 * for the last of them to work out; if that step made a group leader (its first heartbeat due
 * at the next tick of the grid) and a tick went by before the next message, the next step
 * counted that tick as one that does nothing and the group's core refused it: "assertion
 * failed in r3/1: multipaxos: advance() skips only ticks that do nothing but count", a hybrid
 * scenario on worker threads (a scratch sweep of runScenario on threads, 2026-12-05, seed
 * 2001012 of `--nemesis swarm --txn-share 0.3`: two blackouts, every server restarting at once
 * on two cores). The server is driven here through a context of our own: its clock, its
 * mailbox count and its peers are the test's.
 */
import test from 'ava';
import { serverBehavior, type ServerState } from '../src/cluster/server.js';
import type { ServerParams } from '../src/cluster/server.js';
import type { Message } from '../src/runtime/actor.js';
import { recordingContext } from './helpers/fake-context.js';
import { serverParams } from './helpers/server-params.js';

interface Sent {
  to: string;
  msg: { type: string; s?: number; m?: { type: string; ballot?: unknown }; ss?: number[] };
}

function paramsOf(id: string): ServerParams {
  return serverParams(id, { servers: 3, factor: 3, shards: 1 });
}

/** The Paxos messages (of shard 0) in what was sent, one wire or a batch. */
function paxosOf(s: Sent): Array<{ type: string; ballot?: unknown }> {
  const msg = s.msg as { type: string; m?: unknown };
  if (msg.type === 'px') return [msg.m as { type: string }];
  if (msg.type === 'pxs') return msg.m as Array<{ type: string }>;
  return [];
}

test('a server made leader by a step that left its due tick to the next message carries out the tick that passed before that message (real time between two messages of a mailbox)', (t) => {
  const self = 'r1/0';
  let ids = 0;
  const {
    ctx,
    sent,
    timers,
    world: set,
  } = recordingContext<Sent['msg']>(self, { now: 1_000, sender: self }, { incarnation: 'test', nextId: () => `id${ids++}` });
  const state: ServerState = serverBehavior.init(ctx, paramsOf(self), []);
  const step = (from: string, msg: Message, mailbox = 0): void => {
    set.sender = from;
    set.mailbox = mailbox;
    serverBehavior.receive(state, msg as never, ctx);
  };
  // Tick timer after tick timer until the replica campaigns (pre-vote first).
  const peers = ['r1/1', 'r1/2'];
  let preVote: { ballot?: unknown } | undefined;
  for (let i = 0; i < 200 && preVote === undefined; i++) {
    const at = timers.get('tick');
    if (at === undefined) break;
    set.now = at;
    sent.length = 0;
    step(self, { type: 'timer', key: 'tick' });
    preVote = sent.flatMap(paxosOf).find((m) => m.type === 'pre-prepare');
  }
  t.truthy(preVote, 'the replica asked for pre-votes');
  sent.length = 0;
  for (const p of peers)
    step(p, { type: 'px', s: 0, m: { type: 'pre-promise', ballot: preVote!.ballot, granted: true, promised: { round: 0, id: '' } } } as Message);
  const prepare = sent.flatMap(paxosOf).find((m) => m.type === 'prepare');
  t.truthy(prepare, 'granted, it campaigned');
  // Its timer's ticks while it waits for promises: nothing due before its election timeout.
  for (let i = 0; i < 2; i++) {
    set.now = timers.get('tick')!;
    step(self, { type: 'timer', key: 'tick' });
  }
  t.true(timers.get('tick')! - set.now > 60, `the tick timer set past the next 60 ms (${timers.get('tick')! - set.now} ms)`);
  // The promise that makes it leader comes with another message waiting: the step leaves its
  // due tick to that one. Then more than a heartbeat period (5 ticks of 10 ms) passes before
  // that message is taken.
  sent.length = 0;
  step(peers[0]!, { type: 'px', s: 0, m: { type: 'promise', ballot: prepare!.ballot, slots: [], snapshot: null } } as Message, 1);
  t.true(state.groups.get(0)!.isLeader(), 'elected');
  const heartbeatsAtElection = sent.flatMap(paxosOf).filter((m) => m.type === 'heartbeat').length;
  set.now += 60;
  sent.length = 0;
  t.notThrows(() => step(peers[1]!, { type: 'px', s: 0, m: { type: 'promise', ballot: prepare!.ballot, slots: [], snapshot: null } } as Message));
  const heartbeats = sent.flatMap(paxosOf).filter((m) => m.type === 'heartbeat').length;
  t.log(`heartbeats sent on election: ${heartbeatsAtElection}; in the late step: ${heartbeats}`);
  t.true(state.groups.get(0)!.isLeader(), 'still leading');
  t.true(heartbeats >= peers.length, 'the heartbeat due in the ticks that passed went to both peers');
});
