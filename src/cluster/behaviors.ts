import type { Behavior } from '../runtime/actor.js';
import { balancerBehavior } from './balancer.js';
import { coordinatorBehavior } from './coordinator.js';
import { heartbeatBehavior } from './heartbeat.js';
import { regionBehavior } from './region.js';
import { serverBehavior } from './server.js';

/** Every behaviour a cluster host may run, by name. Worker hosts import this module. */
export const behaviors = new Map<string, Behavior>([
  [serverBehavior.name, serverBehavior],
  [heartbeatBehavior.name, heartbeatBehavior],
  [regionBehavior.name, regionBehavior],
  [balancerBehavior.name, balancerBehavior],
  [coordinatorBehavior.name, coordinatorBehavior],
]);
