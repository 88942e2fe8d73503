/**
 * Worker-thread entry of a cluster's hosts (src/cluster/cluster.ts picks it): host.ts with
 * the cluster's behaviours built in instead of imported from the module the calling thread
 * names. `npm run build` bundles it with everything it imports into one file,
 * dist/workers/cluster-host.bundle.js (scripts/bundle-workers.mjs): every worker thread
 * loads and links its modules on its own, and one file instead of some sixty cut a 3 x 3
 * dedicated boot's module loading by about two thirds (see the commit that added it).
 */
import { behaviors } from '../src/cluster/behaviors.js';
import type { Behavior } from '../src/runtime/actor.js';
import { runHost } from './host-main.js';

runHost(async (behaviorsModule, names) => {
  const out = new Map<string, Behavior>();
  for (const name of new Set(names)) {
    const behavior = behaviors.get(name);
    if (behavior === undefined) throw new Error(`the cluster host has no behaviour ${JSON.stringify(name)} (asked for by ${behaviorsModule})`);
    out.set(name, behavior);
  }
  return out;
});
