/**
 * Worker-thread entry of a cluster's hosts (src/cluster/cluster.ts picks it): host.ts with
 * the cluster's behaviours built in instead of imported from the module the calling thread
 * names. `npm run build` bundles it with everything it imports into one file,
 * dist/workers/cluster-host.bundle.cjs (scripts/bundle-workers.mjs): every worker thread
 * loads and links its modules on its own, and one file instead of some sixty took a 3 x 3
 * dedicated boot from 840-1,010 ms to 550-630 ms (alternated, 2026-12-01; 12 empty workers
 * alone took 550-610 ms on that machine).
 */
import { behaviors } from '../src/cluster/behaviors.js';
import { runHost } from './host-main.js';

// Every behaviour, whichever this host runs: what importBehaviors answers for a module that
// exports the `behaviors` map.
runHost(async () => behaviors);
