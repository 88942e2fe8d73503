import type { Behavior } from '../runtime/actor.js';
import { balancerBehavior } from './balancer.js';
import { coordinatorBehavior } from './coordinator.js';
import { heartbeatBehavior } from './heartbeat.js';
import { regionBehavior } from './region.js';
import { serverBehavior } from './server.js';

/**
 * Every behaviour a cluster host may run, by name. Worker hosts import this module. Each has
 * its own inbound union (the host hands it whatever the codec decoded for its address), so
 * the map holds them with any union.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- behaviours of different inbound unions side by side
export const behaviors = new Map<string, Behavior<any, any, any>>([
  [serverBehavior.name, serverBehavior],
  [heartbeatBehavior.name, heartbeatBehavior],
  [regionBehavior.name, regionBehavior],
  [balancerBehavior.name, balancerBehavior],
  [coordinatorBehavior.name, coordinatorBehavior],
]);
