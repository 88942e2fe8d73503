import type { BehaviorExport } from '../runtime/transports/behaviors-module.js';

/**
 * Where each behaviour of behaviors.ts is, without importing any: the module worker hosts
 * load (`behaviorsModule`; see runtime/transports/behaviors-module.ts). A dedicated server
 * thread then loads the server's and heartbeat's code and not the balancer's (which runs on
 * the calling thread) or the coordinator's; a region thread the other way round. Each worker
 * thread loads and compiles its modules on its own, so a module fewer is boot time saved on
 * every thread. test/behaviors-lazy.part.ts checks this list against behaviors.ts.
 */
const at = (module: string, name: string): BehaviorExport => ({ module: new URL(module, import.meta.url).href, export: name });

export const behaviorModules: Record<string, BehaviorExport> = {
  server: at('./server.js', 'serverBehavior'),
  heartbeat: at('./heartbeat.js', 'heartbeatBehavior'),
  region: at('./region.js', 'regionBehavior'),
  balancer: at('./balancer.js', 'balancerBehavior'),
  coordinator: at('./coordinator.js', 'coordinatorBehavior'),
};
