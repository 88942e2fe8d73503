import test from 'ava';
import { startCluster, MeridianError, type Cluster, type TxnOp } from '../src/index.js';
import { BEGUN_REMEMBERED_MAX, coordinatorBehavior, type CoordinatorParams } from '../src/cluster/coordinator.js';
import type { Req, ResErr } from '../src/cluster/messages.js';
import { failoverConfig } from './helpers/failover-cluster.js';
import { recordingContext } from './helpers/fake-context.js';

/**
 * A transaction of gets and checks changed nothing, whatever became of it: when the cluster
 * fails it with its outcome unknown, the failure is definite (UnavailableError, recorded failed),
 * as the client's own timeout already says (client.ts sweep). A balancer answered such a
 * transaction TIMEOUT, "it may or may not have taken effect", recorded unknown, when the server
 * it sent it to crashed with it in flight (failInflightTo) and when it held the transaction's
 * coordinator down for an unanswered verify probe (failCoordinated): found by an audit,
 * session 60. A transaction with a put stays a TimeoutError in both cases. The simulator,
 * virtual time: each failure comes well before the request timeout, so it is the balancer's,
 * not the client's own. A coordinator answered TIMEOUT too to a copy of a request begun before
 * it restarted, or older than the request ids it remembers, though the copy carries the ops; and
 * a server answered it TIMEOUT when the coordinator it passed it to crashed (failForwarded).
 */
const SEEDS = [1, 2];
const REQUEST_TIMEOUT_MS = 5_000;

type Commit = '2pc' | 'paxos-commit';
type Fault = 'server crash' | 'coordinator held down' | 'coordinator crash';

interface Outcome {
  ms: number;
  name: string;
  definite: boolean | undefined;
  message: string;
  /** What cluster.history() and the Elle history recorded for the transaction. */
  outcomes: string[];
  elle: string[];
}

/** Two keys of different shards, so the transaction is a multi-shard one. */
function twoShards(c: Cluster): [string, string] {
  const first = 'a0';
  for (let i = 1; ; i++) if (c.shardOf(`a${i}`) !== c.shardOf(first)) return [first, `a${i}`];
}

/** balancer/r2's `routed:<server>` counters. */
async function routed(c: Cluster): Promise<Map<string, number>> {
  const b = (await c.inspect('balancer/r2')) as { counters: Record<string, number> };
  return new Map(Object.entries(b.counters).filter(([name]) => name.startsWith('routed:')));
}

async function run(t: { log: (s: string) => void }, seed: number, commit: Commit, fault: Fault, readOnly: boolean): Promise<Outcome> {
  const c = await startCluster(failoverConfig(seed, { commit }));
  try {
    const client = c.client({ region: 'r2' });
    await c.sleep(1_500);
    const [a, b] = twoShards(c);
    await client.put(a, 1);
    await client.put(b, 2);
    const ops: TxnOp[] = readOnly
      ? [
          { op: 'get', key: a },
          { op: 'check', key: b, value: 2 },
        ]
      : [
          { op: 'put', key: a, value: 3 },
          { op: 'get', key: b },
        ];
    const history = { ops: c.history().length, events: c.history({ format: 'elle' }).length };
    const before = await routed(c);
    const s = c.now();
    let settled = false;
    const inflight = client.transaction(ops).then(
      () => ({ name: 'ok', definite: undefined, message: '' }),
      (e: Error) => ({ name: e.name, definite: e instanceof MeridianError ? e.definite : undefined, message: e.message }),
    );
    void inflight.then(() => (settled = true));
    await c.sleep(1);
    if (fault === 'server crash' || fault === 'coordinator crash') {
      // The server the balancer sent it to: the one routed counter that moved, once the request
      // reached the balancer (a few virtual ms).
      let to: string[] = [];
      for (let i = 0; i < 20 && to.length === 0 && !settled; i++) {
        await c.sleep(1);
        const after = await routed(c);
        to = [...after].filter(([name, n]) => n > (before.get(name) ?? 0)).map(([name]) => name.slice('routed:'.length));
      }
      if (settled) throw new Error(`seed ${seed}: the transaction was answered before the crash`);
      if (to.length !== 1) throw new Error(`seed ${seed}: balancer/r2 routed the transaction to ${JSON.stringify(to)}`);
      if (fault === 'server crash') {
        t.log(`seed ${seed}: crashing ${to[0]!}, where balancer/r2 sent the transaction, ${Math.round(c.now() - s)} virtual ms after the call`);
        await c.crash(to[0]!);
      } else {
        // On at the coordinator (the server passed it on): the server that did answers it on
        // the crash notice (server.ts failForwarded).
        await c.sleep(3);
        if (settled) throw new Error(`seed ${seed}: the transaction was answered before the crash`);
        t.log(`seed ${seed}: crashing coordinator/r2, ${Math.round(c.now() - s)} virtual ms after the call`);
        await c.crash('coordinator/r2');
      }
    } else {
      if (settled) throw new Error(`seed ${seed}: the transaction was answered before the cut`);
      await c.partition(['coordinator/r2'], ['r0', 'r1', 'r2/0', 'r2/1', 'r2/2']);
    }
    const r = await inflight;
    const ms = c.now() - s;
    t.log(`seed ${seed}, ${commit}, ${fault}, ${readOnly ? 'read-only' : 'with a put'}: ${r.name} after ${Math.round(ms)} virtual ms: ${r.message}`);
    return {
      ms,
      ...r,
      outcomes: c
        .history()
        .slice(history.ops)
        .map((op) => op.outcome),
      elle: c
        .history({ format: 'elle' })
        .slice(history.events)
        .map((e) => e.type),
    };
  } finally {
    await c.stop();
  }
}

for (const fault of ['server crash', 'coordinator held down', 'coordinator crash'] as const) {
  const why =
    fault === 'server crash'
      ? /^server r\d\/\d crashed with the request in flight/
      : fault === 'coordinator crash'
        ? /^coordinator\/r2 crashed with the request/
        : /^coordinator coordinator\/r2 did not answer a probe \(held down\) with the transaction in flight/;
  for (const commit of ['2pc', 'paxos-commit'] as const) {
    test(`sim ${commit}, ${fault} with a multi-shard transaction in flight: one of gets and checks fails as a definite UnavailableError, recorded failed; one with a put stays a TimeoutError, recorded unknown`, async (t) => {
      for (const seed of SEEDS) {
        t.log(`seed ${seed}`);
        const read = await run(t, seed, commit, fault, true);
        t.is(read.name, 'UnavailableError', `seed ${seed}: ${read.message}`);
        t.true(read.definite, `seed ${seed}`);
        t.regex(read.message, why, `seed ${seed}`);
        t.regex(read.message, /; the transaction only read, so it did nothing$/, `seed ${seed}`);
        t.true(read.ms < REQUEST_TIMEOUT_MS - 1_000, `seed ${seed}: failed after ${read.ms} ms, not by the balancer`);
        t.deepEqual(read.outcomes, ['fail', 'fail'], `seed ${seed}: cluster.history()`);
        t.deepEqual(read.elle, ['invoke', 'fail'], `seed ${seed}: the Elle history`);

        const written = await run(t, seed, commit, fault, false);
        t.is(written.name, 'TimeoutError', `seed ${seed}: ${written.message}`);
        t.false(written.definite, `seed ${seed}`);
        t.regex(written.message, why, `seed ${seed}`);
        t.regex(written.message, /; it may or may not have taken effect$/, `seed ${seed}`);
        t.true(written.ms < REQUEST_TIMEOUT_MS - 1_000, `seed ${seed}: failed after ${written.ms} ms, not by the balancer`);
        t.deepEqual(written.outcomes, ['unknown', 'unknown'], `seed ${seed}: cluster.history()`);
        t.deepEqual(written.elle, ['invoke', 'info'], `seed ${seed}: the Elle history`);
      }
    });
  }
}

// The coordinator itself, stepped by hand (as test/bug-refused-duplicate.part.ts does): late
// copies of requests it cannot tell the outcome of.

const PARAMS: CoordinatorParams = {
  region: 'r1',
  commit: '2pc',
  topology: { regions: [{ name: 'r1', servers: 2 }], shards: 4, factor: 1, mode: 'none' },
  tickMs: 10,
  acceptors: ['coordinator/r1'],
};

/** A coordinator over `log` (its durable log, which it persists to), and the answers it sends. */
function coordinator(log: unknown[]): { receive: (req: Req) => void; answers: () => Array<[string, string]> } {
  const { ctx, sent } = recordingContext<Partial<ResErr> & { type: string }>(
    'coordinator/r1',
    { sender: 'r1/0' },
    { incarnation: `i${log.length}`, forward: () => undefined, persist: (record) => void log.push(record) },
  );
  const state = coordinatorBehavior.init(ctx, PARAMS, [...log]);
  return {
    receive: (req) => coordinatorBehavior.receive(state, req, ctx),
    answers: () => sent.flatMap(({ msg }) => (msg.type === 'res' && msg.ok === false ? [[msg.code!, msg.message!] as [string, string]] : [])),
  };
}

/** Request `n` of one client: gets and a check on keys of all 4 shards, or the same with a put. */
function request(n: number, readOnly: boolean): Req {
  const ops: TxnOp[] = [
    readOnly ? { op: 'get', key: 'a' } : { op: 'put', key: 'a', value: n },
    { op: 'get', key: 'b' },
    { op: 'get', key: 'c' },
    { op: 'check', key: 'd', value: 1 },
  ];
  return { type: 'req', rid: n, body: { op: 'txn', key: 'a', rq: `client:${n}`, ops } };
}

test('coordinator: a copy of a request begun before a restart is answered UNAVAILABLE (did nothing) if it only reads, TIMEOUT if it writes', (t) => {
  const log: unknown[] = [];
  const before = coordinator(log);
  before.receive(request(1, true));
  before.receive(request(2, false));
  const after = coordinator(log);
  after.receive(request(1, true));
  after.receive(request(2, false));
  t.deepEqual(after.answers(), [
    ['UNAVAILABLE', 'coordinator/r1 restarted since transaction client:1 began; the transaction only read, so it did nothing'],
    ['TIMEOUT', 'coordinator/r1 restarted since transaction client:2 began; it may or may not have taken effect'],
  ]);
});

test('coordinator: a copy of a request older than the ids it remembers is answered UNAVAILABLE (did nothing) if it only reads, TIMEOUT if it writes', (t) => {
  const c = coordinator([]);
  for (let n = 1; n <= BEGUN_REMEMBERED_MAX + 5; n++) c.receive(request(n, n !== 2));
  const earlier = c.answers().length;
  c.receive(request(1, true));
  c.receive(request(2, false));
  t.deepEqual(c.answers().slice(earlier), [
    [
      'UNAVAILABLE',
      'transaction request client:1 is older than coordinator/r1 remembers: a late copy, not begun again; the transaction only read, so it did nothing',
    ],
    ['TIMEOUT', 'transaction request client:2 is older than coordinator/r1 remembers: a late copy, not begun again; it may or may not have taken effect'],
  ]);
});
