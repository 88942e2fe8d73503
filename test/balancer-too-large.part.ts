/**
 * A balancer and answers over messageBytesMax (too-large.ts), its actor stepped by hand with a
 * recording context: an error in place of a too-large answer keeps the shard's leader hint, and
 * a relay of a read-only transaction's answer handed back too large is a definite error.
 */
import test from 'ava';
import { balancerBehavior, type BalancerParams, type BalancerState } from '../src/cluster/balancer.js';
import { validateBalancerConfig } from '../src/balance/validate.js';
import type { BalancerInbound, Req, Res, TxnOp } from '../src/cluster/messages.js';
import { readTooLarge } from '../src/cluster/too-large.js';
import { recordingContext } from './helpers/fake-context.js';

interface Sent {
  to: string;
  msg: { type: string; rid?: number };
}

/** A balancer of one region of two servers and one shard; `receive` hands it a message from `from`. */
function balancer(): { state: BalancerState; sent: Sent[]; receive(from: string, msg: BalancerInbound): void } {
  const { ctx, sent, world } = recordingContext<Sent['msg']>('balancer/a', { now: 1_000 });
  const params: BalancerParams = {
    region: 'a',
    priority: ['a'],
    regions: ['a'],
    servers: { a: ['a/0', 'a/1'] },
    balancer: validateBalancerConfig({ strategy: 'round-robin' }),
    heartbeatIntervalMs: 100,
    requestTimeoutMs: 1_000,
    publishMembers: false,
    shards: 1,
  };
  const state = balancerBehavior.init(ctx, params, []);
  return {
    state,
    sent,
    receive(from, msg) {
      world.sender = from;
      balancerBehavior.receive(state, msg, ctx);
    },
  };
}

/** The request the balancer forwarded last. */
function forwarded(sent: Sent[]): { to: string; rid: number } {
  const last = sent.filter((s) => s.msg.type === 'req').at(-1)!;
  return { to: last.to, rid: (last.msg as Req).rid };
}

// A get whose value was too large to send was answered by the shard's leader with an error in
// its place (UNAVAILABLE, session 55); the balancer took it for a refusal (no leader) and
// dropped the shard's leader hint, so the next request of the shard went where the strategy
// put it, through a server that was not the leader (found by an audit, session 56).
test('balancer: an error in place of an answer too large keeps the leader hint', (t) => {
  const b = balancer();
  b.receive('client/1', { type: 'req', rid: 1, body: { op: 'put', key: 'k', value: 1 } });
  const put = forwarded(b.sent);
  b.receive('a/1', { type: 'res', rid: put.rid, ok: true, by: 'a/1' });
  t.is(b.state.leaders[0], 'a/1', 'learned from the put');
  b.receive('client/1', { type: 'req', rid: 2, body: { op: 'get', key: 'k' } });
  const get = forwarded(b.sent);
  t.is(get.to, 'a/1', 'by the hint');
  b.receive('a/1', readTooLarge(get.rid, 'the value read', 300_000, 262_144));
  t.is(b.state.leaders[0], 'a/1', 'the hint stays');
  t.like(b.sent.at(-1), { to: 'client/1', msg: { type: 'res', rid: 2, ok: false, code: 'UNAVAILABLE' } }, 'relayed');
  b.receive('client/1', { type: 'req', rid: 3, body: { op: 'put', key: 'k', value: 2 } });
  t.is(forwarded(b.sent).to, 'a/1', 'the next one goes to the leader');
  // A refusal still drops it.
  b.receive('a/1', { type: 'res', rid: forwarded(b.sent).rid, ok: false, code: 'UNAVAILABLE', message: 'no leader' });
  t.is(b.state.leaders[0], undefined);
});

// A coordinator's answer that fit where the balancer's relay of it to the client's address
// did not (a few bytes more) came back TIMEOUT whatever the transaction did (left open, with the
// coordinator's own, by session 55's audit): a read-only transaction's is now definite.
for (const [what, ops, code] of [
  ['a transaction that only read', [{ op: 'get', key: 'k' }], 'UNAVAILABLE'],
  [
    'a transaction that also wrote',
    [
      { op: 'get', key: 'k' },
      { op: 'put', key: 'j', value: 1 },
    ],
    'TIMEOUT',
  ],
] as const) {
  test(`balancer: its relay of a coordinator's answer handed back too large: ${what} is answered ${code}`, (t) => {
    const b = balancer();
    b.receive('client/1', { type: 'req', rid: 9, body: { op: 'txn', key: 'k', ops: [...ops] as TxnOp[], rq: 'client/1:9' } });
    const txn = forwarded(b.sent);
    b.receive('coordinator/a', { type: 'res', rid: txn.rid, ok: true, value: [['x'.repeat(100)], []] });
    const relay = b.sent.at(-1)!;
    t.like(relay, { to: 'client/1', msg: { type: 'res', rid: 9, ok: true } });
    b.receive('balancer/a', { type: 'undeliverable', to: 'client/1', reason: 'too-large', original: relay.msg, bytes: 2_050, max: 2_048 });
    const error = b.sent.at(-1)!;
    t.like(error, { to: 'client/1', msg: { type: 'res', rid: 9, ok: false, code, tooLarge: true } });
    t.regex((error.msg as Res & { message: string }).message, code === 'UNAVAILABLE' ? /only read, so it did nothing/ : /any writes it made took effect/);
  });
}
