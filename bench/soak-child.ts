/**
 * The soak suite's own process (bench/soak.ts forks it): the RSS it samples is then the
 * soak's alone, whatever suites ran before it in the caller's process. It runs one soak of
 * the size its argument names, sends each progress line and then the result to its parent
 * over the IPC channel, and exits; it exits too if the parent goes away.
 */
import { soak, SOAK_SIZES, type SoakChildMessage } from './soak.js';
import type { Mode } from './lib/suite.js';

const mode = process.argv[2] as Mode;
if (process.send === undefined || !(mode in SOAK_SIZES)) {
  process.stderr.write(`soak-child: run by bench/soak.ts over IPC, with a size (${Object.keys(SOAK_SIZES).join(', ')}); got ${JSON.stringify(mode)}\n`);
  process.exit(2);
}
let finished = false;
// Ctrl-C at a terminal reaches this process too (its process group's): it ends through
// process.exit, as on a disconnect, so that its cluster's temporary folder goes with it
// (src/runtime/temp-dirs.ts); killed by the signal, it left the folder behind.
for (const name of ['SIGINT', 'SIGTERM'] as const) process.on(name, () => process.exit(1));
// The parent gone (killed, or its run interrupted): nobody reads the result.
process.on('disconnect', () => {
  if (!finished) process.exit(1);
});
const send = (message: SoakChildMessage): Promise<void> => new Promise((resolve) => process.send!(message, () => resolve()));
let last: SoakChildMessage;
try {
  last = { kind: 'result', result: await soak(SOAK_SIZES[mode], (line) => void send({ kind: 'log', line })) };
} catch (error) {
  last = { kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
await send(last);
finished = true;
process.disconnect();
