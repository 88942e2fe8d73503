// The balancing strategies' (src/balance/) pure tests, grouped in one test file: ava runs each test
// file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/balance.test.js --match '<title>'`.
import './balance-hashing.part.js';
import './balance-load.part.js';
import './balance-locality.part.js';
import './balance-outlier.part.js';
import './balance-strategies.part.js';
import './balance-validate.part.js';
