import type { Behavior } from '../runtime/actor.js';
import { balancerBehavior } from './balancer.js';
import { coordinatorBehavior } from './coordinator.js';
import { heartbeatBehavior } from './heartbeat.js';
import { regionBehavior } from './region.js';
import { serverBehavior } from './server.js';

/**
 * Every behaviour a cluster host may run, by name. Worker hosts import this module. Each
 * behaviour has its own inbound union (see messages.ts), and a host hands every message to
 * it as that union (see Behavior.receive), so the map holds behaviours of any union.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one map holds behaviours of every state, params and inbound union
export const behaviors = new Map<string, Behavior<any, any, any>>([
  [serverBehavior.name, serverBehavior],
  [heartbeatBehavior.name, heartbeatBehavior],
  [regionBehavior.name, regionBehavior],
  [balancerBehavior.name, balancerBehavior],
  [coordinatorBehavior.name, coordinatorBehavior],
]);
