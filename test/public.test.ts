// The public API's tests (what the package exports and how it checks its inputs), grouped in one
// test file: ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start,
// ava's worker, the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps
// its own module scope and imports; run one part's tests with `npx ava dist/test/public.test.js
// --match '<title>'`.
import './public-args.part.js';
import './public-inputs.part.js';
