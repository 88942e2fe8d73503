import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '../src/core/codec.js';
import { TimeoutError, UnavailableError } from '../src/core/errors.js';
import { Client, type ClientDeps } from '../src/cluster/client.js';
import type { Req } from '../src/cluster/messages.js';
import type { HostEvent } from '../src/runtime/env.js';
import type { ThreadsRuntime } from '../src/runtime/transports/threads.js';
import { PORT_CREDIT_RETURN_BYTES } from '../src/runtime/transports/thread-host.js';
import { eventually, runtimeWith } from './helpers/runtimes.js';

// Backpressure on the threads transport (session 69): a MessagePort has no flow control, so a
// thread held in a long step collected every frame sent to it, without bound (200,000 messages
// of 1 KB to a held worker: 200 MB of array buffers queued in its port, nothing dropped).

test('threads: frames to a host held in a step stay within the bound, the rest are dropped as backlog-full and bounced to a client, and traffic flows again once it reads', async (t) => {
  const events: HostEvent[] = [];
  const rt = (await runtimeWith('threads', [{ host: 1, address: 'echo/a', behavior: 'echo', params: {} }], { events })) as ThreadsRuntime;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-backpressure-'));
  const began = join(dir, 'began');
  const until = join(dir, 'until');
  try {
    // Small, to fill in a few MB; room for the credit the worker may keep owed.
    const bound = 2 * PORT_CREDIT_RETURN_BYTES;
    rt.front.portBytesMax = bound;
    const bounced: string[] = [];
    rt.host.addExternal('tester', (envelope: Envelope) => {
      const msg = envelope.msg as { type: string; reason?: string };
      if (msg.type === 'undeliverable') bounced.push(msg.reason ?? '');
    });
    rt.host.route('tester', 'echo/a', { type: 'stall', began, until, maxMs: 30_000 });
    t.true(await eventually(rt, () => existsSync(began)), 'the worker holds');
    // 'echoed' messages (echo does not answer them), ~1 KB each: ~6 MB in all, three times the bound.
    const pad = 'x'.repeat(1000);
    const total = 6_000;
    let most = 0;
    for (let i = 0; i < total; i++) {
      rt.host.route('tester', 'echo/a', { type: 'echoed', n: i, pad });
      if (i % 200 === 199) {
        await new Promise((resolve) => setImmediate(resolve));
        most = Math.max(most, rt.front.inflightBytes(1));
      }
    }
    await rt.sleep(20);
    most = Math.max(most, rt.front.inflightBytes(1));
    const dropped = rt.host.stats.dropped['backlog-full'] ?? 0;
    t.log(`held: at most ${most} bytes in flight (bound ${bound}); ${dropped} of ${total} messages dropped`);
    // Before: no bound, every frame went into the port (6 MB), none dropped.
    t.true(most > 0 && most <= bound, `in flight ${most} within ${bound}`);
    t.true(dropped > 0, 'messages past the bound are dropped and counted as backlog-full');
    t.true(await eventually(rt, () => bounced.length === dropped), `each dropped message of the client bounced to it (${bounced.length} of ${dropped})`);
    t.deepEqual([...new Set(bounced)], ['backlog-full']);
    t.is(events.filter((e) => e.kind === 'warn' && e.address === 'host 1' && e.message.includes("dropped as 'backlog-full'")).length, 1, 'a warn, once');

    writeFileSync(until, '');
    // Every message not dropped arrives (the stall itself counts one).
    const received = async (): Promise<number> => ((await rt.summary('echo/a'))?.state as { n: number }).n - 1;
    t.true(await eventually(rt, async () => (await received()) === total - dropped, 10_000), `received ${await received()} of ${total - dropped}`);
    t.true(rt.front.inflightBytes(1) < PORT_CREDIT_RETURN_BYTES, 'credit came back for what it read');
    // And traffic flows again: none of the next ones is dropped.
    for (let i = 0; i < 500; i++) rt.host.route('tester', 'echo/a', { type: 'echoed', n: total + i, pad });
    t.true(await eventually(rt, async () => (await received()) === total - dropped + 500, 10_000), 'the next 500 arrive');
    t.is(rt.host.stats.dropped['backlog-full'] ?? 0, dropped);
    const all = await rt.collectStats();
    t.deepEqual(
      Object.keys(all.dropped).filter((cause) => (all.dropped[cause as keyof typeof all.dropped] ?? 0) > 0),
      ['backlog-full'],
      'no other drop',
    );
  } finally {
    writeFileSync(until, '');
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("client: a request bounced as 'backlog-full' fails a get as definite and a put as indefinite, saying why", async (t) => {
  const sent: Req[] = [];
  let endpoint: ((envelope: Envelope) => void) | undefined;
  const deps = {
    runtime: { kind: 'threads', now: () => 0, setTimer: () => ({ cancel: () => undefined }) },
    host: {
      addExternal: (_address: string, f: (envelope: Envelope) => void) => (endpoint = f),
      removeExternal: () => undefined,
      route: (_from: string, _to: string, req: Req) => sent.push(req),
    },
    observer: { invoke: () => 0, complete: () => undefined },
    recording: () => false,
    requestTimeoutMs: 5_000,
    newId: () => 'c1',
    isStopped: () => false,
  } as unknown as ClientDeps;
  const client = new Client(deps, { region: 'r' });
  const bounce = (req: Req): void =>
    endpoint!({
      to: client.address,
      from: 'balancer/r',
      msg: { type: 'undeliverable', to: 'balancer/r', reason: 'backlog-full', original: { type: req.type, rid: req.rid } },
    });
  const get = client.get('k');
  bounce(sent[0]!);
  const read = await t.throwsAsync(get, { instanceOf: UnavailableError });
  t.regex(read?.message ?? '', /get "k": the host of balancer\/r has not read the frames sent to it .*\(backlog-full\)/);
  const put = client.put('k', 1);
  bounce(sent[1]!);
  // Before: "request could not be sent: backlog-full", definite for a write a duplicate may have made.
  const write = await t.throwsAsync(put, { instanceOf: TimeoutError });
  t.regex(write?.message ?? '', /put "k": .*\(backlog-full\); it may or may not have taken effect/);
});
