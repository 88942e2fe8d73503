// The tests of the byte limits (a command, a Multi-Paxos slot and a value under messageBytesMax and
// VALUE_BYTES_MAX), on the cores and in the simulator, grouped in one test file: ava runs each test
// file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module
// graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/bytes.test.js --match '<title>'`.
import './command-bytes.part.js';
import './slot-bytes.part.js';
import './value-bytes.part.js';
