import test, { type ExecutionContext } from 'ava';
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verify } from './helpers/verify-cli.js';
import { h, STALE_READ } from './helpers/elle-history.js';

/**
 * `meridian verify FILE`: the checkers on a history read from a file. Through the `main` the
 * command calls (src/cli.ts), on recorded histories (test/fixtures) and small ones written here.
 */

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** T2 reads x empty after T1's append of 1 completed (test/helpers/elle-history.ts). */
const staleRead = STALE_READ;
/** The same with T2 reading [1]. */
const fresh = staleRead.map((e) => (e.index === 3 ? { ...e, value: [['r', 'x', [1]]] } : e));

/** A test body given a temporary folder, removed after it. */
function withDir(run: (t: ExecutionContext, dir: string) => Promise<void>): (t: ExecutionContext) => Promise<void> {
  return async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-verify-'));
    try {
      await run(t, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('single-key operations (cluster.history()): a recorded history no order explains fails with its witness, exit 1; a linearizable one passes, exit 0', async (t) => {
  const bad = await verify([join(fixtures, 'meridian', 'nats-seed-2146-passive-history.json')]);
  t.is(bad.code, 1, bad.stdout + bad.stderr);
  t.regex(
    bad.stdout,
    /, 1 run \(single-key operations\)\nhistory: 275 operations on 16 keys, register: FAILED: not linearizable \(1 key\)\n {2}key tkey5: no order explains /,
  );
  t.regex(bad.stdout, / {4}witness \(4 ops, minimal\):\n/);
  t.regex(bad.stdout, /\nverify: 1 run, 0 passed, 1 failed, 0 unknown\n$/);
  const good = await verify([join(fixtures, 'histories', 'open-reads.json')]);
  t.is(good.code, 0, good.stdout + good.stderr);
  t.regex(good.stdout, /\nhistory: 142 operations on 1 key, register: linearizable\nverify: 1 run, 1 passed, 0 failed, 0 unknown\n$/);
});

test("Porcupine's test data (--format jepsen-etcd, kv-edn): the verdicts its VERDICTS.txt gives", async (t) => {
  const cases: Array<[string[], number]> = [
    [[join(fixtures, 'porcupine', 'jepsen', 'etcd_000.log'), '--format', 'jepsen-etcd'], 1],
    [[join(fixtures, 'porcupine', 'jepsen', 'etcd_002.log'), '--format', 'jepsen-etcd'], 0],
    [[join(fixtures, 'porcupine', 'kv', 'c01-bad.txt'), '--format', 'kv-edn'], 1],
    [[join(fixtures, 'porcupine', 'kv', 'c01-ok.txt'), '--format', 'kv-edn'], 0],
  ];
  for (const [args, code] of cases) {
    const r = await verify(args);
    t.is(r.code, code, `${args.join(' ')}\n${r.stdout}${r.stderr}`);
    t.regex(r.stdout, code === 0 ? /: linearizable\n/ : /: FAILED: not linearizable/);
  }
  const kv = await verify([join(fixtures, 'porcupine', 'kv', 'c01-ok.txt'), '--format', 'kv-edn']);
  t.regex(kv.stdout, /, kv: linearizable/, "kv-edn's model is Porcupine's kv store by default");
});

test(
  "transactions as Elle's events: a read that misses a commit before it fails strict serializability, not serializability; a check --history document's runs each, with what the run itself said",
  withDir(async (t, dir) => {
    const file = join(dir, 'stale.json');
    writeFileSync(file, JSON.stringify(staleRead));
    const strict = await verify([file]);
    t.is(strict.code, 1, strict.stdout + strict.stderr);
    t.regex(
      strict.stdout,
      /\(transactions as Elle's events\)\nhistory: 3 transactions, list-append: FAILED: not strict-serializable \(G-single-realtime\)\n {2}G-single-realtime: transactions named T<index>; T3 < T1 \(rw\)[^\n]*; cycle \[/,
    );
    const serializable = await verify([file, '--consistency', 'serializable']);
    t.is(serializable.code, 0, serializable.stdout + serializable.stderr);
    t.regex(serializable.stdout, /history: 3 transactions, list-append: serializable\n/);

    const doc = join(dir, 'doc.json');
    writeFileSync(
      doc,
      JSON.stringify({
        command: 'meridian check --seed 7 --workload txn',
        workload: 'txn',
        model: 'list-append',
        runs: [
          { commit: '2pc', ok: true, verdict: 'strict serializable, live', history: fresh },
          { commit: 'paxos-commit', ok: false, verdict: 'G-single-realtime, live', history: staleRead },
        ],
      }),
    );
    const both = await verify([doc]);
    t.is(both.code, 1, both.stdout + both.stderr);
    t.regex(both.stdout, /^meridian verify: \S+doc\.json, 2 runs \(recorded by meridian check --seed 7 --workload txn\)\n/);
    // A document from before session 55: the verdict without the word its line began with, read from ok.
    t.regex(both.stdout, /\nrun 1 \(2pc\): 3 transactions, list-append: strict-serializable\n {2}the run itself: ok: strict serializable, live\n/);
    t.regex(both.stdout, /\nrun 2 \(paxos-commit\): 3 transactions, list-append: FAILED: not strict-serializable/);
    t.regex(both.stdout, /\n {2}the run itself: FAILED: G-single-realtime, live\n/);
    t.regex(both.stdout, /\nverify: 2 runs, 1 passed, 1 failed, 0 unknown\n$/);
  }),
);

/** A long fork as a Jepsen history in EDN (history.edn): a nemesis operation, keywords as keys, a comment. */
const longForkEdn = `; T0 sees y's append and not x's, T2 the other way round
{:type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]], :process 0, :index 0}
{:type :invoke, :f :txn, :value [[:append :x 1]], :process 1, :index 1}
{:type :info, :f :start-partition, :value nil, :process :nemesis, :index 2}
{:type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]], :process 2, :index 3}
{:type :invoke, :f :txn, :value [[:append :y 1]], :process 3, :index 4}
{:type :ok, :f :txn, :value [[:append :x 1]], :process 1, :index 5}
{:type :ok, :f :txn, :value [[:append :y 1]], :process 3, :index 6}
{:type :ok, :f :txn, :value [[:r :x []] [:r :y [1]]], :process 0, :index 7}
{:type :ok, :f :txn, :value [[:r :x [1]] [:r :y []]], :process 2, :index 8, :time 12345678}
`;

test(
  "--format elle-edn: a Jepsen history of transactions in EDN, Elle's input; a long fork is no snapshot isolation, and read committed",
  withDir(async (t, dir) => {
    const file = join(dir, 'history.edn');
    writeFileSync(file, longForkEdn);
    const si = await verify([file, '--format', 'elle-edn', '--consistency', 'snapshot-isolation']);
    t.is(si.code, 1, si.stdout + si.stderr);
    t.regex(si.stdout, /\(a Jepsen history in EDN, Elle's input\)\nhistory: 4 transactions, list-append: FAILED: not snapshot-isolation \(G-nonadjacent\)\n/);
    // The anomaly names the operations by the file's own :index (7 and 8 read, 5 and 6 appended).
    t.regex(si.stdout, /\{"from":7,"to":5,"kind":"rw","key":":x"\}/);
    const rc = await verify([file, '--format', 'elle-edn', '--consistency', 'read-committed']);
    t.is(rc.code, 0, rc.stdout + rc.stderr);
    t.regex(rc.stdout, /history: 4 transactions, list-append: read-committed\n/);
    // A completed read of nil is the empty list, as Elle reads it: the same fork with nil for [].
    const nil = join(dir, 'nil.edn');
    const nilText = longForkEdn.replaceAll(':x []]', ':x nil]').replaceAll(':y []]', ':y nil]');
    t.is(nilText.split('nil').length - longForkEdn.split('nil').length, 2, 'both empty reads of the ok completions are nil now');
    writeFileSync(nil, nilText);
    const nilSi = await verify([nil, '--format', 'elle-edn', '--consistency', 'snapshot-isolation']);
    t.is(nilSi.code, 1, nilSi.stdout + nilSi.stderr);
    t.regex(nilSi.stdout, /FAILED: not snapshot-isolation \(G-nonadjacent\)/);
    const bad = join(dir, 'bad.edn');
    writeFileSync(bad, '{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 0}\n{:type :ok, :f :txn, :value [[:r 1 [2]], :process 0}\n');
    const broken = await verify([bad, '--format', 'elle-edn']);
    t.is(broken.code, 2);
    t.regex(broken.stderr, /bad\.edn: not elle-edn \(line 2: unexpected \} \(EDN\)\)/);
    const model = await verify([file, '--format', 'elle-edn', '--model', 'register']);
    t.is(model.code, 2);
    t.regex(model.stderr, /--model register is for single-key operations; --format elle-edn holds transactions/);
    const none = await verify([join(fixtures, 'porcupine', 'kv', 'c01-ok.txt'), '--format', 'elle-edn']);
    t.is(none.code, 2);
    t.regex(none.stderr, /c01-ok\.txt: no transactions \(:f :txn\) in it/);
  }),
);

test(
  'bad input: the flag, the file or the field named, exit 2, before any run is checked; an empty history is not a pass',
  withDir(async (t, dir) => {
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const txn = write('txn.json', JSON.stringify(staleRead));
    const kv = join(fixtures, 'histories', 'open-reads.json');
    const badField = write('field.json', JSON.stringify([{ id: 0, client: 'c', key: 'k', kind: 'fly', invokeMs: 0, outcome: 'ok', completeMs: 1 }]));
    const laterBad = write(
      'doc.json',
      JSON.stringify({ model: 'list-append', runs: [{ history: staleRead }, { history: [{ ...staleRead[0], type: 'begun' }] }] }),
    );
    const cases: Array<[string[], RegExp]> = [
      [[], /FILE is missing/],
      [[txn, kv], /one FILE only/],
      [[txn, '--frob'], /unknown verify option "--frob"/],
      [[txn, '--model', 'graph'], /--model takes register, kv, list-append, rw-register, got "graph"/],
      [[txn, '--format'], /--format takes json, elle-edn, jepsen-etcd, kv-edn, got no value/],
      // A repeated flag kept its last value: the file read as kv-edn, the json asked for ignored.
      [[txn, '--format', 'json', '--format', 'kv-edn'], /--format given twice \("json" and "kv-edn"\): give it once/],
      [[txn, '--model', 'list-append', '--model', 'rw-register'], /--model given twice \("list-append" and "rw-register"\): give it once/],
      [[join(dir, 'none.json')], /none\.json: cannot read it \(ENOENT\)/],
      [[write('broken.json', '{')], /broken\.json: not JSON/],
      [
        [write('object.json', '{"a":1}')],
        /object\.json: expected a JSON array of history operations, a document historyToJson wrote \(an object with format and history\) or a meridian check --history document/,
      ],
      [[txn, '--model', 'register'], /--model register is for single-key operations; \S+txn\.json holds transactions/],
      [[kv, '--model', 'list-append'], /--model list-append is for transactions; \S+open-reads\.json holds single-key operations/],
      [[kv, '--consistency', 'serializable'], /--consistency is for transactions/],
      [[badField], /history: history\[0\]\.kind: expected one of get, put/],
      [[laterBad], /run 2: history\[0\]\.type/],
      [[txn, '--model', 'rw-register'], /history\[0\]\.value\[0\]\[0\]: expected "r" or "w"/],
      [
        [write('docmodel.json', JSON.stringify({ model: 'register', runs: [{ history: staleRead }] }))],
        /the document's model register is for single-key operations; \S+docmodel\.json runs\[0\] holds transactions/,
      ],
      [[txn, '--format', 'jepsen-etcd'], /txn\.json: no jepsen-etcd operations in it/],
    ];
    for (const [args, message] of cases) {
      const r = await verify(args);
      t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      t.regex(r.stderr, message, args.join(' '));
      t.notRegex(r.stdout, /^(history|run \d)/m, `${args.join(' ')}: nothing checked`);
    }
    const empty = await verify([write('empty.json', '[]')]);
    t.is(empty.code, 1);
    t.regex(empty.stdout, /history: no operations: nothing to check\nverify: 1 run, 0 passed, 0 failed, 1 unknown\n$/);
    const help = await verify(['--help']);
    t.is(help.code, 0);
    t.regex(help.stdout, /^usage: meridian verify FILE/);
  }),
);

test(
  '--format kv-edn: a string holding a tab is read as EDN reads it; an escape EDN does not have names its line, exit 2 (not a SyntaxError)',
  withDir(async (t, dir) => {
    const put = (value: string, key = 'k'): string =>
      `{:process 0, :type :invoke, :f :put, :key "${key}", :value "${value}"}\n{:process 0, :type :ok, :f :put, :key "${key}", :value "${value}"}\n` +
      `{:process 1, :type :invoke, :f :get, :key "${key}", :value nil}\n{:process 1, :type :ok, :f :get, :key "${key}", :value "${value}"}\n`;
    const tab = join(dir, 'tab.edn');
    writeFileSync(tab, put('a\tb'));
    const read = await verify([tab, '--format', 'kv-edn']);
    t.is(read.code, 0, read.stdout + read.stderr);
    t.regex(read.stdout, /history: 2 operations on 1 key, kv: linearizable/);
    const escapes = join(dir, 'escapes.edn');
    writeFileSync(escapes, put('\\t\\"\\u0041\\101\\\\'));
    t.is((await verify([escapes, '--format', 'kv-edn'])).code, 0);
    for (const [text, message] of [
      [put('a\\qb'), /bad\.edn: not kv-edn \(line 1: a string with an escape EDN does not have: \\q\)/],
      [put('a', 'k\\x'), /bad\.edn: not kv-edn \(line 1: a string with an escape EDN does not have: \\x\)/],
      [put('\\u12'), /line 1: a string with an escape EDN does not have: \\u12/],
    ] as const) {
      const bad = join(dir, 'bad.edn');
      writeFileSync(bad, text);
      const r = await verify([bad, '--format', 'kv-edn']);
      t.is(r.code, 2, r.stdout + r.stderr);
      t.regex(r.stderr, message);
      t.is(r.stdout, '');
    }
  }),
);

test(
  'transactions that cannot be paired or name a value twice, or share an index: exit 2 naming the entry, every run validated before any verdict prints',
  withDir(async (t, dir) => {
    const write = (name: string, history: unknown): string => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(history));
      return file;
    };
    const orphan = h().complete(0, 'ok', [['append', 'x', 1]]).ops;
    const cases: Array<[string[], RegExp]> = [
      [
        [write('orphan.json', orphan)],
        /^meridian verify: history: history\[0\]\.process: a completion \(ok\) of process 0, which has no invocation outstanding\n$/,
      ],
      [
        [
          write(
            'twice.json',
            h()
              .invoke(0, [['append', 'x', 1]])
              .invoke(0, [['append', 'x', 2]]).ops,
          ),
        ],
        /history\[1\]\.process: process 0 invokes again while its invocation at history\[0\] has not completed/,
      ],
      [
        [
          write(
            'dupval.json',
            h()
              .txn(0, [['append', 'x', 1]])
              .txn(0, [['append', 'x', 1]]).ops,
          ),
        ],
        /history\[3\]\.value\[0\]\[2\]: value 1 is appended to key "x" more than once \(also by the transaction at index 1\); list-append needs unique values per key/,
      ],
      [
        [
          write(
            'dupw.json',
            h()
              .txn(0, [['w', 'x', 1]])
              .txn(1, [['w', 'x', 1]]).ops,
          ),
          '--model',
          'rw-register',
        ],
        /history\[3\]\.value\[0\]\[2\]: value 1 is written to key "x" more than once/,
      ],
      [
        [
          write(
            'dupidx.json',
            STALE_READ.map((e) => ({ ...e, index: 7 })),
          ),
        ],
        /history: history\[1\]\.index: 7 again \(history\[0\]\.index has it\): each entry needs its own index/,
      ],
      // The first run is sound: its verdict is not printed before the second is refused.
      [
        [write('doc.json', { model: 'list-append', runs: [{ history: STALE_READ }, { history: orphan }] })],
        /^meridian verify: run 2: history\[0\]\.process: a completion/,
      ],
    ];
    const edn = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const nemesis = '{:type :info, :f :start-partition, :value nil, :process :nemesis, :index 0}\n';
    cases.push(
      [
        [edn('nocall.edn', `${nemesis}{:type :ok, :f :txn, :value [[:append 1 1]], :process 0}\n`), '--format', 'elle-edn'],
        /history: line 2 :process: a completion \(ok\)/,
      ],
      [
        [
          edn(
            'dupidx.edn',
            '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0, :index 7}\n{:type :ok, :f :txn, :value [[:append :x 1]], :process 0, :index 7}\n',
          ),
          '--format',
          'elle-edn',
        ],
        /history: line 2 :index: 7 again \(line 1 :index has it\): each entry needs its own index/,
      ],
      // The line, not the position among the transactions once the nemesis's operations are left out.
      [
        [
          edn(
            'badloc.edn',
            `${nemesis}${nemesis}{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0, :index 2}\n{:type :ok, :f :txn, :value [[:append :x true]], :process 0, :index 3}\n`,
          ),
          '--format',
          'elle-edn',
        ],
        /history: line 4 :value\[0\]\[2\]: expected a value \(a string or a finite number\), got true/,
      ],
      [
        [edn('badidx.edn', '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0, :index -1}\n'), '--format', 'elle-edn'],
        /badidx\.edn: not elle-edn \(line 1 :index: expected an integer >= 0, or none, got -1\)/,
      ],
    );
    for (const [args, message] of cases) {
      const r = await verify(args);
      t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      t.regex(r.stderr, message, args.join(' '));
      t.is(r.stdout, '', `${args.join(' ')}: nothing checked`);
    }
    // Operations without an :index are numbered after the largest given one, not into it.
    const mixed = edn(
      'mixed.edn',
      '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0}\n{:type :ok, :f :txn, :value [[:append :x 1]], :process 0, :index 0}\n' +
        '{:type :invoke, :f :txn, :value [[:r :x nil]], :process 1, :index 1}\n{:type :ok, :f :txn, :value [[:r :x [1]]], :process 1}\n',
    );
    const r = await verify([mixed, '--format', 'elle-edn']);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /history: 2 transactions, list-append: strict-serializable\n/);
  }),
);

test(
  'transactions or single-key operations: by the model, else by what most entries look like, not the first; an empty transactional run is unknown, exit 1',
  withDir(async (t, dir) => {
    const write = (name: string, doc: unknown): string => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(doc));
      return file;
    };
    for (const args of [[write('doc.json', { model: 'rw-register', runs: [{ history: [] }] })], [write('empty.json', []), '--model', 'list-append']]) {
      const r = await verify(args);
      t.is(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      t.regex(r.stdout, /: no operations: nothing to check\nverify: 1 run, 0 passed, 0 failed, 1 unknown\n$/);
    }
    t.regex((await verify([join(dir, 'empty.json'), '--model', 'list-append'])).stdout, /\(transactions as Elle's events\)/);
    const nemesis = { index: 0, process: 'nemesis', type: 'info', f: 'start-partition', value: null };
    const cases: Array<[string[], RegExp]> = [
      [[write('typo.json', [{ ...STALE_READ[0], f: 'tx' }, ...STALE_READ.slice(1)])], /history: history\[0\]\.f: expected "txn", got "tx"/],
      [
        [write('nemesis.json', [nemesis, ...STALE_READ.map((e) => ({ ...e, index: e.index + 1 }))])],
        /history: history\[0\]\.f: expected "txn", got "start-partition"/,
      ],
      [[join(dir, 'nemesis.json'), '--model', 'rw-register'], /history: history\[0\]\.f: expected "txn", got "start-partition"/],
    ];
    for (const [args, message] of cases) {
      const r = await verify(args);
      t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      t.regex(r.stderr, message, args.join(' '));
      t.is(r.stdout, '');
    }
  }),
);

test(
  'an integer beyond 2^53 - 1, which a number holds inexactly, is refused naming the field or line; so is a nesting past 1,000 deep, exit 2 (not a pass, not a RangeError)',
  withDir(async (t, dir) => {
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    // 9007199254740993 reads as 9007199254740992: the stale read would pass as fresh.
    const put = '{"id":1,"client":"a","key":"k","kind":"put","input":9007199254740993,"invokeMs":0,"outcome":"ok","completeMs":1}';
    const get = '{"id":3,"client":"a","key":"k","kind":"get","invokeMs":4,"outcome":"ok","completeMs":5,"output":90071992547409930}';
    const deep = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;
    const cases: Array<[string[], RegExp]> = [
      [
        [write('big.json', `[${put},${get}]`)],
        /big\.json: history\[0\]\.input: expected an integer a double holds exactly, or as JSON\.stringify writes one, got 9007199254740993, which reads as 9007199254740992/,
      ],
      [
        [write('id.json', `[${put.replace('"id":1', '"id":-12345678901234567891').replace('9007199254740993', '1')}]`)],
        /id\.json: history\[0\]\.id: expected an integer a double holds exactly, .*, got -12345678901234567891, which reads as -12345678901234567000/,
      ],
      [
        [write('doc.json', `{"runs":[{"history":[]},{"history":[${get}]}]}`)],
        /doc\.json: runs\[1\]\.history\[0\]\.output: expected an integer a double holds exactly/,
      ],
      [
        [write('deep.json', `[{"id":1,"client":"a","key":"k","kind":"write","input":${deep},"invokeMs":0,"outcome":"ok","completeMs":1}]`)],
        /deep\.json: history\[0\]\.input(\[0\]){20,30}\.\.\.: nested more than 1000 deep\n$/,
      ],
      [
        [
          write('big.log', 'INFO  jepsen.util - 0\t:invoke\t:write\t99999999999999999999\nINFO  jepsen.util - 0\t:ok\t:write\t99999999999999999999\n'),
          '--format',
          'jepsen-etcd',
        ],
        /big\.log: not jepsen-etcd \(line 1: expected an integer of at most 2\^53 - 1 in size \(which a number holds exactly\), got 99999999999999999999\)/,
      ],
      [
        [write('cas.log', 'INFO  jepsen.util - 0\t:invoke\t:cas\t[1 9007199254740993]\n'), '--format', 'jepsen-etcd'],
        /line 1: expected an integer of at most 2\^53 - 1/,
      ],
      [
        [
          write(
            'big.edn',
            '{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0}\n{:type :ok, :f :txn, :value [[:append :x 9007199254740993N]], :process 0}\n',
          ),
          '--format',
          'elle-edn',
        ],
        /big\.edn: not elle-edn \(line 2: an integer beyond 2\^53 - 1 in size, which a number does not hold exactly: 9007199254740993N \(EDN\)\)/,
      ],
      [[write('deep.edn', '['.repeat(100_000)), '--format', 'elle-edn'], /deep\.edn: not elle-edn \(line 1: forms nested more than 1000 deep \(EDN\)\)/],
      [[write('tags.edn', '#_'.repeat(100_000)), '--format', 'elle-edn'], /tags\.edn: not elle-edn \(line 1: forms nested more than 1000 deep \(EDN\)\)/],
    ];
    for (const [args, message] of cases) {
      const r = await verify(args);
      t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      t.regex(r.stderr, message, args.join(' '));
      t.is(r.stdout, '');
    }
    // The largest safe integer is read, and values nested just under the bound (997 arrays in an operation in the history).
    const edge = write('edge.json', `[${put.replace('9007199254740993', '9007199254740991')},${get.replace('90071992547409930', '9007199254740991')}]`);
    t.is((await verify([edge])).code, 0);
    const nested = `${'['.repeat(997)}1${']'.repeat(997)}`;
    const ok = write('nested.json', `[${put.replace('9007199254740993', nested)},${get.replace('90071992547409930', nested)}]`);
    const r = await verify([ok]);
    t.is(r.code, 0, r.stdout + r.stderr);
  }),
);

test(
  'numbers as JSON.stringify wrote them (2^53 + 2, 2^64, 1e21, 2^70) read back exactly and are taken; digits inside strings, escaped quotes included, are no numbers',
  withDir(async (t, dir) => {
    // Refused before session 58 (exit 2, `expected a safe integer ... got 9007199254740994`):
    // a history saved from cluster.history() whose values the cluster stored exactly.
    const op = (id: number, kind: string, time: number, fields: object): object => ({
      id,
      client: 'a',
      key: 'k',
      kind,
      invokeMs: time,
      outcome: 'ok',
      completeMs: time + 1,
      ...fields,
    });
    const history = [
      op(1, 'put', 0, { input: 2 ** 53 + 2 }),
      op(2, 'get', 2, { output: 2 ** 53 + 2 }),
      op(3, 'put', 4, { input: [1e21, 2 ** 64] }),
      op(4, 'cas', 6, { input: { expected: [1e21, 2 ** 64], next: { 'a"\\': '"12345678901234567890', n: -(2 ** 70) } }, output: true }),
      op(5, 'get', 8, { output: { 'a"\\': '"12345678901234567890', n: -(2 ** 70) } }),
    ];
    const text = JSON.stringify(history);
    t.true(text.includes('9007199254740994') && text.includes('1e+21') && text.includes('18446744073709552000') && text.includes('12345678901234567890'), text);
    const array = join(dir, 'saved.json');
    writeFileSync(array, text);
    const doc = join(dir, 'doc.json');
    writeFileSync(doc, JSON.stringify({ model: 'register', seed: 0, runs: [{ history }] }).replace('"seed":0', '"seed":12345678901234567891'));
    for (const file of [array, doc]) {
      const r = await verify([file]);
      t.is(r.code, 0, `${file}: ${r.stdout}${r.stderr}`);
      t.regex(r.stdout, /1 passed/);
    }
    // The same value written as a plain integer literal past 2^53 - 1 that reads back as another is refused.
    writeFileSync(array, text.replace('9007199254740994', '9007199254740995'));
    const r = await verify([array]);
    t.is(r.code, 2);
    t.regex(r.stderr, /history\[0\]\.input: .*got 9007199254740995, which reads as 9007199254740996/);
  }),
);

test(
  '--timeline naming the input file (the same path, another spelling of it, a link to it) is refused, exit 2, and the input is left as it was',
  withDir(async (t, dir) => {
    const file = join(dir, 'stale.json');
    const text = JSON.stringify(STALE_READ);
    writeFileSync(file, text);
    symlinkSync(file, join(dir, 'sym.json'));
    linkSync(file, join(dir, 'hard.json'));
    for (const out of [file, `${dir}/./../${basename(dir)}/stale.json`, relative(process.cwd(), file), join(dir, 'sym.json'), join(dir, 'hard.json')]) {
      const r = await verify([file, '--timeline', out]);
      t.is(r.code, 2, `${out}: ${r.stdout}${r.stderr}`);
      t.regex(r.stderr, /^meridian verify: --timeline "[^"]+" is FILE, the history read: the HTML would overwrite it; give another path\n/, out);
      t.is(r.stdout, '');
      t.is(readFileSync(file, 'utf8'), text);
    }
    const html = join(dir, 'tl.html');
    const r = await verify([file, '--timeline', html]);
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(readFileSync(html, 'utf8'), /^<!doctype html>/i);
  }),
);

test(
  'a witness tells a read of null from a read with no value (of a missing key), and a cas expecting null from one expecting none',
  withDir(async (t, dir) => {
    const write = (name: string, history: unknown): string => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(history));
      return file;
    };
    const put = { id: 1, client: 'a', key: 'k', kind: 'write', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 10 };
    const read = { id: 3, client: 'b', key: 'k', kind: 'read', invokeMs: 40, outcome: 'ok', completeMs: 50 };
    const nul = await verify([write('null.json', [put, { ...read, output: null }])]);
    t.is(nul.code, 1, nul.stdout + nul.stderr);
    t.regex(nul.stdout, /\n {6}b read\(\) = null ok \[40\.\.50 ms\]\n/);
    const none = await verify([write('none.json', [put, read])]);
    t.is(none.code, 1, none.stdout + none.stderr);
    t.regex(none.stdout, /\n {6}b read\(\) = undefined ok \[40\.\.50 ms\]\n/);
    const cas = (input: object): unknown[] => [put, { ...read, kind: 'cas', input, output: true }];
    t.regex((await verify([write('casnull.json', cas({ expected: null, next: 2 }))])).stdout, /b cas\(null->2\) = true ok/);
    t.regex((await verify([write('casnone.json', cas({ next: 2 }))])).stdout, /b cas\(undefined->2\) = true ok/);
  }),
);

test(
  'a document with no runs checks nothing: unknown, exit 1, not a pass',
  withDir(async (t, dir) => {
    const file = join(dir, 'noruns.json');
    writeFileSync(file, '{"runs":[]}');
    const r = await verify([file]);
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(r.stdout, /, 0 runs \(a meridian check --history document\)\nno runs: nothing to check\nverify: 0 runs, 0 passed, 0 failed, 0 unknown\n$/);
  }),
);

test(
  "a failed or unknown operation's completeMs, when given, is a finite number not before invokeMs: null, a string or 1e999 is refused, the field named, exit 2 (verify --timeline threw on null: found by an audit, session 55)",
  withDir(async (t, dir) => {
    const op = '{"id":1,"client":"c2","key":"k","kind":"put","input":2,"invokeMs":1';
    const cases: Array<[string, string, RegExp]> = [
      [
        'null.json',
        `[${op},"outcome":"unknown","completeMs":null}]`,
        /history\[0\]\.completeMs: expected no completeMs for an unknown operation \(no response came: .*\), got null; an operation that answered is ok or fail\n/,
      ],
      ['string.json', `[${op},"outcome":"fail","completeMs":"5"}]`, /history\[0\]\.completeMs: expected .* for a failed operation, got "5"\n/],
      [
        'huge.json',
        `[${op},"outcome":"fail","completeMs":1e999}]`,
        /history\[0\]\.completeMs: expected a number within a double's range .*, got 1e999, which reads as Infinity/,
      ],
      ['before.json', `[${op},"outcome":"fail","completeMs":0}]`, /history\[0\]\.completeMs: expected .* got 0\n/],
    ];
    for (const [name, text, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const html = join(dir, `${name}.html`);
      for (const args of [[file], [file, '--timeline', html]]) {
        const r = await verify(args);
        t.is(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        t.regex(r.stderr, message, name);
      }
    }
    // Absent, or a time at or after the invocation: as before, and drawn.
    const fine = join(dir, 'fine.json');
    writeFileSync(fine, `[${op},"outcome":"fail","completeMs":3},{"id":2,"client":"c3","key":"k","kind":"put","input":4,"invokeMs":2,"outcome":"unknown"}]`);
    const html = join(dir, 'fine.html');
    const r = await verify([fine, '--timeline', html]);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.notRegex(readFileSync(html, 'utf8'), /NaN/);
  }),
);

test(
  'a key left undecided beside a failing one is said, and the timeline lists it (it went unsaid whenever another key failed: found by an audit, session 55)',
  withDir(async (t, dir) => {
    // Key a: a stale read. Key b: twelve concurrent writes, then reads of 3, 5 and 3: no order
    // gives them, but only a search can tell, and a budget of 50 steps cannot.
    const history: unknown[] = [
      { id: 0, client: 'c1', key: 'a', kind: 'put', input: 1, invokeMs: 0, outcome: 'ok', completeMs: 10 },
      { id: 1, client: 'c2', key: 'a', kind: 'put', input: 2, invokeMs: 20, outcome: 'ok', completeMs: 30 },
      { id: 2, client: 'c3', key: 'a', kind: 'get', invokeMs: 40, outcome: 'ok', output: 1, completeMs: 50 },
    ];
    for (let i = 0; i < 12; i++) history.push({ id: 10 + i, client: `w${i}`, key: 'b', kind: 'put', input: i, invokeMs: 0, outcome: 'ok', completeMs: 100 });
    [3, 5, 3].forEach((v, i) =>
      history.push({ id: 30 + i, client: 'r', key: 'b', kind: 'get', invokeMs: 101 + 2 * i, outcome: 'ok', output: v, completeMs: 102 + 2 * i }),
    );
    const file = join(dir, 'mixed.json');
    writeFileSync(file, JSON.stringify(history));
    const html = join(dir, 'mixed.html');
    const r = await verify([file, '--check-budget', '0.000001', '--timeline', html]);
    t.is(r.code, 1, r.stdout + r.stderr);
    t.regex(
      r.stdout,
      /: FAILED: not linearizable \(1 key\)\n {2}key a: no order explains[^]*\n {2}keys the checker could not decide: b\nverify: 1 run, 0 passed, 1 failed, 0 unknown\n/,
    );
    t.regex(readFileSync(html, 'utf8'), /<p class="verdict unknown">keys the checker could not decide \(not a pass\): &quot;b&quot;<\/p>/);
  }),
);

test(
  '--timeline colours a run by its outcome: an undecided run of transactions and an empty history are unknown, not green (found by an audit, session 55)',
  withDir(async (t, dir) => {
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const cases: Array<[string[], string]> = [
      [[write('fork.edn', longForkEdn), '--format', 'elle-edn', '--check-budget', '0.000001'], 'unknown'],
      [[write('empty.json', '[]')], 'unknown'],
      [[write('fork2.edn', longForkEdn), '--format', 'elle-edn', '--consistency', 'read-committed'], 'pass'],
      [[write('fork3.edn', longForkEdn), '--format', 'elle-edn'], 'fail'],
    ];
    for (const [args, outcome] of cases) {
      const html = join(dir, 'out.html');
      const r = await verify([...args, '--timeline', html]);
      t.is(r.code, outcome === 'pass' ? 0 : 1, r.stdout + r.stderr);
      const classes = [...readFileSync(html, 'utf8').matchAll(/<p class="verdict (\w+)">/g)].map((m) => m[1]);
      t.deepEqual(classes, [outcome], args.join(' '));
    }
  }),
);
