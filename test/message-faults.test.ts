// Messages lost with nothing to recover them, and messages copied or delivered late that did
// harm, found by class audits of every message type (session 64), grouped in one test file:
// ava runs each test file in a child process of its own, ~0.7 CPU s each. Each part
// (test/NAME.part.ts) keeps its own module scope and imports; run one part's tests with
// `npx ava dist/test/message-faults.test.js --match '<title>'`.
import './lost-replication.part.js';
import './lost-control.part.js';
import './copied-late.part.js';
