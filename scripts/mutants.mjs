// How strong is `meridian check` on bugs it was not built around? Each mutant below is a bug
// put into a scratch copy of the compiled code (dist/, a search and replace in one or two
// files), never into the source: unlike the `--unsafe` variants, nothing in the project knows
// these bugs exist. For each, `meridian check --seeds N` runs on the copy with the default
// scenario (plus the mutant's flags) and the seeds that fail are counted. A mutant whose text
// is no longer found in dist/ is reported as such (the code moved: update its search string).
//
//   npm run build && node scripts/mutants.mjs [--seeds N] [--workers K] [--only a,b] [--json] [-- check flags]
//
// Flags after `--` go to every check run (`-- --nemesis swarm`, say).
// Prints one line per mutant: caught seeds of N, unknown, and the check's seeds/s. A catch
// rate here is a measure of the harness, not a gate: some of these bugs are masked by another
// layer (a duplicate the balancer drops never reaches the state machine) and are rare to see.
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decimalInt } from '../dist/src/cli/flags.js';
import { makeOwnedDir } from '../dist/src/runtime/temp-dirs.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const SM = 'src/replication/state-machine.js';
const GROUP = 'src/replication/group.js';
const BALANCER = 'src/cluster/balancer.js';
const PAXOS = 'src/protocols/multipaxos.js';
const COORDINATOR = 'src/cluster/coordinator.js';
const PAXOS_COMMIT = 'src/protocols/paxoscommit.js';
const TWOPC = 'src/protocols/twopc.js';
const SM_NO_DEDUP = [SM, '    seen(rq) {', '    seen(rq) { return undefined;'];
const BALANCER_NO_DEDUP = [BALANCER, '    has(id) {', '    has(id) { return false;'];

/** name, what is broken, [file, search, replace] edits, extra `check` flags; coreOnly: the test that catches a bug `meridian check` cannot meet. */
export const MUTANTS = [
  { name: 'no-dedup', what: 'neither the balancer nor the state machine drops a duplicated request', edits: [SM_NO_DEDUP, BALANCER_NO_DEDUP], flags: [] },
  { name: 'sm-no-dedup', what: 'the state machine applies a duplicated request again', edits: [SM_NO_DEDUP], flags: [] },
  { name: 'balancer-no-dedup', what: 'a balancer routes (or refuses) every copy of a request', edits: [BALANCER_NO_DEDUP], flags: [] },
  {
    name: 'snapshot-forgets-requests',
    what: 'a state machine restored from a snapshot forgets the request ids it had answered',
    edits: [[SM, '            this.seenResults.set(rq, value);\n        this.seenOrder.reset', '            ;\n        this.seenOrder.reset']],
    flags: [],
  },
  {
    name: 'lowest-ballot',
    what: 'a new Paxos leader re-proposes the lowest-ballot value a promise reported for a slot, not the highest',
    edits: [[PAXOS, 'compareBallots(slot.ballot, seen.ballot) > 0', 'compareBallots(slot.ballot, seen.ballot) < 0']],
    flags: [],
  },
  {
    name: 'prevote-always-grants',
    what: 'a Paxos replica grants every pre-vote, even while it leads or hears a live leader (pre-vote in name only)',
    edits: [[PAXOS, 'granted: !leaderAlive', 'granted: true']],
    flags: [],
  },
  {
    name: 'prevote-skipped',
    what: 'a Paxos replica whose election timer expires campaigns at once, pre-vote or not (the bug pre-vote fixed: one that cannot hear deposes its leaders)',
    edits: [[PAXOS, 'if (this.config.preVote !== true) {', 'if (true) {']],
    flags: [],
  },
  {
    name: 'noop-reproposal',
    what: 'a new Paxos leader fills every slot not known chosen with a no-op, dropping values its promises reported',
    edits: [[PAXOS, 'this.proposeSlot(i, slot === undefined ? [] : slot.commands);', 'this.proposeSlot(i, []);']],
    flags: [],
  },
  {
    name: 'hole-left-open',
    what: 'a new Paxos leader proposes again only the slots its promises reported: a hole under a later reported slot is never filled, and the log stops there',
    edits: [[PAXOS, 'this.proposeSlot(i, slot === undefined ? [] : slot.commands);', 'if (slot !== undefined) this.proposeSlot(i, slot.commands);']],
    flags: [],
  },
  {
    name: 'minority-quorum',
    what: 'a Paxos leader counts a slot chosen with one acceptance less than a majority',
    edits: [[PAXOS, 'if (proposal.acks.size < this.majority)', 'if (proposal.acks.size < this.majority - 1)']],
    flags: [],
  },
  {
    name: 'cas-answers-found',
    what: 'a state machine answers a cas that does not swap with the value it found, not false',
    edits: [[SM, 'return { ok: true, value: false, writes: [] };', 'return { ok: true, value: data.get(body.key) ?? null, writes: [] };']],
    flags: [],
  },
  {
    name: 'read-unconfirmed',
    what: 'a Paxos leader answers a linearizable read without a majority confirming it still leads (a deposed leader that has not heard answers stale reads)',
    edits: [[PAXOS, 'if (this.majority === 1)', 'if (true)']],
    flags: [],
  },
  {
    name: 'read-below-floor',
    what: 'a new Paxos leader answers reads at its commit index before it re-chose the slots its predecessors may have chosen',
    edits: [[PAXOS, 'const index = this.log.commitIndex > this.readFloor ? this.log.commitIndex : this.readFloor;', 'const index = this.log.commitIndex;']],
    flags: [],
  },
  {
    name: 'read-speculative',
    what: 'passive: a primary answers a confirmed read from its working copy, which holds writes not yet chosen, not from its chosen state',
    edits: [[GROUP, 'value: this.sm.data.get(get.body.key) });', 'value: (this.spec ?? this.sm).data.get(get.body.key) });']],
    flags: ['--mode', 'passive'],
  },
  {
    name: 'effect-out-of-sequence',
    what: "passive: a backup applies a primary's effect although an earlier effect of the same reign was lost",
    edits: [[SM, 'if (command.seq !== 0 && (command.term !== this.effectTerm', 'if (false && (command.term !== this.effectTerm']],
    flags: ['--mode', 'passive'],
  },
  {
    name: 'learner-ignores-snapshot',
    what: 'hybrid: a learner fed a snapshot (it fell behind the feed) ignores it and waits for commands it will never get',
    edits: [['src/replication/learner.js', 'if (msg.snapshot !== null && msg.snapshot.applied > this.sm.applied)', 'if (false)']],
    flags: ['--mode', 'hybrid'],
  },
  {
    name: 'learner-restores-older-snapshot',
    what: 'hybrid: a learner installs any snapshot it is fed, also one older than what it applied (it goes back in time)',
    edits: [['src/replication/learner.js', 'if (msg.snapshot !== null && msg.snapshot.applied > this.sm.applied)', 'if (msg.snapshot !== null)']],
    flags: ['--mode', 'hybrid'],
  },
  {
    name: 'server-ignores-probe-acks',
    what: 'a server never takes a node it holds dead back on the answer to a probe (a lost restart notice then refuses local reads of its shards for good)',
    edits: [['src/cluster/server.js', 'if (msg.at > (state.downSince.get(ctx.sender) ?? Number.POSITIVE_INFINITY))', 'if (false)']],
    flags: ['--regions', '2', '--servers', '1', '--factor', '1', '--nemesis', 'swarm'],
  },
  {
    name: 'feed-no-probe',
    what: "hybrid: a leader's feed sends a caught-up learner no empty probe, so a learner restarted while the shard is idle is never fed (the bug test/bug-hybrid.test.ts pins)",
    edits: [['src/replication/learner.js', "out.push({ to: learner, msg: { type: 'learn', s: shard, entries: [], snapshot: null } });", '']],
    flags: ['--mode', 'hybrid'],
  },
  {
    name: 'feed-never-resends',
    what: "hybrid: a leader's feed never sends again what a learner did not acknowledge (a lost learn message leaves it behind until new commands come)",
    edits: [['src/replication/learner.js', 'if (p.sinceSendTicks >= LEARN_RESEND_TICKS || p.stalledTicks >= LEARN_RESEND_TICKS) {', 'if (false) {']],
    flags: ['--mode', 'hybrid'],
  },
  {
    name: 'checkpoint-covers-whole-step',
    what: "a checkpoint taken in the middle of a step is taken to hold the step's persists made after it too (they are not appended: the bug fixed in 478d88d, at the actor cell)",
    edits: [['src/runtime/cell.js', 'from = this.checkpointAfter;', 'from = this.persists.length;']],
    flags: [],
  },
  {
    name: 'checkpoint-omits-promise',
    what: "a server's checkpoint of a shard's log leaves out the acceptor's promise (a restart forgets it)",
    edits: [['src/replication/shard-log.js', 'if (log.promised !== undefined)\n', 'if (false)\n']],
    flags: [],
  },
  {
    name: 'shardlog-keeps-lower-promise',
    what: "a server's shard log keeps the lower of two promises it reads (a checkpoint then holds an old one)",
    edits: [
      [
        'src/replication/shard-log.js',
        "case 'promise':\n            log.promised = log.promised === undefined || compareBallots(r.ballot, log.promised) > 0",
        "case 'promise':\n            log.promised = log.promised === undefined || compareBallots(r.ballot, log.promised) < 0",
      ],
    ],
    flags: [],
  },
  {
    name: 'recover-forgets-log',
    what: "a restarted server does not rebuild its shard logs' summary from the records it recovered (its next checkpoint drops them)",
    edits: [['src/replication/shard-log.js', 'rememberRecord(this.logOf(record.s), record.r);', 'this.logOf(record.s);']],
    flags: [],
  },
  {
    name: 'unsynced-counted-synced',
    what: 'with fsync false, the simulated store counts every append as synced: a power loss loses nothing (what the checker may then rely on was never durable)',
    edits: [['src/runtime/durable-memory.js', 'const at = this.fsync ? -Infinity : this.clock();', 'const at = -Infinity;']],
    flags: [],
  },
  {
    name: 'recovery-keeps-torn-tail',
    what: "the simulated store's recovery does not cut a torn last record (a power loss's partly written record stays in the log)",
    edits: [['src/runtime/durable-memory.js', 'if (parsed.tornTail) {', 'if (false) {']],
    flags: [],
  },
  {
    name: 'coordinator-forgets-begun',
    what: 'a restarted coordinator forgets which requests it began (begins a late duplicate again)',
    edits: [[COORDINATOR, 'for (const record of begunRecords)', 'for (const record of [])']],
    flags: ['--txn-share', '0.3'],
  },
  {
    name: 'prepare-ignores-locks',
    what: 'a participant prepares a transaction whose keys another prepared transaction holds',
    edits: [[SM, 'if (holder !== undefined && holder !== txn) {', 'if (false) {']],
    flags: ['--workload', 'txn'],
  },
  {
    name: 'sm-forgets-marks',
    what: 'a state machine executes a late copy of a request older than the ids it remembers (no per-client mark)',
    edits: [[SM, "return this.forgottenUpTo.covers(rq) ? 'forgotten' : undefined;", 'return undefined;']],
    flags: ['--limits', 'small'],
  },
  {
    name: 'balancer-forgets-marks',
    what: 'a balancer answers again a late copy of a request older than those it remembers answering',
    edits: [[BALANCER, 'return upTo !== undefined && id - n * 0x100000000 <= upTo;', 'return false;']],
    flags: ['--limits', 'small'],
  },
  {
    name: 'balancer-forgets-refusals',
    what: 'a balancer remembers only the requests it routed: a late copy of a request it refused (a definite UnavailableError) is routed (the bug of seed 255280, fixed in 419fdf0)',
    edits: [[BALANCER, '    state.refused++;\n', '    state.refused++;\n    state.routedIds["numbers"].delete(routedIdOf(state, ctx.sender, req.rid));\n']],
    flags: [],
  },
  {
    name: 'balancer-marks-off-by-one',
    what: "a balancer answers again a late copy of the last request it forgot of a client (the client's mark itself)",
    edits: [[BALANCER, 'return upTo !== undefined && id - n * 0x100000000 <= upTo;', 'return upTo !== undefined && id - n * 0x100000000 < upTo;']],
    flags: ['--limits', 'small'],
  },
  {
    name: 'coordinator-forgets-marks',
    what: 'a coordinator begins a late copy of a transaction request older than the ids it remembers',
    edits: [[COORDINATOR, 'if (rq !== undefined && state.begunForgotten.covers(rq)) {', 'if (false) {']],
    flags: ['--limits', 'small', '--txn-share', '0.3'],
  },
  {
    name: 'shard-forgets-finished-marks',
    what: 'a shard prepares again a late prepare of a transaction older than the finished ones it remembers',
    edits: [[SM, 'return !this.pc.has(txn) && this.forgottenTxns.covers(txn);', 'return false;']],
    flags: ['--limits', 'small', '--workload', 'txn'],
  },
  {
    name: 'stale-leader-acks',
    what: "a 2PC participant acknowledges at once a commit of a transaction it does not hold, without the shard's log (a stale leader says a commit it never applied is done)",
    edits: [[TWOPC, "this.out.decide({ kind: 'commit', txn: msg.txn, payload: state?.payload ?? null });", '']],
    flags: ['--txn-share', '0.3', '--mode', 'passive'],
  },
  {
    name: 'coordinator-ends-at-first-ack',
    what: 'a 2PC coordinator forgets a committed transaction at its first acknowledgement (the others, asking, are told it aborted)',
    edits: [[TWOPC, 'if (state.acked.size === state.participants.length) {', 'if (state.acked.size >= 1) {']],
    flags: ['--workload', 'txn', '--commit', '2pc'],
  },
  {
    name: 'pc-acceptor-ignores-promise',
    what: 'a Paxos Commit acceptor accepts a phase 2a message of a ballot lower than it promised',
    edits: [[PAXOS_COMMIT, 'if (compareBallots(msg.ballot, a.promised) < 0) {', 'if (false) {']],
    flags: ['--workload', 'txn', '--commit', 'paxos-commit'],
  },
  {
    name: 'pc-recovery-aborts',
    what: "a Paxos Commit recovery leader proposes 'aborted' for every resource manager, even one whose 'prepared' a promise reported",
    edits: [[PAXOS_COMMIT, "const value = best === null ? 'aborted' : best.value;", "const value = 'aborted';"]],
    flags: ['--workload', 'txn', '--commit', 'paxos-commit'],
  },
  {
    name: 'threepc-uncertain-commits',
    what: "a 3PC termination coordinator commits when every report is 'uncertain' (it must abort: nobody can have committed, but someone silent may have voted no or aborted)",
    edits: [
      [
        'src/protocols/threepc.js',
        "if (!states.includes('precommitted'))\n            return this.terminate(txn, t, false);",
        "if (!states.includes('precommitted'))\n            return this.terminate(txn, t, true);",
      ],
    ],
    flags: [],
    coreOnly: 'test/threepc-random.part.ts',
  },
  {
    name: 'threepc-vote-timeout-commits',
    what: 'a 3PC coordinator whose votes are not all in by the vote timeout commits, as it may on the ack timeout (it must abort: the silent ones have not voted yes)',
    edits: [
      [
        'src/protocols/threepc.js',
        "if (state.phase === 'voting')\n                this.abort(txn, state, 'timeout', silentVoters(state.participants, state.yes));",
        "if (state.phase === 'voting')\n                this.commit(txn, state);",
      ],
    ],
    flags: [],
    coreOnly: 'test/threepc-random.part.ts',
  },
];

function parseArgs(argv) {
  const out = { seeds: 100, workers: 1, only: undefined, json: false, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.extra = argv.slice(i + 1);
      break;
    }
    if (a === '--json') out.json = true;
    else if (a === '--seeds' || a === '--workers') {
      const n = decimalInt(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a}: a whole number of 1 or more in decimal digits (got ${argv[i]})`);
      out[a.slice(2)] = n;
    } else if (a === '--only') {
      out.only = (argv[++i] ?? '').split(',');
      for (const name of out.only) {
        if (!MUTANTS.some((m) => m.name === name)) throw new Error(`--only: mutant names from ${MUTANTS.map((m) => m.name).join(', ')} (got ${name})`);
      }
    } else
      throw new Error(`unknown argument ${a} (--seeds N, --workers K, --only a,b, --json, then -- and check flags for every run; --help prints the usage)`);
  }
  return out;
}

/**
 * By mutant name, the test files that must catch it (test/*.test.ts and the test/*.part.ts a group
 * file imports, naming it as `mutant: 'name'`:
 * a randomized core or actor test through test/helpers/core-mutant.ts, or a fault's test through
 * test/helpers/mutant-power.ts). Read from the tests, so it cannot go stale.
 */
export function testsCatching() {
  const dir = join(root, 'test');
  const out = new Map();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') || f.endsWith('.part.ts'))
    .sort()) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/mutant: '([a-z0-9-]+)'/g)) {
      const list = out.get(m[1]) ?? [];
      if (!list.includes(`test/${file}`)) list.push(`test/${file}`);
      out.set(m[1], list);
    }
  }
  return out;
}

/**
 * A scratch copy of dist/ with the mutant's edits; throws when an edit's text is not found
 * exactly once. Named `meridian-mutant-PID-NAME-XXXXXX`: its user removes it (this script, on
 * Ctrl-C too; a test's withMutant), and the copies of a process killed before it could (SIGKILL,
 * a test run's timeout) are removed by the next copy made (makeOwnedDir).
 */
export function mutatedCopy(mutant) {
  const dir = makeOwnedDir('meridian-mutant-', mutant.name);
  // What the CLI and a core test's modules read: not source maps, declarations or the compiled
  // tests, groups and their parts (about 220 of 990 files; copying all of dist/ took half a CPU
  // second per mutant).
  const unread = (path) => path.endsWith('.map') || path.endsWith('.d.ts') || path.endsWith('.test.js') || path.endsWith('.part.js');
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (path) => !unread(path) });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [file, search, replace] of mutant.edits) {
    const path = join(dir, 'dist', file);
    const text = readFileSync(path, 'utf8');
    const found = text.split(search).length - 1;
    if (found !== 1) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `mutant ${mutant.name}: ${JSON.stringify(search)} found ${found} times in dist/${file}, not once (the code moved: update scripts/mutants.mjs)`,
      );
    }
    writeFileSync(path, text.replace(search, replace));
  }
  return dir;
}

// Run as a script, not when a test imports MUTANTS and mutatedCopy (to put a mutant under a
// randomized core test: test/helpers/core-mutant.ts).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();

async function main() {
  /** The scratch copy and the check in progress: removed and stopped on Ctrl-C too. */
  let current = { dir: undefined, child: undefined };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      current.child?.kill();
      if (current.dir !== undefined) rmSync(current.dir, { recursive: true, force: true });
      process.exit(130);
    });
  }

  function run(dir, args) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(dir, 'dist/src/cli.js'), 'check', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      current = { dir, child };
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  if (process.argv.includes('--help') && !process.argv.slice(2, process.argv.indexOf('--help')).includes('--')) {
    console.log(
      'usage: node scripts/mutants.mjs [--seeds N] [--workers K] [--only a,b] [--json] [-- check flags for every run]\n' +
        `mutants: ${MUTANTS.map((m) => m.name).join(', ')}`,
    );
    process.exit(0);
  }
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`mutants: ${error.message}`);
    process.exit(2);
  }
  const caughtBy = testsCatching();
  const results = [];
  for (const mutant of MUTANTS) {
    if (options.only !== undefined && !options.only.includes(mutant.name)) continue;
    if (mutant.coreOnly !== undefined) {
      // A bug in a protocol `meridian check` does not run: its randomized core test catches it.
      results.push({ name: mutant.name, what: mutant.what, coreOnly: mutant.coreOnly, tests: caughtBy.get(mutant.name) ?? [] });
      if (!options.json) console.log(`${mutant.name.padEnd(30)} not run by meridian check; caught by ${mutant.coreOnly}`);
      continue;
    }
    let dir;
    try {
      dir = mutatedCopy(mutant);
    } catch (error) {
      console.error(error.message);
      process.exit(2);
    }
    try {
      const args = ['--seeds', String(options.seeds), '--workers', String(options.workers), ...mutant.flags, ...options.extra];
      const { code, out } = await run(dir, args);
      const summary = out.split('\n').find((l) => l.startsWith('check:'));
      // `N seeds, ...`, or `stopped after R of N seeds (--max-failures K reached), ...` (then R ran).
      const m = summary?.match(
        /(?:stopped after (\d+) of \d+ seeds? \([^)]*\)|(\d+) seeds?), (\d+) passed, (\d+) failed.*?, (\d+) unknown.*\(([\d.]+) seeds\/s\)/,
      );
      if (m === undefined || m === null) {
        // The check did not run (a flag after -- that this mutant's workload does not take, say).
        const why = out.split('\n').find((l) => l.trim() !== '') ?? `exit status ${code}`;
        results.push({ name: mutant.name, what: mutant.what, flags: [...mutant.flags, ...options.extra].join(' '), error: why });
        if (!options.json) console.log(`${mutant.name.padEnd(30)} not run: ${why}`);
        continue;
      }
      const r = {
        name: mutant.name,
        what: mutant.what,
        flags: [...mutant.flags, ...options.extra].join(' '),
        seeds: +(m[1] ?? m[2]),
        stopped: m[1] !== undefined,
        failed: +m[4],
        unknown: +m[5],
        seedsPerS: +m[6],
        tests: caughtBy.get(mutant.name) ?? [],
      };
      results.push(r);
      if (!options.json) {
        const tests = r.tests.length === 0 ? '' : `; must also fail ${r.tests.join(', ')}`;
        console.log(
          `${r.name.padEnd(30)} caught ${String(r.failed).padStart(3)} of ${r.seeds}${r.stopped ? ' (stopped: --max-failures)' : ''}, ${r.unknown} unknown, ${r.seedsPerS} seeds/s  ${r.flags}${tests}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (options.json) console.log(JSON.stringify({ seeds: options.seeds, mutants: results }, null, 1));
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}
