import { startCluster, type Cluster } from '../cluster/cluster.js';
import type { ClusterConfig, NatsConfig, ReplicationConfig } from '../cluster/config.js';
import { Prng } from '../core/prng.js';
import type { History } from './history.js';
import { checkHistory, type CheckResult } from './linearizability.js';
import { describePlan, type NemesisOptions } from './nemesis.js';

/**
 * One seeded fault-injection run in the simulator, then the checker: the harness behind
 * the randomized tests and `meridian check`. Everything — the fault mix, the network, the
 * workload — is drawn from the seed, so a failing seed is a reproducible bug report.
 *
 * A run has a safety phase (faults on: crashes and restarts, partitions, loss, duplication,
 * jitter) and a liveness phase (everything healed: every client must complete operations).
 */
export interface ScenarioOptions {
  seed: number;
  mode: ReplicationConfig['mode'];
  commit?: ClusterConfig['commit'];
  unsafe?: ReplicationConfig['unsafe'];
  clients?: number;
  keys?: number;
  /** Length of the safety phase, virtual ms. */
  faultMs?: number;
  /** Operations each client runs in the liveness phase. */
  livenessOps?: number;
  /** Keep the message trace (for `meridian check --trace`; sim only). */
  trace?: boolean;
  /** 'sim' (default: reproducible) or 'threads' / 'nats' (the same scenario in real time). */
  transport?: 'sim' | 'threads' | 'nats';
  /** With transport 'nats': its servers and hosts. */
  nats?: NatsConfig;
  /**
   * More faults of the caller's own beside the schedule during the safety phase (e.g. killing
   * a host process); lines it pushes onto `faults` are reported with the others.
   */
  during?: (cluster: Cluster, faults: string[]) => Promise<void>;
  /**
   * Fault schedule: absent, the built-in one below (the one the seeded tests pin); given,
   * `cluster.nemesis(options)` runs for `faultMs` instead (e.g. `{ swarm: true }`).
   */
  nemesis?: NemesisOptions;
}

export interface ScenarioResult {
  seed: number;
  mode: string;
  ok: boolean;
  /** The liveness phase completed: every client finished its operations after healing. */
  live: boolean;
  check: CheckResult;
  operations: number;
  faults: string[];
  traceHash: number;
  history?: History;
  trace?: Array<{ at: number; from: string; to: string; type: string }>;
}

export const SCENARIO_DEFAULTS = { clients: 6, keys: 4, faultMs: 4_000, livenessOps: 3 } as const;

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const o = { ...SCENARIO_DEFAULTS, ...options };
  const prng = new Prng(o.seed);
  const regions = ['r1', 'r2', 'r3'];
  const latencyMs: Record<string, number> = {};
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) latencyMs[`${regions[i]}~${regions[j]}`] = 5 + prng.int(40);
  }
  const network = { latencyMs, jitterMs: prng.int(10), loss: prng.chance(0.5) ? prng.next() * 0.05 : 0, duplicate: prng.chance(0.5) ? prng.next() * 0.05 : 0 };
  const replication: ReplicationConfig = { mode: o.mode, factor: 3 };
  if (o.unsafe !== undefined) replication.unsafe = o.unsafe;
  const threads = o.transport === 'threads' || o.transport === 'nats';
  const config: ClusterConfig = {
    regions: regions.map((name) => ({ name, servers: 2 })),
    transport: o.transport ?? 'sim',
    seed: o.seed,
    network,
    replication,
    shards: 4,
    requestTimeoutMs: 600,
    heartbeat: { intervalMs: 100 },
    trace: !threads && (o.trace ?? false),
  };
  if (o.commit !== undefined) config.commit = o.commit;
  if (o.nats !== undefined) config.nats = o.nats;
  const cluster = await startCluster(config);
  const t0 = cluster.now();
  const faults: string[] = [];
  const servers = regions.flatMap((r) => [`${r}/0`, `${r}/1`]);
  try {
    const keys = Array.from({ length: o.keys }, (_, i) => `key${i}`);
    const clients = Array.from({ length: o.clients }, (_, i) => cluster.client({ region: regions[i % regions.length]! }));
    let faulting = true;
    const workload = async (index: number): Promise<void> => {
      const client = clients[index]!;
      const rng = prng.fork(`client${index}`);
      let n = 0;
      while (faulting) {
        const key = rng.pick(keys);
        const roll = rng.next();
        try {
          if (roll < 0.4) await client.get(key);
          else if (roll < 0.8) await client.put(key, index * 1000 + n);
          else await client.cas(key, rng.int(3) === 0 ? null : index * 1000 + n - 1, index * 1000 + n);
        } catch {
          // Failures are part of the history (definite or not); keep going.
          await cluster.sleep(20);
        }
        n++;
      }
    };
    const nemesis = async (): Promise<void> => {
      const down = new Set<string>();
      const end = cluster.now() + o.faultMs;
      while (cluster.now() < end) {
        await cluster.sleep(100 + prng.int(400));
        const roll = prng.next();
        if (roll < 0.3 && down.size < 2) {
          const victim = prng.pick(servers.filter((s) => !down.has(s)));
          down.add(victim);
          faults.push(`${(cluster.now() - t0).toFixed(0)} crash ${victim}`);
          await cluster.crash(victim);
        } else if (roll < 0.55 && down.size > 0) {
          const back = prng.pick([...down]);
          down.delete(back);
          faults.push(`${(cluster.now() - t0).toFixed(0)} restart ${back}`);
          await cluster.restart(back);
        } else if (roll < 0.9) {
          const a = prng.pick(regions);
          const oneWay = prng.chance(0.3);
          faults.push(`${(cluster.now() - t0).toFixed(0)} partition ${a} | rest${oneWay ? ' (one-way)' : ''}`);
          cluster.partition([a], regions.filter((r) => r !== a), { oneWay });
        } else {
          faults.push(`${(cluster.now() - t0).toFixed(0)} heal`);
          cluster.heal();
        }
      }
      faults.push(`${(cluster.now() - t0).toFixed(0)} heal all`);
      cluster.heal();
      for (const s of down) await cluster.restart(s);
      faulting = false;
    };
    const schedule = async (options: NemesisOptions): Promise<void> => {
      const n = cluster.nemesis({ seed: o.seed, ...options });
      await n.run(o.faultMs);
      faults.push(`plan ${describePlan(n.plan)}`, ...n.lines());
      faulting = false;
    };
    const extra = o.during === undefined ? [] : [o.during(cluster, faults)];
    await Promise.all([o.nemesis === undefined ? nemesis() : schedule(o.nemesis), ...extra, ...clients.map((_, i) => workload(i))]);
    // Liveness: a healed cluster converges and answers every client.
    cluster.setNetwork({ loss: 0, duplicate: 0 });
    await cluster.sleep(1_000);
    let live = true;
    await Promise.all(clients.map(async (client, i) => {
      for (let k = 0; k < o.livenessOps; k++) {
        let done = false;
        for (let attempt = 0; attempt < 10 && !done; attempt++) {
          try {
            await client.put(keys[k % keys.length]!, 100_000 + i * 10 + k);
            done = true;
          } catch {
            await cluster.sleep(200);
          }
        }
        if (!done) live = false;
      }
    }));
    const history = cluster.history();
    const check = checkHistory(history, 'register');
    const result: ScenarioResult = {
      seed: o.seed,
      mode: o.mode,
      ok: check.ok && live,
      live,
      check,
      operations: history.length,
      faults,
      traceHash: threads ? 0 : cluster.traceHash(),
    };
    if (!result.ok) result.history = history;
    if (o.trace && !threads) result.trace = cluster.trace();
    return result;
  } finally {
    await cluster.stop();
  }
}

export interface BankOptions {
  seed: number;
  mode: ReplicationConfig['mode'];
  commit: NonNullable<ClusterConfig['commit']>;
  accounts?: number;
  clients?: number;
  faultMs?: number;
  /** Inject partitions (default true). */
  partitions?: boolean;
  /** Crash and restart servers (default true). */
  crashes?: boolean;
  /** Lose 1% of messages in half of the seeds (default true). */
  loss?: boolean;
  transport?: 'sim' | 'threads' | 'nats';
  /** With transport 'nats': its servers and hosts. */
  nats?: NatsConfig;
}

export interface BankResult {
  seed: number;
  ok: boolean;
  total: number;
  expected: number;
  committed: number;
  aborted: number;
  unknown: number;
  faults: string[];
}

/**
 * Transfers between accounts in transactions (read both balances, then a transaction that
 * checks both and writes both) under crashes and partitions. Whatever commits or aborts, the
 * total never changes: a transaction applied at one shard and not another would change it.
 */
export async function runBankScenario(options: BankOptions): Promise<BankResult> {
  const accounts = options.accounts ?? 4;
  const clientsN = options.clients ?? 4;
  const faultMs = options.faultMs ?? 3_000;
  const prng = new Prng(options.seed ^ 0x5eed);
  const regions = ['r1', 'r2', 'r3'];
  const cluster = await startCluster({
    regions: regions.map((name) => ({ name, servers: 2 })),
    transport: options.transport ?? 'sim',
    seed: options.seed,
    network: { latencyMs: { 'r1~r2': 5 + prng.int(20), 'r1~r3': 5 + prng.int(20), 'r2~r3': 5 + prng.int(20) }, jitterMs: prng.int(5) },
    replication: { mode: options.mode, factor: 3 },
    commit: options.commit,
    shards: 4,
    requestTimeoutMs: 3_000,
    ...(options.nats === undefined ? {} : { nats: options.nats }),
  });
  const t0 = cluster.now();
  const faults: string[] = [];
  const keys = Array.from({ length: accounts }, (_, i) => `acct${i}`);
  let committed = 0;
  let aborted = 0;
  let unknown = 0;
  try {
    const setup = cluster.client({ region: 'r1' });
    for (let attempt = 0; ; attempt++) {
      try {
        await setup.transaction(keys.map((key) => ({ op: 'put' as const, key, value: 100 })));
        break;
      } catch (error) {
        // Before any fault; the puts are idempotent, so a retry is harmless.
        if (attempt >= 5) throw error;
      }
    }
    // Faults start after the setup: message loss first.
    const loss = prng.chance(0.5) && options.loss !== false ? 0.01 : 0;
    if (loss > 0) faults.push(`loss ${loss}`);
    cluster.setNetwork({ loss });
    let faulting = true;
    const transfer = async (index: number): Promise<void> => {
      const client = cluster.client({ region: regions[index % regions.length]! });
      const rng = prng.fork(`client${index}`);
      while (faulting) {
        const a = rng.pick(keys);
        const b = rng.pick(keys.filter((k) => k !== a));
        try {
          const va = (await client.get(a)) as number;
          const vb = (await client.get(b)) as number;
          const amount = 1 + rng.int(10);
          await client.transaction([
            { op: 'check', key: a, value: va },
            { op: 'check', key: b, value: vb },
            { op: 'put', key: a, value: va - amount },
            { op: 'put', key: b, value: vb + amount },
          ]);
          committed++;
        } catch (error) {
          if ((error as { code?: string }).code === 'ABORTED') aborted++;
          else unknown++;
          await cluster.sleep(20);
        }
      }
    };
    const nemesis = async (): Promise<void> => {
      const servers = regions.flatMap((r) => [`${r}/0`, `${r}/1`]);
      const down = new Set<string>();
      const end = cluster.now() + faultMs;
      while (cluster.now() < end) {
        await cluster.sleep(150 + prng.int(400));
        const roll = prng.next();
        if (roll < 0.35 && down.size < 1 && options.crashes !== false) {
          const victim = prng.pick(servers);
          down.add(victim);
          faults.push(`${(cluster.now() - t0).toFixed(0)} crash ${victim}`);
          await cluster.crash(victim);
        } else if (roll < 0.65 && down.size > 0) {
          const back = [...down][0]!;
          down.delete(back);
          faults.push(`${(cluster.now() - t0).toFixed(0)} restart ${back}`);
          await cluster.restart(back);
        } else if (roll < 0.85 && options.partitions !== false) {
          const a = prng.pick(regions);
          faults.push(`${(cluster.now() - t0).toFixed(0)} partition ${a} | rest`);
          cluster.partition([a], regions.filter((r) => r !== a));
        } else if (options.partitions !== false) {
          faults.push(`${(cluster.now() - t0).toFixed(0)} heal`);
          cluster.heal();
        }
      }
      cluster.heal();
      for (const s of down) await cluster.restart(s);
      faulting = false;
    };
    await Promise.all([nemesis(), ...Array.from({ length: clientsN }, (_, i) => transfer(i))]);
    // Let in-doubt transactions finish (uncertain participants ask their coordinator again).
    await cluster.sleep(6_000);
    const reader = cluster.client({ region: 'r2' });
    let total = 0;
    for (const key of keys) {
      let value: number | undefined;
      for (let attempt = 0; attempt < 10 && value === undefined; attempt++) {
        try {
          value = (await reader.get(key)) as number;
        } catch {
          await cluster.sleep(300);
        }
      }
      total += value ?? Number.NaN;
    }
    const expected = 100 * accounts;
    return { seed: options.seed, ok: total === expected, total, expected, committed, aborted, unknown, faults };
  } finally {
    await cluster.stop();
  }
}
