// The randomized tests of the transaction coordinator (its marks of forgotten request ids, crashes
// right after durable writes) and of Paxos Commit (late copies and votes, duelling leaders), each
// over seeds of its own and with the broken variants it must catch, grouped in one test file: ava
// runs each test file in a child process of its own, ~0.7-1 CPU s each (node's start, ava's
// worker, the module graph, JIT). Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/commit-random.test.js --match '<title>'`.
import './coordinator-random.part.js';
import './coordinator-marks.part.js';
import './paxoscommit-random.part.js';
import './paxoscommit-duel.part.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its cores' randomized runs run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no part boots threads).
lowerInliningForThisFile();
