/**
 * Task entry of `meridian check`'s pool threads (piscina's `filename`). Piscina require()s its
 * task file, and on Node 20.19 require() of an ES module (workers/scenario.js) loads and links
 * its whole graph synchronously: a pool thread ended in the middle of that (a second Ctrl-C
 * quitting at once) died with a V8 fatal error, "v8::Module::IsGraphAsync must be used on an
 * instantiated module", which aborted the whole process instead of its exit 130 (a fresh-clone
 * CI run of cli-leftovers' double Ctrl-C test, session 58). This CommonJS entry loads the
 * scenario module with import() instead, the loader an ended thread leaves cleanly.
 */
type Scenario = typeof import('./scenario.js').default;

let scenario: Promise<Scenario> | undefined;

async function run(job: Parameters<Scenario>[0]): ReturnType<Scenario> {
  scenario ??= import('./scenario.js').then((m) => m.default);
  return (await scenario)(job);
}

export = run;
