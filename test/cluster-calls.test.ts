// The tests of a cluster's calls in the simulator (clients closed, reads that fail, unknown server
// ids, metrics, link counters, the history of appends, a check's convergence reads), grouped in one
// test file: ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start,
// ava's worker, the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps
// its own module scope and imports; run one part's tests with `npx ava
// dist/test/cluster-calls.test.js --match '<title>'`.
import './client-close.part.js';
import './read-failures.part.js';
import './unknown-server-errors.part.js';
import './metrics-calls.part.js';
import './link-counters.part.js';
import './history-append.part.js';
import './convergence-reads.part.js';
