/**
 * The soak suite's own process (bench/soak.ts forks it): the RSS it samples is then the
 * soak's alone, whatever suites ran before it in the caller's process. It runs one soak of
 * the size its argument names, sends each progress line and then the result to its parent
 * over the IPC channel, and exits; it exits too if the parent goes away.
 */
import { soak, SOAK_SIZES, type SoakChildMessage } from './soak.js';
import type { Mode } from './lib/suite.js';

const send = (message: SoakChildMessage): void => {
  process.send?.(message);
};
const mode = process.argv[2] as Mode;
process.on('disconnect', () => process.exit(1));
if (process.send === undefined || !(mode in SOAK_SIZES)) {
  process.stderr.write(`soak-child: run by bench/soak.ts over IPC, with a size (${Object.keys(SOAK_SIZES).join(', ')}); got ${JSON.stringify(mode)}\n`);
  process.exit(2);
}
try {
  const result = await soak(SOAK_SIZES[mode], (line) => send({ kind: 'log', line }));
  send({ kind: 'result', result });
} catch (error) {
  send({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
process.disconnect();
