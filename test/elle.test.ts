// The Elle checker's (src/harness/elle/) pure tests, grouped in one test file: ava runs each test
// file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/elle.test.js --match '<title>'`.
import './elle-edn.part.js';
import './elle-budget.part.js';
import './elle-mixed-keys.part.js';
import './elle-anomalies.part.js';
import './elle-graph.part.js';
import './elle-validate.part.js';
import './elle-bench.part.js';
import './elle-isolation.part.js';
