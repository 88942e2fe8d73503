/**
 * Scripted tests of the 2PC cores (presumed abort: Mohan, Lindsay & Obermarck 1986).
 */
import test from 'ava';
import { TwoPcCoordinator, TwoPcParticipant } from '../src/protocols/twopc.js';
import type { TwoPcMessage } from '../src/protocols/twopc.js';
import { analyticMessages } from '../src/protocols/costs.js';
import { ABORT_WHY_CHARS_MAX } from '../src/protocols/commit.js';
import { Net } from './protocols-net.js';
import { makeTwoPcCore } from './helpers/commit-cores.js';
import type { TwoPcDec, TwoPcNode, TwoPcRec } from './helpers/commit-cores.js';

const VOTE_TIMEOUT = 10;
/** Shorter than the coordinator's, so the participant's own timeout fires first. */
const HOST_VOTE_TIMEOUT = 5;
const COMMIT_RETRY = 3;
const DECISION_RETRY = 4;
const TIMEOUTS = { vote: VOTE_TIMEOUT, hostVote: HOST_VOTE_TIMEOUT, commitRetry: COMMIT_RETRY, decisionRetry: DECISION_RETRY };

function setup(participants: string[], votes: Record<string, boolean | 'never'> = {}) {
  return new Net<TwoPcMessage, TwoPcRec, TwoPcDec, TwoPcNode>({
    ids: ['c', ...participants],
    make: (id, recovered) => makeTwoPcCore(id, recovered, TIMEOUTS),
    onDecision: (id, core, d) => {
      const vote = votes[id] ?? true;
      // A no vote says why, as a shard's host does (see noWhy).
      if (d.kind === 'prepare' && core instanceof TwoPcParticipant && vote !== 'never') core.vote(d.txn, vote, vote ? undefined : noWhy(id));
    },
  });
}

/** What a participant's host gives as the reason of its no vote. */
function noWhy(id: string): string {
  return `check failed on key "k@${id}"`;
}

function coordinator(net: ReturnType<typeof setup>): TwoPcCoordinator {
  return net.core('c') as TwoPcCoordinator;
}

function begin(net: ReturnType<typeof setup>, txn: string, participants: string[]): void {
  net.act('c', (c) =>
    (c as TwoPcCoordinator).begin(
      txn,
      participants.map((to) => ({ to, payload: { op: `write@${to}` } })),
    ),
  );
}

/** Outcomes (not prepare requests) each node decided, as "kind" strings. */
function outcomes(net: ReturnType<typeof setup>, id: string): string[] {
  return net
    .decisionsOf(id)
    .filter((d) => d.kind !== 'prepare')
    .map((d) => `${d.kind} ${d.txn}`);
}

test('fault-free commit: every participant commits with its payload; costs match twoPcCost(N)', (t) => {
  for (let n = 1; n <= 5; n++) {
    const ps = Array.from({ length: n }, (_, i) => `p${i + 1}`);
    const net = setup(ps);
    begin(net, 't1', ps);
    net.stabilize();
    t.deepEqual(outcomes(net, 'c'), ['commit t1']);
    for (const p of ps) {
      t.deepEqual(
        net.decisionsOf(p).filter((d) => d.kind === 'commit'),
        [{ kind: 'commit', txn: 't1', payload: { op: `write@${p}` } }],
      );
    }
    const lastParticipantDecision = Math.max(...net.events.filter((e) => e.node !== 'c' && e.decision.kind === 'commit').map((e) => e.round));
    const cost = analyticMessages.twoPc(n);
    t.is(net.remoteSent, cost.messages, `messages, N=${n}`);
    t.is(lastParticipantDecision, cost.messageDelays, `delays, N=${n}`);
    t.is(net.persisted, cost.stableWrites, `writes, N=${n}`);
    t.deepEqual(coordinator(net).active(), [], 'coordinator forgot the txn after all acks');
  }
});

test("one no vote aborts everyone, with the no-voter's reason; the coordinator logs nothing (presumed abort)", (t) => {
  const net = setup(['p1', 'p2', 'p3'], { p2: false });
  begin(net, 't1', ['p1', 'p2', 'p3']);
  net.stabilize();
  t.deepEqual(outcomes(net, 'c'), ['abort t1']);
  t.deepEqual(net.decisionsOf('c'), [{ kind: 'abort', txn: 't1', reason: 'vote-no', why: noWhy('p2') }]);
  for (const p of ['p1', 'p2', 'p3']) t.deepEqual(outcomes(net, p), ['abort t1']);
  t.deepEqual(net.logs.get('c'), []);
  // p2 voted no and never wrote anything; p1 and p3 wrote their yes vote and the abort.
  t.deepEqual(net.logs.get('p2'), []);
  t.is(net.logs.get('p1')!.length, 2);
});

test('a no vote says why in at most ABORT_WHY_CHARS_MAX characters', (t) => {
  const net = setup(['p1', 'p2'], { p2: 'never' });
  begin(net, 't1', ['p1', 'p2']);
  net.stabilize();
  net.act('p2', (p2) => t.true((p2 as TwoPcParticipant).vote('t1', false, `${'x'.repeat(ABORT_WHY_CHARS_MAX - 4)}\u{1F600}${'y'.repeat(500)}`)));
  net.stabilize();
  const d = net.decisionsOf('c')[0] as { why: string };
  t.is(d.why, `${'x'.repeat(ABORT_WHY_CHARS_MAX - 4)}...`, 'cut before a surrogate pair, not inside it');
  t.true(d.why.length <= ABORT_WHY_CHARS_MAX);
});

test('the coordinator aborts when a vote never arrives', (t) => {
  const net = setup(['p1', 'p2']);
  begin(net, 't1', ['p1', 'p2']);
  net.deliverRound(); // prepares
  t.is(
    net.dropWhere((m) => m.from === 'p2' && m.msg.type === 'vote'),
    1,
  );
  net.stabilize();
  t.deepEqual(outcomes(net, 'c'), []);
  net.run(VOTE_TIMEOUT - 1);
  t.deepEqual(outcomes(net, 'c'), [], 'not before the timeout');
  net.run(1);
  t.deepEqual(net.decisionsOf('c'), [{ kind: 'abort', txn: 't1', reason: 'timeout', why: 'no vote in time from p2' }]);
  t.deepEqual(outcomes(net, 'p1'), ['abort t1']);
  t.deepEqual(outcomes(net, 'p2'), ['abort t1']);
});

test('a participant whose host never votes aborts unilaterally and votes no', (t) => {
  const net = setup(['p1', 'p2'], { p2: 'never' });
  begin(net, 't1', ['p1', 'p2']);
  net.stabilize();
  net.run(HOST_VOTE_TIMEOUT - 1);
  t.deepEqual(outcomes(net, 'p2'), []);
  net.run(1);
  t.deepEqual(net.decisionsOf('p2').at(-1), { kind: 'abort', txn: 't1', payload: { op: 'write@p2' }, reason: 'timeout' });
  t.deepEqual(
    net.decisionsOf('c'),
    [{ kind: 'abort', txn: 't1', reason: 'vote-no', why: 'p2 did not vote in time' }],
    'its no vote aborts at once, saying why',
  );
  t.deepEqual(outcomes(net, 'p1'), ['abort t1']);
  // A host answering late is told it is too late.
  t.false((net.core('p2') as TwoPcParticipant).vote('t1', true));
});

test('coordinator crash after logging commit, before sending it: participants block, then commit after recovery', (t) => {
  const ps = ['p1', 'p2', 'p3'];
  const net = setup(ps);
  begin(net, 't1', ps);
  net.deliverRound(); // prepares -> yes votes (each persisted first)
  net.deliverRound(); // votes -> commit record persisted, commits queued
  t.deepEqual(net.logs.get('c'), [{ type: 'commit', txn: 't1', participants: ps }]);
  t.is(
    net.dropWhere((m) => m.from === 'c'),
    3,
    'the commits never leave',
  );
  net.crash('c');
  net.run(50);
  for (const p of ps) {
    t.deepEqual(outcomes(net, p), [], `${p} is blocked`);
    t.deepEqual(
      (net.core(p) as TwoPcParticipant).inDoubt().map((d) => d.txn),
      ['t1'],
    );
  }
  t.true(net.dropped >= 3 * Math.floor(50 / DECISION_RETRY), 'they kept asking the dead coordinator');
  net.restart('c');
  net.stabilize();
  for (const p of ps) t.deepEqual(outcomes(net, p), ['commit t1']);
  t.deepEqual(coordinator(net).active(), []);
  t.deepEqual(net.logs.get('c')!.at(-1), { type: 'end', txn: 't1' });
});

test('coordinator crash before deciding: participants block, the recovered coordinator presumes abort', (t) => {
  const ps = ['p1', 'p2'];
  const net = setup(ps);
  begin(net, 't1', ps);
  net.deliverRound(); // prepares -> votes in flight
  net.crash('c');
  net.stabilize(); // the votes are lost
  net.run(30);
  for (const p of ps) t.deepEqual(outcomes(net, p), []);
  net.restart('c');
  t.deepEqual(coordinator(net).active(), [], 'nothing was logged');
  net.run(DECISION_RETRY);
  for (const p of ps) t.deepEqual(outcomes(net, p), ['abort t1']);
});

test('a participant that crashes after voting yes recovers in doubt and learns the outcome', (t) => {
  const ps = ['p1', 'p2'];
  const net = setup(ps);
  begin(net, 't1', ps);
  net.deliverRound(); // prepares; votes persisted and sent
  net.crash('p1');
  net.stabilize(); // coordinator commits; p1 misses its commit
  t.deepEqual(outcomes(net, 'c'), ['commit t1']);
  net.restart('p1');
  const p1 = net.core('p1') as TwoPcParticipant;
  // The restart already asked the coordinator; before delivery p1 is in doubt with its payload.
  t.deepEqual(p1.inDoubt(), [{ txn: 't1', coordinator: 'c', payload: { op: 'write@p1' } }]);
  net.stabilize();
  t.deepEqual(net.decisionsOf('p1').at(-1), { kind: 'commit', txn: 't1', payload: { op: 'write@p1' } });
  t.deepEqual(coordinator(net).active(), [], 'its ack let the coordinator forget');
});

test('duplicated messages change nothing: one outcome per node', (t) => {
  const ps = ['p1', 'p2', 'p3'];
  const net = setup(ps);
  begin(net, 't1', ps);
  begin(net, 't2', ps);
  while (net.queue.length > 0) {
    net.queue = net.queue.flatMap((m) => [m, { ...m }]);
    net.deliverRound();
  }
  for (const id of ['c', ...ps]) t.deepEqual(outcomes(net, id).sort(), ['commit t1', 'commit t2']);
});

test('a late yes vote for a forgotten (aborted) transaction is answered with abort', (t) => {
  const net = setup(['p1', 'p2'], { p2: 'never' });
  begin(net, 't1', ['p1', 'p2']);
  net.deliverRound();
  const held = net.queue.splice(0); // p1's yes vote, held back
  t.deepEqual(
    held.map((m) => m.msg),
    [{ type: 'vote', txn: 't1', yes: true }],
  );
  // Cut p1 off while the transaction aborts (p2's host never votes, so p2 times out and votes no).
  net.isolate('p1');
  net.run(VOTE_TIMEOUT);
  net.heal();
  t.deepEqual(outcomes(net, 'c'), ['abort t1']);
  t.deepEqual(outcomes(net, 'p1'), [], 'p1 is still uncertain');
  net.queue.push(...held);
  net.stabilize();
  t.deepEqual(outcomes(net, 'p1'), ['abort t1']);
  t.deepEqual(net.logs.get('p1')!.at(-1), { type: 'decided', txn: 't1', commit: false });
});
