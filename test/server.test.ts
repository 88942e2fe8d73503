// The server actor's tests (src/cluster/server.ts: reach, local reads, ticks), grouped in one test
// file: ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's
// worker, the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own
// module scope and imports; run one part's tests with `npx ava dist/test/server.test.js --match
// '<title>'`.
import './server-local-read-reach.part.js';
import './server-reach.part.js';
import './server-ticks-real-time.part.js';
