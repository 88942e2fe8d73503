// The server and balancer actors' tests (src/cluster/server.ts: reach, local reads, ticks, reads
// forwarded and rerouted, a paused peer; src/cluster/balancer.ts: reroutes, requests too large,
// leader hints, in-flight calls of a server that went down), grouped in one test file: ava runs
// each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the
// module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module
// scope and imports; run one part's tests with `npx ava dist/test/server.test.js --match
// '<title>'`.
import './server-local-read-reach.part.js';
import './server-reach.part.js';
import './fix348.part.js';
import './server-ticks-real-time.part.js';
import './server-forward-reroute.part.js';
import './server-paused-peer.part.js';
import './balancer-reroute.part.js';
import './balancer-too-large.part.js';
import './balancer-leader-hint.part.js';
import './balancer-inflight-down.part.js';
