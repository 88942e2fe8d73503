// The simulator tests of holes found by audits in reads, snapshots and values, grouped in one test
// file: ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's
// worker, the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own
// module scope and imports; run one part's tests with `npx ava dist/test/holes.test.js --match
// '<title>'`.
import './holes-definite.part.js';
import './holes-snapshot.part.js';
import './holes-values.part.js';
import './holes-local-reads.part.js';
import './holes-snapshot-cluster.part.js';
import './holes-crash-notice.part.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its parts' simulated clusters run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no threads here).
lowerInliningForThisFile();
