// Pure tests of small pieces (FifoOrder, NumberSet, lazy ticks, the protocol steps' assertions, the
// metrics registry's series, the command-line flags, the bench report, historyFromJson, the mutant
// sweep, the lazy behaviors, the client's sweep of calls, the NATS transport's assignment checks and
// link, the real-time timers, the state machine's and log's memory bounds, the codec, the byte
// limits of a command, a slot and a value, the layers of src/), grouped in one test file: ava runs
// each test file in a child process of its own, ~0.7 CPU s each (node's start, ava's worker, the
// module graph), and these tests are small. Each part (test/NAME.part.ts) keeps its own module scope
// and imports; run one part's tests with `npx ava dist/test/core.test.js --match '<title>'`.
import './fifo-order.part.js';
import './number-set.part.js';
import './forgotten-marks.part.js';
import './lazy-ticks.part.js';
import './assertions.part.js';
import './limits-metrics.part.js';
import './flags.part.js';
import './bench-report.part.js';
import './ava-helpers-audit61.part.js';
import './core-mutant-helper.part.js';
import './behaviors-lazy.part.js';
import './client-sweep.part.js';
import './nats-assign.part.js';
import './nats-link.part.js';
import './real-timers.part.js';
import './limits-memory.part.js';
import './codec.part.js';
import './command-bytes.part.js';
import './slot-bytes.part.js';
import './value-bytes.part.js';
import './layers.part.js';
