// Messages lost with nothing to recover them, found by a class audit of every message type
// dropped alone, then the network healed (session 64), grouped in one test file: ava runs each
// test file in a child process of its own, ~0.7 CPU s each. Each part (test/NAME.part.ts) keeps
// its own module scope and imports; run one part's tests with `npx ava
// dist/test/lost-messages.test.js --match '<title>'`.
import './lost-replication.part.js';
import './lost-control.part.js';
