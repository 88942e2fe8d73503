/**
 * A local read at a server that holds no copy of the key's shard picks a copy not known to be
 * down and probes the slow and unheard ones. Whether a copy is unheard (Reach.unheard) was asked
 * twice per copy and read, once to pick the candidates and once to probe; it is asked once now.
 * The server is driven here through a context of our own.
 */
import test from 'ava';
import { serverBehavior, shardOfKey, type ServerParams, type ServerState } from '../src/cluster/server.js';
import { groupOf } from '../src/cluster/topology.js';
import type { Message } from '../src/runtime/actor.js';
import { recordingContext } from './helpers/fake-context.js';
import { serverParams } from './helpers/server-params.js';

function paramsOf(id: string): ServerParams {
  return serverParams(id, { servers: 3, factor: 1, shards: 3 });
}

test('a local read forwarded to another server asks whether each copy is unheard once', (t) => {
  const self = 'r1/0';
  const params = paramsOf(self);
  const { ctx, sent, world } = recordingContext<{ type: string }>(self, { now: 1_000, sender: 'balancer/r1' });
  const state: ServerState = serverBehavior.init(ctx, params, []);
  let key = '';
  for (let i = 0; key === ''; i++) if (!groupOf(shardOfKey(`k${i}`, params.topology), params.topology).includes(self)) key = `k${i}`;
  const asked = new Map<string, number>();
  const unheard = state.reach.unheard.bind(state.reach);
  state.reach.unheard = (node, now, afterMs) => {
    asked.set(node, (asked.get(node) ?? 0) + 1);
    return unheard(node, now, afterMs);
  };
  const read = (rid: number): void => {
    world.sender = 'balancer/r1';
    serverBehavior.receive(state, { type: 'req', rid, body: { op: 'get', key, consistency: 'local' } } as Message as never, ctx);
  };
  read(1);
  const copies = groupOf(shardOfKey(key, params.topology), params.topology);
  t.deepEqual([...asked.keys()], copies);
  for (const [node, n] of asked) t.is(n, 1, `${node} asked ${n} times`);
  // Its probe unanswered past unheardDownMs, the copy is unheard: the read is refused, and the
  // copy probed again, each still asked once.
  asked.clear();
  world.now += params.unheardDownMs + 1_000;
  const before = sent.length;
  read(2);
  for (const [node, n] of asked) t.is(n, 1, `${node} asked ${n} times`);
  t.true(
    sent.slice(before).some((s) => s.msg.type === 'res'),
    'refused at once',
  );
  t.true(
    sent.slice(before).some((s) => s.msg.type === 'probe'),
    'probed again',
  );
});
