// Pure tests of small pieces (FifoOrder, NumberSet, lazy ticks, the protocol steps' assertions, the
// metrics registry's series, the command-line flags, the bench report, historyFromJson, the mutant
// sweep), grouped in one test file: ava runs each test file in a child process of its own, ~0.7 CPU
// s each (node's start, ava's worker, the module graph), and these tests are small. Each part
// (test/NAME.part.ts) keeps its own module scope and imports; run one part's tests with `npx ava
// dist/test/core.test.js --match '<title>'`.
import './fifo-order.part.js';
import './number-set.part.js';
import './lazy-ticks.part.js';
import './assertions.part.js';
import './limits-metrics.part.js';
import './flags.part.js';
import './bench-report.part.js';
import './ava-helpers-audit61.part.js';
import './core-mutant-helper.part.js';
