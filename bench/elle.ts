/**
 * The transactional checker's throughput: transactions checked per second on a serial
 * list-append history of 20,000 transactions over 400 keys (the yardstick), under
 * both consistency levels, the same for rw-register, and through the piscina pool (forced,
 * to show what the copy to the workers costs at this size).
 *
 * Each figure is the best of a few timed rounds after one warm-up round (the usual defence
 * against a busy machine); the CPU time of the best round is given beside it.
 *
 * Run alone: node dist/bench/elle.js [--quick]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serialHistory } from '../src/harness/elle/generate.js';
import {
  checkTransactions,
  checkTransactionsParallel,
  type ElleOp,
  type TxnCheckResult,
  type TxnConsistency,
  type TxnModel,
} from '../src/harness/elle/index.js';
import { formatTable } from './lib/table.js';
import { logger, modeOf, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { quickOnly, scriptArgs, suiteUsage } from './lib/script-args.js';

const SEED = 20_261_130;
const KEYS = 400;

interface Row {
  name: string;
  model: TxnModel;
  consistency: TxnConsistency;
  pool: boolean;
  txn_per_s: number;
  cpu_txn_per_s: number;
  best_ms: number;
  median_ms: number;
  edges: number;
}

async function measure(
  name: string,
  history: ElleOp[],
  txns: number,
  model: TxnModel,
  consistency: TxnConsistency,
  pool: boolean,
  rounds: number,
): Promise<Row> {
  const once = async (): Promise<{ ms: number; cpuMs: number; result: TxnCheckResult }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = pool ? await checkTransactionsParallel(history, { model, consistency, inline: false }) : checkTransactions(history, { model, consistency });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (!result.ok) throw new Error(`bench elle: a serial history was found anomalous (${name}): ${JSON.stringify(result.anomalies[0])}`);
    return { ms, cpuMs: (c.user + c.system) / 1000, result };
  };
  await once(); // warm-up
  const runs: Array<{ ms: number; cpuMs: number; result: TxnCheckResult }> = [];
  for (let r = 0; r < rounds; r++) runs.push(await once());
  runs.sort((a, b) => a.ms - b.ms);
  const best = runs[0]!;
  return {
    name,
    model,
    consistency,
    pool,
    txn_per_s: Math.round(txns / (best.ms / 1000)),
    cpu_txn_per_s: Math.round(txns / (Math.max(best.cpuMs, 0.001) / 1000)),
    best_ms: +best.ms.toFixed(1),
    median_ms: +runs[Math.floor(runs.length / 2)]!.ms.toFixed(1),
    edges: best.result.stats?.edges ?? 0,
  };
}

export async function run(opts: SuiteOptions): Promise<SuiteResult> {
  const log = logger(opts);
  const mode = modeOf(opts);
  const txns = mode === 'tiny' ? 2_000 : 20_000;
  const rounds = mode === 'full' ? 7 : mode === 'quick' ? 3 : 1;
  const appendHistory = serialHistory({ model: 'list-append', seed: SEED, txns, keys: KEYS });
  const registerHistory = serialHistory({ model: 'rw-register', seed: SEED, txns, keys: KEYS });
  const rows: Row[] = [];
  const plan: Array<[string, ElleOp[], TxnModel, TxnConsistency, boolean]> = [
    ['list-append strict-serializable', appendHistory, 'list-append', 'strict-serializable', false],
    ['list-append serializable', appendHistory, 'list-append', 'serializable', false],
    ['rw-register strict-serializable', registerHistory, 'rw-register', 'strict-serializable', false],
    ['list-append strict-serializable, pool of 2', appendHistory, 'list-append', 'strict-serializable', true],
  ];
  for (const [name, history, model, consistency, pool] of plan) {
    log(`elle: ${name}, ${txns} transactions over ${KEYS} keys, best of ${rounds}`);
    rows.push(await measure(name, history, txns, model, consistency, pool, rounds));
  }
  const table = formatTable(
    ['history', 'txn/s (wall)', 'txn/s (cpu)', 'best ms', 'median ms', 'edges'],
    rows.map((r) => [r.name, r.txn_per_s, r.cpu_txn_per_s, r.best_ms, r.median_ms, r.edges]),
    `Transactional checker: serial histories of ${txns} transactions over ${KEYS} keys (seed ${SEED}), best of ${rounds} rounds`,
  );
  const [strict, serializable, register, pooled] = rows as [Row, Row, Row, Row];
  return {
    suite: 'elle',
    figures: {
      elle_txn_per_s: strict.txn_per_s,
      elle_cpu_txn_per_s: strict.cpu_txn_per_s,
      elle_serializable_txn_per_s: serializable.txn_per_s,
      elle_rw_register_txn_per_s: register.txn_per_s,
      elle_pool_txn_per_s: pooled.txn_per_s,
      elle_txns: txns,
      elle_keys: KEYS,
    },
    table,
  };
}

const isEntry = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isEntry) {
  const quick = scriptArgs(
    'elle',
    suiteUsage('elle', "the transactional checker's throughput (transactions checked per second)"),
    process.argv.slice(2),
    quickOnly,
  );
  run({ quick }).then(
    (result) => {
      process.stdout.write(`${result.table ?? ''}\n${JSON.stringify(result.figures)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`bench elle: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
