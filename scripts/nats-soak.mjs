// The scenario in real time over NATS, run after run: what found a stale shard leader that
// acknowledged a commit it never held (docs/findings.md, "Found on NATS"). Not reproducible by
// seed (real time decides what happens); a failing run's history, faults and a look at the
// cluster at its end (ScenarioResult.inspection) are written out.
// `--transport threads` runs the same soak on worker threads in this process (no NATS).
//
//   npm run build && node scripts/nats-soak.mjs [--from S] [--runs N] [--mode passive|active|hybrid]
//       [--commit 2pc|paxos-commit] [--transport nats|threads] [--out DIR]
//
// Over NATS it needs a nats-server binary (MERIDIAN_NATS_SERVER_BIN, or `bash scripts/ci-nats.sh`).
// One line per run; the last line is `N runs, P passed, F failed`. About 8 s a run on the 2-core
// development machine (3 host processes, faultMs 3,000, txnShare 0.2).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../dist/src/harness/scenario.js';
import { natsServerBinary, startNatsServer } from '../dist/src/harness/nats-server.js';
import { decimalInt } from '../dist/src/cli/flags.js';

function parseArgs(argv) {
  const out = { from: 1, runs: 100, mode: 'passive', commit: '2pc', transport: 'nats', dir: 'nats-soak-failures' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: a value is missing`);
    if (flag === '--from' || flag === '--runs') {
      const n = decimalInt(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: a positive integer in decimal digits, got ${JSON.stringify(value)}`);
      out[flag === '--from' ? 'from' : 'runs'] = n;
    } else if (flag === '--mode') {
      if (!['passive', 'active', 'hybrid'].includes(value)) throw new Error(`--mode: passive, active or hybrid, got ${JSON.stringify(value)}`);
      out.mode = value;
    } else if (flag === '--commit') {
      if (!['2pc', 'paxos-commit'].includes(value)) throw new Error(`--commit: 2pc or paxos-commit, got ${JSON.stringify(value)}`);
      out.commit = value;
    } else if (flag === '--transport') {
      if (!['nats', 'threads'].includes(value)) throw new Error(`--transport: nats or threads, got ${JSON.stringify(value)}`);
      out.transport = value;
    } else if (flag === '--out') out.dir = value;
    else throw new Error(`unknown flag ${JSON.stringify(flag)} (--from, --runs, --mode, --commit, --transport, --out; --help prints the usage)`);
  }
  return out;
}

if (process.argv.includes('--help')) {
  console.log(
    'usage: node scripts/nats-soak.mjs [--from S] [--runs N] [--mode passive|active|hybrid] [--commit 2pc|paxos-commit] [--transport nats|threads] [--out DIR]',
  );
  process.exit(0);
}
let o;
try {
  o = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`nats-soak: ${error.message}`);
  process.exit(2);
}
let server;
if (o.transport === 'nats') {
  const binary = natsServerBinary();
  if (!('bin' in binary)) {
    console.error(binary.reason);
    process.exit(2);
  }
  server = await startNatsServer(binary.bin);
}
let passed = 0;
let failed = 0;
try {
  for (let seed = o.from; seed < o.from + o.runs; seed++) {
    const t0 = Date.now();
    let r;
    try {
      r = await runScenario({
        seed,
        mode: o.mode,
        commit: o.commit,
        ...(server === undefined ? { transport: 'threads' } : { transport: 'nats', nats: { servers: server.url, processes: 3 } }),
        faultMs: 3_000,
        txnShare: 0.2,
      });
    } catch (error) {
      failed++;
      console.log(`seed ${seed}: threw ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const took = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.outcome === 'pass') {
      passed++;
      console.log(`seed ${seed}: pass (${took} s)`);
      continue;
    }
    failed++;
    mkdirSync(o.dir, { recursive: true });
    const file = join(o.dir, `seed-${seed}-${o.mode}-${o.transport}.json`);
    writeFileSync(
      file,
      // inspection: the cluster at the end (every actor's summary, the hosts, members, errors),
      // all there is to read of a real-time run that does not replay.
      JSON.stringify({
        seed,
        mode: o.mode,
        commit: o.commit,
        transport: o.transport,
        failures: r.failures,
        faults: r.faults,
        inspection: r.inspection,
        history: r.history,
      }),
    );
    console.log(`seed ${seed}: ${r.outcome} (${took} s): ${r.failures.join('; ')}; history in ${file}`);
  }
} finally {
  await server?.stop();
}
console.log(`${o.runs} runs, ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
