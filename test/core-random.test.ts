// The randomized tests of the cores (3PC, 2PC, the participants, the memory store, the state
// machine, passive effects, a learner's feed, passive reads), each over seeds of its own and each
// with the broken variants ("mutants", test/helpers/core-mutant.ts) it must catch, grouped in one
// test file: ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start,
// ava's worker, the module graph). Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/core-random.test.js --match '<title>'`.
import './threepc-random.part.js';
import './twopc-random.part.js';
import './twopc-stale.part.js';
import './participant-random.part.js';
import './memorystore-random.part.js';
import './statemachine-random.part.js';
import './effect-sequence.part.js';
import './learner-quiet.part.js';
import './passive-reads.part.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its cores' randomized runs run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no part boots threads).
lowerInliningForThisFile();
