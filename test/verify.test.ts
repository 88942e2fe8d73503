// The tests of `meridian verify` (src/cli/verify.ts, run in-process), grouped in one test file: ava
// runs each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker,
// the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module
// scope and imports; run one part's tests with `npx ava dist/test/verify.test.js --match
// '<title>'`.
import './verify-cli.part.js';
import './verify-audit57.part.js';
import './verify-audit61.part.js';
