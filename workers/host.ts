/**
 * Worker-thread entry: one host. Startup handshake: build the host, post `ready`; take peer
 * ports; on `start` spawn the actors and post `started`. At boot the calling thread sends
 * the peers without waiting for `ready` (they wait in this thread's queue while it loads),
 * and `start` once every host is ready; a host started again after a crash is sent its
 * peers after `ready`. Control calls come over comlink.
 * The messages, both ways, are typed in src/runtime/transports/worker-protocol.ts.
 */
import { importBehaviors } from '../src/runtime/transports/behaviors-module.js';
import { runHost } from './host-main.js';

runHost(importBehaviors);
