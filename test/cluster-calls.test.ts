// The tests of a cluster's calls in the simulator (clients closed, reads that fail, unknown server
// ids, metrics, link counters, the history of appends, a check's convergence reads, Multi-Paxos
// promises in parts, gathered digests under messageBytesMax, a learner's catch-up, availability
// under one-way cuts, pre-vote, replica states, the inspection calls, public inputs an audit found
// taken without a word; two of them also start a one-server threads cluster to see a call refused
// there), and messages lost with nothing to recover them or copied or delivered late that did harm
// (lost-replication, lost-control, copied-late: class audits of every message type, session 64;
// test/message-faults.test.ts until 2026-12-07), grouped in one test file: ava runs each test file
// in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the module graph).
// Each part (test/NAME.part.ts) keeps its own module scope and imports; run one part's tests with
// `npx ava dist/test/cluster-calls.test.js --match '<title>'`.
import './client-close.part.js';
import './read-failures.part.js';
import './unknown-server-errors.part.js';
import './metrics-calls.part.js';
import './link-counters.part.js';
import './history-append.part.js';
import './convergence-reads.part.js';
import './promise-parts.part.js';
import './gathered-bytes.part.js';
import './learner-catch-up.part.js';
import './availability-oneway.part.js';
import './multipaxos-prevote.part.js';
import './replica-state.part.js';
import './inspect-calls.part.js';
import './input-audit.part.js';
import './lost-replication.part.js';
import './lost-control.part.js';
import './copied-late.part.js';
