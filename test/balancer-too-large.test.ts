/**
 * A balancer and answers over messageBytesMax (too-large.ts), its actor stepped by hand with a
 * recording context: a relay of a read-only transaction's answer handed back too large is a
 * definite error.
 */
import test from 'ava';
import { balancerBehavior, type BalancerParams, type BalancerState } from '../src/cluster/balancer.js';
import { validateBalancerConfig } from '../src/balance/validate.js';
import type { BalancerInbound, Req, Res, TxnOp } from '../src/cluster/messages.js';

interface Sent {
  to: string;
  msg: { type: string; rid?: number };
}

/** A balancer of one region of two servers and one shard; `receive` hands it a message from `from`. */
function balancer(): { state: BalancerState; sent: Sent[]; receive(from: string, msg: BalancerInbound): void } {
  let sender = '';
  const sent: Sent[] = [];
  const ctx = {
    self: 'balancer/a',
    get sender() {
      return sender;
    },
    now: () => 1_000,
    random: () => 0.5,
    setTimer: () => undefined,
    send: (to: string, msg: Sent['msg']) => sent.push({ to, msg }),
    reply: (msg: Sent['msg']) => sent.push({ to: sender, msg }),
    count: () => undefined,
    publish: () => undefined,
  } as unknown as Parameters<typeof balancerBehavior.init>[0];
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
      sender = from;
      balancerBehavior.receive(state, msg, ctx);
    },
  };
}

/** The request the balancer forwarded last. */
function forwarded(sent: Sent[]): { to: string; rid: number } {
  const last = sent.filter((s) => s.msg.type === 'req').at(-1)!;
  return { to: last.to, rid: (last.msg as Req).rid };
}

// A coordinator's answer that fit where the balancer's relay of it to the client's address
// did not (a few bytes more) came back TIMEOUT whatever the transaction did (found with the
// coordinator's own, by an audit, session 56): a read-only transaction's is now definite.
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
    t.like(error, { to: 'client/1', msg: { type: 'res', rid: 9, ok: false, code } });
    t.regex((error.msg as Res & { message: string }).message, code === 'UNAVAILABLE' ? /only read, so it did nothing/ : /any writes it made took effect/);
  });
}
