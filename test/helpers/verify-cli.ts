/** `meridian verify` run in process, and on a text written to a temporary file (the verify tests'). */
import type { ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/verify.js';

export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `meridian verify ARGS`: its exit code and what it wrote to stdout and stderr. */
export async function verify(args: string[]): Promise<VerifyRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (l) => (stdout += `${l}\n`), err: (l) => (stderr += `${l}\n`) });
  return { code, stdout, stderr };
}

/** verify on `text`, written to a file named `name` in a temporary folder (removed after). */
export function onFile(name: string, text: string, flags: string[] = []): (t: ExecutionContext) => Promise<VerifyRun> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-verify-'));
    try {
      const file = join(dir, name);
      writeFileSync(file, text);
      return await verify([file, ...flags]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
