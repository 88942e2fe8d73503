import test from 'ava';
import { createPackr, FrameBuilder } from '../src/core/codec.js';
import type { HostEvent } from '../src/runtime/host.js';
import { eventually, runtimeWith } from './helpers/runtimes.js';

const transports = ['sim', 'threads'] as const;

for (const kind of transports) {
  test(`${kind}: per-link FIFO order without jitter, from two senders`, async (t) => {
    const rt = await runtimeWith(
      kind,
      [
        { address: 'a', behavior: 'sender', params: { to: 'c', count: 2000 }, host: 1 },
        { address: 'b', behavior: 'sender', params: { to: 'c', count: 2000 }, host: 2, region: 'r2' },
        { address: 'c', behavior: 'collector', params: {}, host: 3 },
      ],
      { network: { latencyMs: { 'r1~r2': 3 } } },
    );
    try {
      const done = await eventually(rt, async () => ((await rt.summary('c')) as { state: { total: number } } | null)?.state.total === 4000, 10_000);
      t.true(done, 'all 4000 messages arrive');
      const s = (await rt.summary('c')) as { state: { bySender: Record<string, number[]> } };
      for (const from of ['a', 'b']) {
        const seen = s.state.bySender[from]!;
        t.deepEqual(
          seen,
          Array.from({ length: 2000 }, (_, i) => i),
          `messages from ${from} arrive in send order`,
        );
      }
    } finally {
      await rt.stop();
    }
  });

  test(`${kind}: timers fire once per arming, a re-armed key fires once, a cancelled one never; the live count stays exact past many keys`, async (t) => {
    const rt = await runtimeWith(kind, [{ address: 'tk', behavior: 'timekeeper', params: {}, host: 1 }]);
    type Summary = { timers: number; state: { fired: Record<string, number> } };
    const summary = async (): Promise<Summary> => (await rt.summary('tk')) as Summary;
    try {
      // 300 distinct keys, each armed once (more than a cell keeps dead keys for: they are swept).
      const many = Array.from({ length: 300 }, (_, i) => `k${i}`);
      rt.host.route('tester', 'tk', { type: 'arm', keys: many, delayMs: 5 });
      t.true(await eventually(rt, async () => Object.keys((await summary()).state.fired).length === 300), 'every key fired');
      const s1 = await summary();
      t.true(
        many.every((k) => s1.state.fired[k] === 1),
        'each exactly once',
      );
      t.is(s1.timers, 0, 'no timer left');
      // Re-arming a pending key replaces it; cancelling one stops it.
      // Delays of a second or two: the summary that sees both pending must come back before a
      // fires, which a loaded machine's threads took longer than 100 ms for (load ~15).
      rt.host.route('tester', 'tk', { type: 'arm', keys: ['a', 'b', 'c'], delayMs: 2_000 });
      rt.host.route('tester', 'tk', { type: 'arm', keys: ['a'], delayMs: 1_000 });
      rt.host.route('tester', 'tk', { type: 'cancel', keys: ['b'] });
      t.true(await eventually(rt, async () => (await summary()).timers === 2), 'a and c pending');
      t.true(await eventually(rt, async () => (await summary()).state.fired['c'] === 1), 'c fired');
      await rt.sleep(300);
      const s2 = await summary();
      t.is(s2.state.fired['a'], 1, 'a re-armed fired once');
      t.false('b' in s2.state.fired, 'b cancelled never fired');
      t.is(s2.timers, 0);
      // The same keys again, as the servers' tick and flush are: each arming fires once.
      for (let round = 0; round < 3; round++) {
        rt.host.route('tester', 'tk', { type: 'arm', keys: ['a', 'c'], delayMs: 5 });
        t.true(await eventually(rt, async () => (await summary()).state.fired['c'] === 2 + round));
      }
      t.is((await summary()).state.fired['a'], 4);
    } finally {
      await rt.stop();
    }
  });

  test(`${kind}: supervision restarts a throwing actor, reports it, discards the failed step`, async (t) => {
    const events: HostEvent[] = [];
    const rt = await runtimeWith(
      kind,
      [
        { address: 'x', behavior: 'thrower', params: {}, host: 1 },
        { address: 'y', behavior: 'thrower', params: {}, host: 1, supervision: 'stop' },
        { address: 'other', behavior: 'collector', params: {}, host: 2 },
      ],
      { events },
    );
    try {
      rt.host.route('tester', 'x', { type: 'work' });
      rt.host.route('tester', 'x', { type: 'boom' });
      rt.host.route('tester', 'other', { type: 'seq', n: 1 });
      const restarted = await eventually(
        rt,
        async () => ((await rt.summary('x')) as { status: string; state: { inits: number } | null } | null)?.state?.inits === 2,
      );
      t.true(restarted, 'x was re-initialised from its durable log (one record before the failure)');
      t.true(await eventually(rt, () => events.some((e) => e.kind === 'actor-error')), 'the error is reported');
      const errors = events.filter((e) => e.kind === 'actor-error');
      t.is(errors.length, 1);
      const e = errors[0] as Extract<HostEvent, { kind: 'actor-error' }>;
      t.is(e.address, 'x');
      t.is(e.action, 'restart');
      t.regex(e.error.message, /boom on purpose/);
      t.true(e.incarnation.length > 0, 'the error names the actor incarnation id');
      rt.host.route('tester', 'y', { type: 'boom' });
      await eventually(rt, () => events.filter((ev) => ev.kind === 'actor-error').length === 2);
      const y = (await rt.summary('y')) as { status: string };
      t.is(y.status, 'stopped', "policy 'stop' leaves the actor stopped");
      const other = (await rt.summary('other')) as { state: { total: number } };
      t.is(other.state.total, 1, 'other actors are not disturbed');
      const stats = await rt.collectStats();
      t.is(stats.dropped['unknown-address'] ?? 0, 0, 'the failed step sent nothing');
    } finally {
      await rt.stop();
    }
  });

  // Eight failed starts back off 10 + 20 + ... + 1,280 ms (RESTART_BACKOFF_MS_BASE doubling):
  // ~2.5 s in which the first summary and two pings reach the stand-in. With three (70 ms) a
  // loaded machine's threads started the actor before the first summary came back.
  const FAILED_STARTS = 8;
  test(`${kind}: an actor that cannot start is stood in for until a try works: its stand-in takes the mailbox, writes nothing, and its timers end with it`, async (t) => {
    const events: HostEvent[] = [];
    const address = `st-${kind}`;
    const rt = await runtimeWith(
      kind,
      [
        { address, behavior: 'slow-starter', params: { failures: FAILED_STARTS, tell: 'col' }, host: 1 },
        { address: 'col', behavior: 'collector', params: {}, host: 2 },
      ],
      { events },
    );
    type Summary = { status: string; state: { standIn?: string; refused?: number; recovered?: number; timers?: number } | null };
    const summary = async (): Promise<Summary> => (await rt.summary(address)) as Summary;
    const told = async (): Promise<number[]> => ((await rt.summary('col')) as { state: { bySender: Record<string, number[]> } }).state.bySender[address] ?? [];
    try {
      const first = await summary();
      t.is(first.status, 'backoff');
      t.regex(first.state?.standIn ?? '', /^start [1-8] fails on purpose$/, 'the stand-in says why (on a loaded machine a later try may have failed by now)');
      rt.host.route('tester', address, { type: 'write' });
      rt.host.route('tester', address, { type: 'ping' });
      rt.host.route('tester', address, { type: 'ping' });
      t.true(await eventually(rt, async () => (await told()).length >= 2), 'the stand-in answered');
      t.true(await eventually(rt, async () => (await summary()).status === 'running'), 'the ninth start works');
      const started = await summary();
      t.is(started.state?.recovered, 0, "the stand-in's write never reached the log");
      await rt.sleep(50);
      t.is((await summary()).state?.timers, 0, "no timer of the stand-in's reached the actor");
      rt.host.route('tester', address, { type: 'ping' });
      t.true(await eventually(rt, async () => (await told()).includes(1001)), 'the actor itself answers now');
      const seen = await told();
      t.false(seen.includes(-1), 'the step that wrote sent nothing');
      t.true(
        seen.slice(0, 2).every((n) => n >= 1 && n < 1000),
        `the stand-in told of the pings: ${seen.join(', ')}`,
      );
      const errors = events.filter((e): e is Extract<HostEvent, { kind: 'actor-error' }> => e.kind === 'actor-error');
      t.deepEqual(
        errors.map((e) => e.error.message),
        Array.from({ length: FAILED_STARTS }, (_, i) => `start ${i + 1} fails on purpose`),
      );
      t.true(
        events.some(
          (e) =>
            e.kind === 'warn' && /the stand-in of st-\w+ dropped a step \(a write message from tester\): a stand-in wrote to the durable log/.test(e.message),
        ),
        'the dropped step is a warn',
      );
    } finally {
      await rt.stop();
    }
  });

  test(`${kind}: a checkpoint keeps what the step persists after it; a restart reads the log back whole`, async (t) => {
    const rt = await runtimeWith(kind, [{ address: 'cp', behavior: 'checkpointer', params: {}, host: 1 }]);
    try {
      rt.host.route('tester', 'cp', { type: 'write', n: 1 });
      rt.host.route('tester', 'cp', { type: 'write', n: 2 });
      rt.host.route('tester', 'cp', { type: 'boom' });
      const expected = [
        { n: 1, at: 'before' },
        { n: 1, at: 'after' },
        { n: 2, at: 'before' },
        { n: 2, at: 'after' },
      ];
      const summary = async (): Promise<{ recovered: unknown[] } | undefined> =>
        ((await rt.summary('cp')) as { state: { recovered: unknown[] } | null } | null)?.state ?? undefined;
      t.true(await eventually(rt, async () => ((await summary())?.recovered.length ?? 0) > 0), 'the actor restarted from a non-empty log');
      // Written before the fix: the persists, then the checkpoint over them, which lost each step's 'after'.
      t.deepEqual((await summary())?.recovered, expected, 'every record, the ones persisted after a checkpoint in its step included');
    } finally {
      await rt.stop();
    }
  });

  test(`${kind}: unknown destination, oversized and unencodable messages are counted and bounced to the sender`, async (t) => {
    const rt = await runtimeWith(
      kind,
      [
        { address: 'echo/a', behavior: 'echo', params: {}, host: 1 },
        { address: 'echo/b', behavior: 'echo', params: {}, host: 2 },
      ],
      { messageBytesMax: 1024 * 1024 },
    );
    const got: Array<{ type: string; reason?: unknown }> = [];
    rt.host.addExternal('client/r1/t', (env) => got.push(env.msg));
    rt.host.register('client/r1/t', { host: 0, region: 'r1', node: 'client/r1/t' });
    try {
      rt.host.route('client/r1/t', 'no-such-actor', { type: 'hello', rid: 7 });
      rt.host.route('client/r1/t', 'echo/a', { type: 'make-unencodable' });
      rt.host.route('client/r1/t', 'echo/a', { type: 'make-huge' });
      rt.host.route('client/r1/t', 'echo/b', { type: 'ping' });
      t.true(await eventually(rt, () => got.some((m) => m.type === 'echoed')));
      t.true(
        got.some((m) => m.type === 'undeliverable' && m.reason === 'unknown-address'),
        'the client hears of the unknown address',
      );
      t.true(
        await eventually(rt, async () => {
          const s = await rt.collectStats();
          return (s.dropped['too-large'] ?? 0) === 1 && (s.dropped['encode-error'] ?? 0) === 1;
        }),
        'oversized and unencodable replies are counted',
      );
      t.true(
        await eventually(rt, async () => ((await rt.summary('echo/b')) as { state: { n: number } }).state.n >= 3),
        'echo/a got its bounces and told echo/b',
      );
    } finally {
      await rt.stop();
    }
  });

  // A message over messageBytesMax to a destination cut off by a partition was dropped as
  // 'partition' before its size was looked at: its sender never heard, so an answer too large
  // had no short error sent in its place, and its client waited for its timeout. The size is
  // the sending host's to check, before the network decides anything.
  test(`${kind}: a message over messageBytesMax to a partitioned destination is bounced to its sender, not dropped as partitioned`, async (t) => {
    const rt = await runtimeWith(kind, [
      { address: 'echo/a', behavior: 'echo', params: {}, host: 1 },
      { address: 'echo/b', behavior: 'echo', params: {}, host: 2, region: 'r2' },
    ]);
    try {
      const dropped = async (): Promise<string> => {
        const s = await rt.collectStats();
        return `too-large ${s.dropped['too-large'] ?? 0}, partition ${s.dropped['partition'] ?? 0}`;
      };
      await rt.setPartitions([{ from: ['r1'], to: ['r2'], oneWay: true }]);
      // On threads the rules go to each host as a call, as do the stats' (in order): the cut is
      // in place once they answer; echo/a's echo of a ping to echo/b is dropped then.
      t.is(await dropped(), 'too-large 0, partition 0');
      rt.host.route('echo/b', 'echo/a', { type: 'ping' });
      t.true(await eventually(rt, async () => (await dropped()) === 'too-large 0, partition 1'), await dropped());
      // echo/a's answer (2 MiB, over the 1 MiB limit) goes back to echo/b, across the cut.
      rt.host.route('echo/b', 'echo/a', { type: 'make-huge' });
      const n = async (): Promise<number> => ((await rt.summary('echo/a')) as { state: { n: number } }).state.n;
      t.true(await eventually(rt, async () => (await n()) === 3), 'echo/a got its answer back (the ping, the request, then the bounce)');
      // Counted too large; what echo/a sent in its place crossed the same cut: dropped, as partitioned.
      t.true(await eventually(rt, async () => (await dropped()) === 'too-large 1, partition 2'), await dropped());
    } finally {
      await rt.stop();
    }
  });

  test(`${kind}: malformed frames are counted and the host keeps running`, async (t) => {
    const events: HostEvent[] = [];
    const rt = await runtimeWith(kind, [{ address: 'echo/a', behavior: 'echo', params: {}, host: 1 }], { events });
    const got: string[] = [];
    rt.host.addExternal('client/r1/t', (env) => got.push(env.msg.type));
    rt.host.register('client/r1/t', { host: 0, region: 'r1', node: 'client/r1/t' });
    try {
      const target = kind === 'sim' ? 0 : 1;
      await rt.injectFrame(target, new Uint8Array([1, 2, 3]));
      await rt.injectFrame(target, new Uint8Array(64).fill(0xc1));
      const builder = new FrameBuilder();
      builder.append(createPackr().pack({ not: 'an envelope' }));
      await rt.injectFrame(target, builder.take());
      const garbage = new FrameBuilder();
      garbage.append(new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]));
      await rt.injectFrame(target, garbage.take());
      rt.host.route('client/r1/t', 'echo/a', { type: 'ping' });
      t.true(await eventually(rt, () => got.includes('echoed')), 'still answering');
      const stats = await rt.collectStats();
      t.is(stats.dropped.malformed, 4);
    } finally {
      await rt.stop();
    }
  });
}
