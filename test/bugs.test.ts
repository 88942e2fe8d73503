// Regression tests of bugs found by seeds and audits, each short, grouped in one test file: ava
// runs each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker,
// the module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module
// scope and imports; run one part's tests with `npx ava dist/test/bugs.test.js --match '<title>'`.
import './bug-coordinator-failed-start.part.js';
import './bug-failed-start.part.js';
import './bug-2pc-atomicity.part.js';
import './bug-refused-duplicate.part.js';
import './bug-passive-caught-up.part.js';
import './bug-stale-leader-ack.part.js';
import './bug-passive-lost-commit.part.js';
import './restart-audit.part.js';
import './counter-audit.part.js';
import './determinism-audit.part.js';
import './low-defects.part.js';
import './metrics-audit.part.js';
import './noticed.part.js';
import './noticed2.part.js';
import './audit-snapshot.part.js';
import './audit-docs.part.js';
import './audit-stop.part.js';
import './audit-time.part.js';
import './noticed3.part.js';
import './noticed4.part.js';
import './backpressure.part.js';
import './audit-errors.part.js';
import './audit-control.part.js';
import './audit-report.part.js';
import './noticed5.part.js';
import './noticed6.part.js';
import './audit-repeat.part.js';
import './retain.part.js';
import './noticed7.part.js';
import './audit-config.part.js';
import './outlier.part.js';
