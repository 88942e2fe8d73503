import type { ActorSpec } from '../runtime/actor.js';
import { ROUTED_REMEMBERED_MAX } from '../core/limits.js';
import type { DirectoryEntry } from '../runtime/host.js';
import type { HostPlan } from '../runtime/transports/runtime.js';
import type { BalancerParams } from './balancer.js';
import type { ResolvedConfig } from './config.js';
import type { HeartbeatParams } from './heartbeat.js';
import type { RegionParams } from './region.js';
import { serverParams } from './replicas.js';
import { balancerAddress, coordinatorAddress, heartbeatAddress, serverId, topologyOf } from './topology.js';
import { regionPriority } from './priority.js';
import { coordinatorParams } from './coordinator.js';

/** The node balancers live on: the calling thread, never crashed. */
export const FRONT_NODE = 'front';

/**
 * Which actors exist and which host runs each. Host 0 is the calling thread (balancers,
 * clients). `dedicated`: one host per region (region actor and coordinator) and one per
 * server (server and heartbeat); `packed`: regions and servers dealt over `threads` hosts.
 */
export function planCluster(config: ResolvedConfig): { plans: HostPlan[]; directory: Map<string, DirectoryEntry> } {
  const topology = topologyOf(config);
  const hb = config.heartbeat as { intervalMs: number };
  const plans: HostPlan[] = [{ id: 0, specs: [], dedicated: false }];
  const directory = new Map<string, DirectoryEntry>();
  const packed = config.placement === 'packed';
  const packedHosts: HostPlan[] = [];
  if (packed) {
    for (let i = 0; i < config.threads; i++) {
      const plan: HostPlan = { id: i + 1, specs: [], dedicated: false };
      packedHosts.push(plan);
      plans.push(plan);
    }
  }
  let dealt = 0;
  const hostFor = (): HostPlan => {
    if (packed) return packedHosts[dealt++ % packedHosts.length]!;
    const plan: HostPlan = { id: plans.length, specs: [], dedicated: true };
    plans.push(plan);
    return plan;
  };
  const add = (plan: HostPlan, spec: ActorSpec): void => {
    plan.specs.push(spec);
    directory.set(spec.address, { host: plan.id, region: spec.region, node: spec.node, index: directory.size });
  };
  const regionNames = config.regions.map((r) => r.name);
  for (const region of config.regions) {
    const plan = hostFor();
    const params: RegionParams = {
      region: region.name,
      servers: Array.from({ length: region.servers }, (_, i) => serverId(region.name, i)),
      regions: regionNames,
      heartbeat: config.heartbeat,
      messageBytesMax: config.messageBytesMax,
    };
    add(plan, { address: region.name, behavior: 'region', params, region: region.name, node: region.name });
    // The coordinator is a failure unit of its own (it crashes and restarts alone), so the
    // region's host runs two nodes and a crash drops actors instead of ending the thread.
    add(plan, {
      address: coordinatorAddress(region.name),
      behavior: 'coordinator',
      params: coordinatorParams(config, region.name),
      region: region.name,
      node: coordinatorAddress(region.name),
    });
    plan.dedicated = false;
    const balancer: BalancerParams = {
      region: region.name,
      priority: regionPriority(region.name, regionNames, config.network),
      regions: regionNames,
      servers: Object.fromEntries(config.regions.map((r) => [r.name, Array.from({ length: r.servers }, (_, i) => serverId(r.name, i))])),
      balancer: config.balancer,
      heartbeatIntervalMs: hb.intervalMs,
      heartbeat: config.heartbeat,
      requestTimeoutMs: config.requestTimeoutMs,
      publishMembers: region.name === regionNames[0],
      shards: config.shards,
    };
    if (config.limits.routedRequests !== ROUTED_REMEMBERED_MAX) balancer.routedRemembered = config.limits.routedRequests;
    add(plans[0]!, { address: balancerAddress(region.name), behavior: 'balancer', params: balancer, region: region.name, node: FRONT_NODE });
  }
  for (const region of config.regions) {
    for (let i = 0; i < region.servers; i++) {
      const id = serverId(region.name, i);
      const plan = hostFor();
      add(plan, { address: id, behavior: 'server', params: serverParams(config, topology, id, region.name), region: region.name, node: id });
      const hbParams: HeartbeatParams = { server: id, monitor: region.name, intervalMs: hb.intervalMs };
      add(plan, { address: heartbeatAddress(id), behavior: 'heartbeat', params: hbParams, region: region.name, node: id });
    }
  }
  return { plans, directory };
}
