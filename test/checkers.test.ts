// The history checkers' tests: linearizability (src/harness/linearizability.ts, its pool) and Elle
// (src/harness/elle/), pure and randomized, and against Porcupine's verdicts on recorded histories
// (checker-data, a file of its own until 2026-12-07), grouped in one test file: ava runs each test
// file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph). Each part (test/NAME.part.ts) keeps its own module scope and imports; run one part's
// tests with `npx ava dist/test/checkers.test.js --match '<title>'`.
import './checker.part.js';
import './checker-data.part.js';
import './elle-edn.part.js';
import './elle-budget.part.js';
import './elle-mixed-keys.part.js';
import './elle-anomalies.part.js';
import './elle-graph.part.js';
import './elle-validate.part.js';
import './elle-bench.part.js';
import './elle-isolation.part.js';
import './elle-random.part.js';
