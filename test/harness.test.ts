// The harness's in-process tests: `meridian check` and `meridian verify` run in this process (main
// of src/cli/check.ts and src/cli/verify.ts), the check scenario's balancer, transactions' trace
// hash, verdict and checkpoints, the harness's helpers (session 62's audit), what the public API
// exports and how it checks its inputs, shrinkSeed's rules, --timeline, and the nemesis's fault
// kinds (shrink, timeline and nemesis: files of their own until 2026-12-07; one nemesis test
// starts a one-server threads cluster only to see calls refused there), grouped in one test file:
// ava runs each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's
// worker, the module graph). Each part (test/NAME.part.ts) keeps its own module scope and
// imports; run one part's tests with `npx ava dist/test/harness.test.js --match '<title>'`.
import './check-balancer.part.js';
import './check-txn-hash.part.js';
import './verdict-live.part.js';
import './checkpoint.part.js';
import './harness-audit62.part.js';
import './verify-cli.part.js';
import './verify-audit57.part.js';
import './verify-audit61.part.js';
import './public-args.part.js';
import './public-inputs.part.js';
import './shrink.part.js';
import './timeline.part.js';
import './nemesis.part.js';
