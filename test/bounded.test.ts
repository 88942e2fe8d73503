// State that must not grow with the length of a run (operations, leader changes, transactions,
// crashes and restarts), found by a class audit of what grows without bound (session 64),
// grouped in one test file: ava runs each test file in a child process of its own, ~0.7 CPU s
// each. Each part (test/NAME.part.ts) keeps its own module scope and imports; run one part's
// tests with `npx ava dist/test/bounded.test.js --match '<title>'`.
import './bounded-replication.part.js';
import './bounded-runtime.part.js';
