/**
 * A get in flight at a server that crashes or that its region holds down is sent again to another
 * server (balancer.ts reroute, failInflightTo), not failed: it changed nothing, and a busy live
 * server held down a moment under CPU load failed reads another copy could serve (a user audit,
 * session 60: `UnavailableError: server c/1 went silent (its region holds it down) with the
 * request in flight`). The balancer actor runs alone through its Behavior with a recording
 * context, so every forward and answer it sends is seen: the get is answered once, a late answer
 * from the first server is dropped, writes are not sent again, the number of times is bounded,
 * and with no other server up the get fails UNAVAILABLE (definite).
 */
import test from 'ava';
import { validateBalancerConfig } from '../src/balance/validate.js';
import { balancerBehavior, GET_REROUTES_MAX, type BalancerParams, type BalancerState, type BalancerSummary } from '../src/cluster/balancer.js';
import type { BalancerInbound, Digest, MemberState, Req, RequestBody, Res } from '../src/cluster/messages.js';
import { recordingContext } from './helpers/fake-context.js';

const SERVERS = ['r1/0', 'r1/1', 'r1/2'];
const CLIENT = 'client/r1/c0';

function balancer(): {
  state: BalancerState;
  sent: Array<{ to: string; msg: Req | Res }>;
  deliver: (from: string, msg: BalancerInbound) => void;
  digest: (states: Record<string, MemberState>) => void;
  request: (rid: number, body: RequestBody) => { to: string; rid: number };
  answersTo: (rid: number) => Res[];
  forwardsOf: (rq: string) => Array<{ to: string; rid: number }>;
  summary: () => BalancerSummary;
} {
  const { ctx, sent, world } = recordingContext<Req | Res>('balancer/r1');
  const params: BalancerParams = {
    region: 'r1',
    priority: ['r1'],
    regions: ['r1'],
    servers: { r1: SERVERS },
    balancer: validateBalancerConfig({ strategy: 'round-robin', outlier: false }),
    heartbeatIntervalMs: 100,
    requestTimeoutMs: 5_000,
    publishMembers: false,
  };
  const state = balancerBehavior.init(ctx, params, []);
  let seq = 0;
  const deliver = (from: string, msg: BalancerInbound): void => {
    world.now += 10;
    world.sender = from;
    balancerBehavior.receive(state, msg, ctx);
  };
  const digest = (states: Record<string, MemberState>): void => {
    seq++;
    const load = { inflight: 0, mailbox: 0, latencyEwmaMs: 1, busyMs: 0, requests: 0 };
    const members = SERVERS.map((id) => ({ id, state: states[id] ?? 'up', load }));
    deliver('region/r1', { type: 'digest', region: 'r1', seq, incarnation: 'a', version: seq, members } satisfies Digest);
  };
  const forwardsOf = (rq: string): Array<{ to: string; rid: number }> =>
    sent.flatMap(({ to, msg }) => (msg.type === 'req' && msg.body.rq === rq ? [{ to, rid: msg.rid }] : []));
  const request = (rid: number, body: RequestBody): { to: string; rid: number } => {
    const rq = `c0:${rid}`;
    deliver(CLIENT, { type: 'req', rid, body: { ...body, rq } });
    const forwards = forwardsOf(rq);
    if (forwards.length !== 1) throw new Error(`${rq} forwarded ${forwards.length} times`);
    return forwards[0]!;
  };
  const answersTo = (rid: number): Res[] => sent.flatMap(({ to, msg }) => (to === CLIENT && msg.type === 'res' && msg.rid === rid ? [msg] : []));
  digest({});
  const summary = (): BalancerSummary => balancerBehavior.summary!(state) as BalancerSummary;
  return { state, sent, deliver, digest, request, answersTo, forwardsOf, summary };
}

test('a get in flight at a server its region then holds down is sent to another server and answered once; a put in flight elsewhere is untouched', (t) => {
  const b = balancer();
  const get = b.request(1, { op: 'get', key: 'k' });
  // Round-robin: the put goes to the next server; the get's server is held down, the put's is not.
  const put = b.request(2, { op: 'put', key: 'k', value: 1 });
  const getAlone = b.request(3, { op: 'get', key: 'j' });
  t.not(put.to, get.to);
  b.digest({ [get.to]: 'down' });
  const forwards = b.forwardsOf('c0:1');
  t.is(forwards.length, 2, 'sent again once');
  const again = forwards[1]!;
  t.not(again.to, get.to, 'to another server');
  t.not(again.rid, get.rid, 'under a new balancer rid');
  t.deepEqual(b.answersTo(1), [], 'not failed');
  t.is(b.state.inflight.size, 3);
  t.is(b.summary().rerouted, 1);
  // The late answer from the first server (live, only busy) is to the old rid: dropped.
  b.deliver(get.to, { type: 'res', rid: get.rid, ok: true, value: 'v', by: get.to });
  t.deepEqual(b.answersTo(1), [], 'the late answer from the first server is not relayed');
  // The answer from the second server is relayed, with the client's rid, once.
  b.deliver(again.to, { type: 'res', rid: again.rid, ok: true, value: 'v', by: again.to });
  b.deliver(again.to, { type: 'res', rid: again.rid, ok: true, value: 'v', by: again.to });
  t.like(b.answersTo(1), [{ ok: true, value: 'v' }]);
  t.is(b.answersTo(1).length, 1, 'answered once');
  // The put went to a server still up: still in flight, untouched; the other get too (its server is up).
  t.is(b.forwardsOf('c0:2').length, 1);
  t.deepEqual(b.answersTo(2), []);
  t.not(getAlone.to, get.to);
  t.is(b.forwardsOf('c0:3').length, 1);
});

test('a write in flight at a server held down fails at once (TIMEOUT: it may have taken effect) and is not sent again', (t) => {
  const b = balancer();
  const put = b.request(1, { op: 'put', key: 'k', value: 1 });
  b.digest({ [put.to]: 'down' });
  t.is(b.forwardsOf('c0:1').length, 1, 'not sent again');
  t.like(b.answersTo(1), [{ ok: false, code: 'TIMEOUT' }]);
  t.is(b.state.inflight.size, 0);
});

test('a get in flight at a server that crashed is sent to another server', (t) => {
  const b = balancer();
  const get = b.request(1, { op: 'get', key: 'k' });
  b.deliver(get.to, { type: 'sys', event: 'node-crashed', node: get.to, incarnation: 0 });
  const forwards = b.forwardsOf('c0:1');
  t.is(forwards.length, 2);
  t.not(forwards[1]!.to, get.to);
  b.deliver(forwards[1]!.to, { type: 'res', rid: forwards[1]!.rid, ok: true, value: 7, by: forwards[1]!.to });
  t.like(b.answersTo(1), [{ ok: true, value: 7 }]);
  t.is(b.answersTo(1).length, 1);
});

test('with no other server up, a get in flight at a server held down fails UNAVAILABLE (definite), not sent again', (t) => {
  const b = balancer();
  b.request(1, { op: 'get', key: 'k' });
  b.digest(Object.fromEntries(SERVERS.map((id) => [id, 'down'])));
  t.is(b.forwardsOf('c0:1').length, 1, 'not sent again');
  const answers = b.answersTo(1);
  t.like(answers, [{ ok: false, code: 'UNAVAILABLE' }]);
  t.regex((answers[0] as { message: string }).message, /no other server up could take it/);
  t.is(b.state.inflight.size, 0);
});

test(`a get is sent again at most GET_REROUTES_MAX (${GET_REROUTES_MAX}) times, then fails UNAVAILABLE`, (t) => {
  const b = balancer();
  b.request(1, { op: 'get', key: 'k' });
  // Each server it is at goes down in turn, the one before it up again: another is always up.
  for (let k = 0; k < GET_REROUTES_MAX; k++) {
    const at = b.forwardsOf('c0:1').at(-1)!.to;
    b.digest({ [at]: 'down' });
    t.is(b.forwardsOf('c0:1').length, k + 2);
    t.deepEqual(b.answersTo(1), []);
  }
  const last = b.forwardsOf('c0:1').at(-1)!.to;
  b.digest({ [last]: 'down' });
  t.is(b.forwardsOf('c0:1').length, GET_REROUTES_MAX + 1, 'not sent again');
  const answers = b.answersTo(1);
  t.like(answers, [{ ok: false, code: 'UNAVAILABLE' }]);
  t.regex((answers[0] as { message: string }).message, new RegExp(`sent to ${GET_REROUTES_MAX + 1} servers`));
});
