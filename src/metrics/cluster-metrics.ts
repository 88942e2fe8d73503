import { DROP_CAUSES } from '../net/model.js';
import { LEVEL_COUNTER_PREFIX, MESSAGE_TYPE_OTHER, type StatsSnapshot } from '../runtime/stats.js';
import { LATENCY_BUCKETS_SECONDS, METRIC_SERIES_MAX, Registry, type MetricsSnapshot } from './registry.js';

/**
 * The cluster's metrics, built afresh from what the cluster already keeps: the counters of
 * every thread (collectStats), the balancer's membership view, and the client calls (kept as
 * they settle, ClientMetrics). A pure function of its input, so a test can feed it
 * made-up numbers.
 */

/** Member states as gauge values: 0 up, 1 suspect, 2 down (higher is worse, so max() over servers alerts). */
export const MEMBER_STATE_VALUES = { up: 0, suspect: 1, down: 2 } as const;

export interface ClusterMetricsInput {
  stats: StatsSnapshot & { servers: Record<string, { requests: number }> };
  members: readonly { id: string; region: string; state: 'up' | 'suspect' | 'down' }[];
  regions: readonly string[];
  /** Every coordinator's address: each has a transactions series of each outcome from the first scrape, at 0. */
  coordinators: readonly string[];
  info: { transport: string; replication: string; commit: string };
  /** Client metrics kept live as calls settle (every call: transactions and local reads too). */
  client: MetricsSnapshot;
  /** Per server, how many times restart() started it again after a crash (counted by the cluster). */
  restarted?: Readonly<Record<string, number>>;
}

/** The operations a client call settles as (a local read as get-local). */
const CLIENT_OPS = ['get', 'get-local', 'put', 'delete', 'cas', 'txn'] as const;
type ClientOutcome = 'ok' | 'fail' | 'unknown';

/**
 * What the cluster keeps as client calls settle; `snapshot()` goes into `client`. Every outcome
 * of every operation has its counter series from the start, at 0: a series that appeared with
 * its first event (the first failed put, say) was missed by rate() and increase(), which need
 * two samples (an audit, session 61). Latency series still appear with their first answer.
 */
export class ClientMetrics {
  private readonly registry = new Registry();
  private readonly ops = this.registry.counter({
    name: 'meridian_client_operations_total',
    help: `Client calls by operation (${CLIENT_OPS.join(', ')}) and outcome: ok, fail (definitely not done), unknown (timed out or stopped).`,
    labelNames: ['op', 'outcome'],
  });
  private readonly latency = this.registry.histogram({
    name: 'meridian_client_latency_seconds',
    help: 'Time from call to answer of client calls that completed (ok or fail), in cluster time (virtual in sim).',
    labelNames: ['op'],
    buckets: LATENCY_BUCKETS_SECONDS,
  });

  /**
   * Series by op and outcome, each looked up once: record() runs for every call, and the
   * registry's lookup checks the labels and builds their key each time.
   */
  private readonly counts = new Map<string, Record<ClientOutcome, { inc(): void }>>();
  private readonly latencies = new Map<string, { observe(value: number): void }>();

  constructor() {
    for (const op of CLIENT_OPS) this.countsOf(op);
  }

  /** An op's series of every outcome, made together (an op not in CLIENT_OPS gets its own on its first call). */
  private countsOf(op: string): Record<ClientOutcome, { inc(): void }> {
    let byOutcome = this.counts.get(op);
    if (byOutcome === undefined) {
      const child = (outcome: ClientOutcome): { inc(): void } => this.ops.child({ op, outcome });
      this.counts.set(op, (byOutcome = { ok: child('ok'), fail: child('fail'), unknown: child('unknown') }));
    }
    return byOutcome;
  }

  record(op: string, latencyMs: number, outcome: ClientOutcome): void {
    this.countsOf(op)[outcome].inc();
    if (outcome === 'unknown') return;
    let latency = this.latencies.get(op);
    if (latency === undefined) this.latencies.set(op, (latency = this.latency.child({ op })));
    latency.observe(Math.max(0, latencyMs) / 1000);
  }

  snapshot(): MetricsSnapshot {
    return this.registry.snapshot();
  }
}

const COUNTER_TXN = { 'txn-commit': 'commit', 'txn-abort': 'abort' } as const;
/**
 * A server's counter of how far a region's learners of the shards it leads are behind, by
 * region (`level:lag:<region>`): a level of its incarnation, withdrawn when it stops leading.
 */
export const LAG_COUNTER_PREFIX = `${LEVEL_COUNTER_PREFIX}lag:`;
const ROUTED_PREFIX = 'routed:';

/**
 * How far each region's asynchronous copies are behind their shards' leaders, summed over
 * shards: every server keeps its part by deltas (LAG_COUNTER_PREFIX), so the sum over servers
 * is the region's lag. Every region of `regions` is in it, at 0 when nothing lags.
 */
export function replicationLagOf(stats: StatsSnapshot, regions: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const region of regions) out[region] = 0;
  for (const a of Object.values(stats.actors)) {
    for (const [name, n] of Object.entries(a.counters)) {
      if (!name.startsWith(LAG_COUNTER_PREFIX)) continue;
      const region = name.slice(LAG_COUNTER_PREFIX.length);
      out[region] = (out[region] ?? 0) + n;
    }
  }
  return out;
}

/**
 * Series meridian_messages_by_type_total holds at most. Its label is a message's `type`, which
 * actor code chooses: an actor that made up a type per message gave it a series each, and past
 * the registry's guard (METRIC_SERIES_MAX) every metrics() read threw (found by the report
 * audit, session 69).
 */
export const MESSAGE_TYPE_SERIES_MAX = 1_000;
/** The type under which the by-type counter sums the types left without a series of their own (as a host does past its own). */
export { MESSAGE_TYPE_OTHER };

/**
 * The by-type series: every type, in name order, when there are at most MESSAGE_TYPE_SERIES_MAX;
 * otherwise the MESSAGE_TYPE_SERIES_MAX - 1 most sent (ties by name) and MESSAGE_TYPE_OTHER
 * for the sum of the rest (with any type of that very name), so the series still add up to
 * every message counted.
 */
function messageTypeSeries(types: Readonly<Record<string, number>>): [string, number][] {
  const names = Object.keys(types).sort();
  if (names.length <= MESSAGE_TYPE_SERIES_MAX) return names.map((type) => [type, types[type]!]);
  const byCount = names.filter((type) => type !== MESSAGE_TYPE_OTHER).sort((a, b) => types[b]! - types[a]! || (a < b ? -1 : 1));
  const kept = byCount.slice(0, MESSAGE_TYPE_SERIES_MAX - 1).sort();
  let other = types[MESSAGE_TYPE_OTHER] ?? 0;
  for (const type of byCount.slice(MESSAGE_TYPE_SERIES_MAX - 1)) other += types[type]!;
  return [...kept.map((type): [string, number] => [type, types[type]!]), [MESSAGE_TYPE_OTHER, other]];
}

export function buildClusterMetrics(input: ClusterMetricsInput): MetricsSnapshot {
  const r = new Registry();
  const { stats } = input;
  // The series of a metric labelled by server, link or balancer are bounded by the cluster's
  // shape, which may pass the registry's default guard (10,000): a cluster of 10,001 servers,
  // which the config allows, failed every metrics() read (found by an audit, session 69).
  const atLeast = (n: number): number => Math.max(METRIC_SERIES_MAX, n);
  const servers = atLeast(new Set([...Object.keys(stats.servers), ...input.members.map((m) => m.id)]).size);

  r.gauge({ name: 'meridian_cluster_info', help: 'Always 1; the labels describe the cluster.', labelNames: ['transport', 'replication', 'commit'] }).set(
    input.info,
    1,
  );

  r.counter({ name: 'meridian_messages_sent_total', help: 'Messages sent by every actor.' }).inc({}, stats.sent);
  r.counter({ name: 'meridian_messages_delivered_total', help: 'Messages delivered to an actor.' }).inc({}, stats.delivered);
  r.counter({
    name: 'meridian_message_bytes_total',
    help: 'Encoded bytes of the messages sent, less those dropped on the way out (dead node, partition, loss, too large), on every transport: the simulator and messages within one thread too.',
  }).inc({}, stats.bytes);
  r.counter({ name: 'meridian_actor_errors_total', help: 'Errors thrown by actor code.' }).inc({}, stats.errors);

  const dropped = r.counter({ name: 'meridian_messages_dropped_total', help: 'Messages dropped, by cause.', labelNames: ['cause'] });
  for (const cause of DROP_CAUSES) dropped.inc({ cause }, stats.dropped[cause] ?? 0);

  const byType = r.counter({
    name: 'meridian_messages_by_type_total',
    help: `Messages sent, by type, dropped or not (as meridian_messages_sent_total counts); a wrapped protocol message as wrapper:inner; a batch wire (pxs) once as pxs and each message in it as pxs:inner. Past ${MESSAGE_TYPE_SERIES_MAX} types, the ${MESSAGE_TYPE_SERIES_MAX - 1} most sent have their own series and the others are summed as type="${MESSAGE_TYPE_OTHER}".`,
    labelNames: ['type'],
  });
  for (const [type, n] of messageTypeSeries(stats.types)) byType.inc({ type }, n);

  const linkSent = r.counter({
    name: 'meridian_link_messages_sent_total',
    help: 'Messages sent from one region to another, dropped or not (as meridian_messages_sent_total counts).',
    labelNames: ['from', 'to'],
    seriesMax: atLeast(Object.keys(stats.links).length),
  });
  const linkDropped = r.counter({
    name: 'meridian_link_messages_dropped_total',
    help: 'Messages dropped between two regions (counted in the link sent total too).',
    labelNames: ['from', 'to'],
    seriesMax: atLeast(Object.keys(stats.links).length),
  });
  for (const key of Object.keys(stats.links).sort()) {
    const [from, to] = key.split('->') as [string, string];
    linkSent.inc({ from, to }, stats.links[key]!.sent);
    linkDropped.inc({ from, to }, stats.links[key]!.dropped);
  }

  const regionOf = new Map(input.members.map((m) => [m.id, m.region]));
  const requests = r.counter({
    name: 'meridian_server_requests_total',
    help: 'Client requests executed, per server.',
    labelNames: ['server', 'region'],
    seriesMax: servers,
  });
  const restarts = r.counter({
    name: 'meridian_server_restarts_total',
    help: 'Restarts of each server actor: by restart() after a crash, and by supervision after an error in it.',
    labelNames: ['server', 'region'],
    seriesMax: servers,
  });
  for (const server of Object.keys(stats.servers).sort()) {
    const labels = { server, region: regionOf.get(server) ?? server.split('/')[0]! };
    requests.inc(labels, stats.servers[server]!.requests);
    // Before, supervision restarts only: two crash() and restart() rounds left it at 0.
    restarts.inc(labels, (stats.actors[server]?.restarts ?? 0) + (input.restarted?.[server] ?? 0));
  }

  const txns = r.counter({
    name: 'meridian_transactions_total',
    help: 'Transactions decided by each coordinator, by outcome.',
    labelNames: ['coordinator', 'outcome'],
  });
  // Every coordinator with both outcomes, at 0 until it decides one: an abort series that
  // appeared with the first abort was missed by rate() (an audit, session 61).
  const coordinators = new Set(input.coordinators);
  for (const [address, a] of Object.entries(stats.actors)) {
    if (Object.keys(COUNTER_TXN).some((counter) => a.counters[counter] !== undefined)) coordinators.add(address);
  }
  for (const coordinator of [...coordinators].sort()) {
    for (const [counter, outcome] of Object.entries(COUNTER_TXN)) txns.inc({ coordinator, outcome }, stats.actors[coordinator]?.counters[counter] ?? 0);
  }
  // One balancer a region, each routing to any server.
  const routed = r.counter({
    name: 'meridian_balancer_routed_total',
    help: 'Requests each balancer routed, per server.',
    labelNames: ['balancer', 'server'],
    seriesMax: atLeast(Object.values(stats.actors).reduce((n, a) => n + Object.keys(a.counters).filter((c) => c.startsWith(ROUTED_PREFIX)).length, 0)),
  });
  for (const address of Object.keys(stats.actors).sort()) {
    const counters = stats.actors[address]!.counters;
    for (const [name, n] of Object.entries(counters)) {
      if (name.startsWith(ROUTED_PREFIX)) routed.inc({ balancer: address, server: name.slice(ROUTED_PREFIX.length) }, n);
    }
  }
  const lagGauge = r.gauge({
    name: 'meridian_replication_lag_commands',
    help: "Commands a region's asynchronous copies are behind their shards' leaders (hybrid replication), summed over shards.",
    labelNames: ['region'],
  });
  for (const [region, n] of Object.entries(replicationLagOf(stats, input.regions))) lagGauge.set({ region }, n);

  const memberState = r.gauge({
    name: 'meridian_member_state',
    help: "Each server's state in the first region's balancer view: 0 up, 1 suspect, 2 down.",
    labelNames: ['server', 'region'],
    seriesMax: servers,
  });
  const membersIn = r.gauge({ name: 'meridian_members', help: 'Servers in each state, in the first balancer view.', labelNames: ['state'] });
  const perState = { up: 0, suspect: 0, down: 0 };
  for (const m of input.members) {
    memberState.set({ server: m.id, region: m.region }, MEMBER_STATE_VALUES[m.state]);
    perState[m.state]++;
  }
  for (const [state, n] of Object.entries(perState)) membersIn.set({ state }, n);

  const snapshot = r.snapshot();
  return { families: [...snapshot.families, ...input.client.families] };
}
