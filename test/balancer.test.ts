// The balancer's (src/cluster/balancer.ts) simulator tests, grouped in one test file: ava runs each
// test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/balancer.test.js --match '<title>'`.
import './balancer-reroute.part.js';
import './balancer-too-large.part.js';
import './balancer-leader-hint.part.js';
import './balancer-inflight-down.part.js';
