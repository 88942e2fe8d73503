import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ThreadsRuntime } from '../../src/runtime/transports/threads.js';
import { eventually, runtimeWith } from './runtimes.js';

/** A threads runtime whose host 1 is held in a step, for the tests of calls that host never answers. */
export interface StalledHost {
  rt: ThreadsRuntime;
  /** Whether host 1 was seen to hold (its actor began the stall). */
  holds: boolean;
  /** Whether host 1 is still held now. */
  held(): boolean;
  /** controlLate's message for `op` on host 1 with controlAnswerMs 50 (`op` as the error names it: `pause of node echo/a`). */
  late(op: string): RegExp;
  /** Let host 1 go, stop the runtime and remove the stall's files. */
  release(): Promise<void>;
}

/**
 * echo/a on host 1 and echo/b on host 2, host 1 held in a step (a fixture `stall`, 5 s at most:
 * on code without a bound, a call to it waited that long, then resolved) and the runtime's
 * controlAnswerMs lowered to 50.
 */
export async function stalledHostOne(): Promise<StalledHost> {
  const rt = (await runtimeWith('threads', [
    { host: 1, address: 'echo/a', behavior: 'echo', params: {} },
    { host: 2, address: 'echo/b', behavior: 'echo', params: {} },
  ])) as ThreadsRuntime;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-stalled-'));
  const began = join(dir, 'began');
  const until = join(dir, 'until');
  const release = async (): Promise<void> => {
    writeFileSync(until, '');
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    rt.host.route('tester', 'echo/a', { type: 'stall', began, until, maxMs: 5_000 });
    const holds = await eventually(rt, () => existsSync(began));
    rt.controlAnswerMs = 50;
    return {
      rt,
      holds,
      held: () => existsSync(began) && !existsSync(until),
      late: (op) =>
        new RegExp(`^${op}: host 1 \\(echo/a\\) did not answer within 50 ms \\(stalled, or busy in a long step\\); it may or may not have been carried out$`),
      release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}
