import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a script run by `runNode` did: its exit code (null when killed at its bound), stdout and stderr. */
export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `command ARGS` in a new process (in `cwd`, default this one's), killed after `timeoutMs`. */
export function runCommand(command: string, args: readonly string[], timeoutMs: number, cwd?: string): Promise<NodeRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** `node ARGS` in a new process, killed after `timeoutMs`. */
function node(args: readonly string[], timeoutMs: number): Promise<NodeRun> {
  return runCommand(process.execPath, args, timeoutMs);
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
