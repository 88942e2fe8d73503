// The transaction path's tests (client, coordinator, participants: in the simulator, on a model of
// a shard or with a recording context; read-only transactions' definite answers, a coordinator cut
// off, transactions that are not live), grouped in one test file: ava runs each test file in a
// child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module graph), and
// these tests are small. Each part (test/NAME.part.ts) keeps its own module scope and imports; run
// one part's tests with `npx ava dist/test/txn.test.js --match '<title>'`.
import './txn-client.part.js';
import './txn-abort-reason.part.js';
import './txn-batching.part.js';
import './txn-ops.part.js';
import './txn-start.part.js';
import './coordinator-too-large.part.js';
import './coordinator-crash-inflight.part.js';
import './participant-refused.part.js';
import './participant-indoubt.part.js';
import './txn-readonly-definite.part.js';
import './coordinator-cut.part.js';
import './txn-not-live.part.js';
import { lowerInliningForThisFile } from './helpers/inlining.js';

// Its simulated clusters and seeds run in this thread: V8's inlining budget lowered for the
// whole file, as a pool's seeds get it (test/helpers/inlining.ts; no part boots threads).
lowerInliningForThisFile();
