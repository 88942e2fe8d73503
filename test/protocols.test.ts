// The protocol cores' (src/protocols/) scripted tests, and snapshots sent in pieces
// (src/protocols/snapshot-pieces.ts: its cores and clusters in the simulator; a file of its own
// until 2026-12-07), grouped in one test file: ava runs each test
// file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/protocols.test.js --match '<title>'`.
import './protocols-commit.part.js';
import './protocols-twopc.part.js';
import './protocols-threepc.part.js';
import './protocols-paxos.part.js';
import './protocols-paxoscommit.part.js';
import './commit-begin.part.js';
import './snapshot-pieces.part.js';
