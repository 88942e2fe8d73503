// Tests pinned to bugs the simulator found (docs/findings.md): the seeds that found each, and unit
// tests of the sequence at the level of the cores (2PC restarts, passive divergence, stale reads,
// late prepares, late crash notices), grouped in one test file: ava runs each test file in a child
// process of its own, ~0.7-1 CPU s each (node's start, ava's worker, the module graph, JIT), and
// each of these ran the same scenario code cold in a process of its own until 2026-12-07. Each
// part (test/NAME.part.ts) keeps its own module scope and imports; run one part's tests with `npx
// ava dist/test/bug-regressions.test.js --match '<title>'`.
import './bug-2pc-restart.part.js';
import './bug-passive-diverge.part.js';
import './bug-stale-read.part.js';
import './bug-late-prepare.part.js';
import './bug-late-crash-notice.part.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its parts' seeds run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no part boots threads).
lowerInliningForThisFile();
