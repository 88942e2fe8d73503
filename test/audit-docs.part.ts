import test from 'ava';
import { validateConfig, type ClusterConfig } from '../src/cluster/config.js';
import { planCluster } from '../src/cluster/plan.js';
import { validateBalancerConfig, validateHeartbeatConfig } from '../src/cluster/validate-parts.js';
import { DEMO_DEFAULTS } from '../src/cli/demo.js';
import { USAGE } from '../src/cli/top.js';
import { onFile } from './helpers/verify-cli.js';

// Defects an audit of what the README, docs/*.md and the commands' --help say (session 68) found.

/** validateConfig's hooks as startCluster passes them, on a machine of `cores` cores. */
function hooksOf(cores: number): Parameters<typeof validateConfig>[1] {
  return { balancer: validateBalancerConfig, heartbeat: validateHeartbeatConfig, cores, randomSeed: () => 1 };
}

test('a packed placement starts no host without an actor: threads and nats.processes at most one per region and server', (t) => {
  // 2 regions, 3 servers: 5 hosts can run something. On a 64-core machine the default started
  // 64 worker threads (or host processes), 59 of them idle; `threads: 40` for one server
  // booted 40 threads in 7 s.
  const regions = [
    { name: 'a', servers: 2 },
    { name: 'b', servers: 1 },
  ];
  const cases: Array<[string, ClusterConfig, number]> = [
    ['threads, packed, default on 64 cores', { regions, transport: 'threads', placement: 'packed' }, 5],
    ['threads, packed, threads: 40', { regions, transport: 'threads', placement: 'packed', threads: 40 }, 5],
    ['threads, packed, threads: 2', { regions, transport: 'threads', placement: 'packed', threads: 2 }, 2],
    ['nats, processes default on 64 cores', { regions, transport: 'nats', nats: { servers: 'nats://127.0.0.1:4222' } }, 5],
    ['nats, processes: 40', { regions, transport: 'nats', nats: { servers: 'nats://127.0.0.1:4222', processes: 40 } }, 5],
    // Hosts started elsewhere: as many as the launcher waits for (they have joined by then).
    ['nats, hosts: 7', { regions, transport: 'nats', nats: { servers: 'nats://127.0.0.1:4222', hosts: 7, cluster: 'c' } }, 7],
  ];
  for (const [what, config, hosts] of cases) {
    const resolved = validateConfig(config, hooksOf(64));
    t.is(resolved.threads, hosts, what);
    const { plans } = planCluster(resolved);
    // Host 0 is the calling thread; the others are started.
    t.is(plans.length - 1, hosts, `${what}: hosts planned`);
    if (hosts <= 5)
      t.true(
        plans.slice(1).every((p) => p.specs.length > 0),
        `${what}: every host started runs an actor`,
      );
  }
});

test("meridian demo's usage says its defaults as runDemo takes them", (t) => {
  // The flags' defaults and --duration-ms' range were said nowhere (session 68's audit).
  const line = USAGE.split('\n').find((l) => l.includes('(defaults:'));
  t.truthy(line, USAGE);
  const said = `(defaults: ${DEMO_DEFAULTS.transport}, seed ${DEMO_DEFAULTS.seed}, ${DEMO_DEFAULTS.durationMs} ms (300 to 3600000), ${DEMO_DEFAULTS.replication} replication)`;
  t.is(line?.trim(), said);
});

test("meridian verify checks Porcupine's formats with their own model: another --model is refused, naming it", async (t) => {
  // A kv-edn get of a missing key reads "" (Porcupine's kv store). With --model register it was
  // taken and the history failed (exit 1, not linearizable); jepsen-etcd with --model kv was
  // refused as "history[0].kind".
  const kv = ['{:process 0, :type :invoke, :f :get, :key "a", :value nil}', '{:process 0, :type :ok, :f :get, :key "a", :value ""}', ''].join('\n');
  const own = await onFile('kv.edn', kv, ['--format', 'kv-edn'])(t);
  t.is(own.code, 0, own.stdout + own.stderr);
  const other = await onFile('kv.edn', kv, ['--format', 'kv-edn', '--model', 'register'])(t);
  t.is(other.code, 2, other.stdout);
  t.regex(other.stderr, /^meridian verify: --model register: --format kv-edn is checked with the kv model/);
  const etcd = ['INFO  jepsen.util - 0\t:invoke\t:read\tnil', 'INFO  jepsen.util - 0\t:ok\t:read\tnil', ''].join('\n');
  const wrong = await onFile('etcd.log', etcd, ['--format', 'jepsen-etcd', '--model', 'kv'])(t);
  t.is(wrong.code, 2, wrong.stdout);
  t.regex(wrong.stderr, /^meridian verify: --model kv: --format jepsen-etcd is checked with the register model/);
});
