import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a script run by `runNode` did: its exit code (null when killed at its bound), stdout and stderr. */
export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node ARGS` in a new process, killed after `timeoutMs`. */
function node(args: readonly string[], timeoutMs: number): Promise<NodeRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/**
 * `node FILE ARGS` in a new process, as a user runs a command or a bench script (`file` as the
 * test names it: `new URL('../src/cli.js', import.meta.url)`), killed after `timeoutMs`.
 */
export function runNode(file: URL, args: readonly string[], timeoutMs: number): Promise<NodeRun> {
  return node([fileURLToPath(file), ...args], timeoutMs);
}

/** `node --input-type=module -e SOURCE` in a new process (a script the test writes), killed after `timeoutMs`. */
export function runNodeScript(source: string, timeoutMs: number): Promise<NodeRun> {
  return node(['--input-type=module', '-e', source], timeoutMs);
}
