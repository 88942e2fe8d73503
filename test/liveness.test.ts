// The failure detector's and membership's (src/liveness/) tests, grouped in one test file: ava runs
// each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the
// module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module
// scope and imports; run one part's tests with `npx ava dist/test/liveness.test.js --match
// '<title>'`.
import './liveness-membership.part.js';
import './liveness-validate.part.js';
import './liveness-phi.part.js';
import './liveness-estimate.part.js';
