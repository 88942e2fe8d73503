import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./scripts/start-stop.js', import.meta.url));

/** Runs the script in a fresh process; resolves with its exit code, or 'hung' after `limitMs`. */
function run(args: string[], limitMs: number): Promise<{ code: number | null | 'hung'; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', out });
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

for (const args of [
  ['threads', 'dedicated'],
  ['threads', 'packed'],
  ['sim', 'dedicated'],
]) {
  test(`stop() leaves nothing running: a ${args.join('/')} script exits by itself`, async (t) => {
    const result = await run(args, 20_000);
    t.is(result.code, 0, result.out);
    t.regex(result.out, /stopped/);
  });
}
