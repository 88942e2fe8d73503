/**
 * Helpers for test suites that embed Meridian. Written for ava, but `t` is typed by shape (an
 * object with `log` and `teardown`), so src does not import ava (a devDependency) and any
 * runner with the same two calls works.
 */
import { startCluster, type AssertionFailure, type Cluster } from '../cluster/cluster.js';
import type { ClusterConfig } from '../cluster/config.js';
import { StoppedError, TimeoutError, ValidationError, describe } from '../core/errors.js';
import { checkOptions, waitMs } from '../core/validate.js';
import { ActorErrorWatch } from './actor-errors.js';

/** The part of ava's `t` the helpers use. */
export interface TestContextLike {
  log(...values: unknown[]): void;
  teardown(fn: () => unknown): void;
}

/** How often `eventually` looks again, by default (cluster time). */
export const EVENTUALLY_INTERVAL_MS_DEFAULT = 50;
export const EVENTUALLY_TIMEOUT_MS_DEFAULT = 5_000;
/**
 * The shortest interval taken. Any number > 0 was: in sim, 1e-6 ms made 10 million tries of a
 * 10 ms wait (44 s of wall time), and 1e-300 ms never moved the clock (now + 1e-300 is now), so
 * eventually never returned (an audit, session 61). A timer in real time fires after 1 ms at
 * the soonest anyway.
 */
export const EVENTUALLY_INTERVAL_MS_MIN = 1;

/**
 * A broken invariant inside an actor, reported as a test failure: `assert`s that failed, and
 * (`actorErrors`, lines of an ActorErrorWatch) any other error an actor threw.
 */
export class InvariantFailure extends Error {
  /**
   * `startedAtMs`: the cluster's clock when it started, given for a real-time cluster, whose
   * clock reads the wall clock (ms since 1970); the message then says how long after the start
   * the first assertion failed. Left out (sim, virtual time from 0), it says the cluster time.
   */
  constructor(
    readonly failures: AssertionFailure[],
    readonly seed: number,
    startedAtMs?: number,
    readonly actorErrors: readonly string[] = [],
  ) {
    // withCluster makes it from a non-empty list; made by hand with anything else, it still
    // says what it was given rather than fail with a TypeError.
    const list: unknown = failures;
    const first: Partial<AssertionFailure> | undefined =
      Array.isArray(list) && typeof list[0] === 'object' && list[0] !== null ? (list[0] as AssertionFailure) : undefined;
    const errors: unknown = actorErrors;
    const thrown = Array.isArray(errors) && errors.length > 0 ? errors.map((e) => String(e)).join('; ') : undefined;
    super(
      first === undefined
        ? thrown === undefined
          ? `assertions failed inside actors (seed ${seed}), but none was given: ${describe(list)}`
          : `errors were thrown inside actors (seed ${seed}): ${thrown}`
        : `${failures.length} assertion${failures.length === 1 ? '' : 's'} failed inside actors (seed ${seed}); first: ${first.address} ${typeof first.atMs === 'number' ? when(first.atMs, startedAtMs) : `at cluster time ${describe(first.atMs)} ms`}: ${first.message}${thrown === undefined ? '' : `; and ${thrown}`}`,
    );
    this.name = 'InvariantFailure';
  }
}

/** withCluster's options. */
export interface WithClusterOptions {
  /**
   * Let errors other than a failed `assert` thrown inside actors pass (default false: they
   * fail the test, as they fail a scenario's seed). For tests that cause them on purpose (a
   * log damaged to see a server refuse to start); failed asserts fail the test all the same.
   */
  allowActorErrors?: boolean;
}

/**
 * When something happened, as the logs say it: the cluster time in sim (virtual, from 0, the
 * time a replay's trace shows), else the time since the cluster started (a real-time cluster's
 * clock is the wall clock: "at cluster time 1796619959497 ms" said nothing).
 */
function when(atMs: number, startedAtMs: number | undefined): string {
  return startedAtMs === undefined || !Number.isFinite(startedAtMs)
    ? `at cluster time ${atMs.toFixed(0)} ms`
    : `${(atMs - startedAtMs).toFixed(0)} ms after the cluster started`;
}

/**
 * Start a cluster, run `body` with it, and always stop it: when the body returns, when it
 * throws, and (through `t.teardown`) when the test times out. The seed is logged first, so
 * a failing test shows what to replay; when the body throws, the error is logged beside the
 * seed and rethrown, and when the test ends first (a timeout), the teardown logs the seed
 * and the time. An `assert` that failed inside an actor while the body ran (the actor
 * was restarted, and the body may not have noticed) fails the test: an InvariantFailure
 * naming the actor, the seed and the message, thrown after a body that returned, logged
 * beside the error of one that threw or beside the seed of a test that timed out. Any other
 * error thrown inside an actor (a TypeError, a timer refused) is a bug as well and fails the
 * test the same way, unless `options.allowActorErrors` (a test that damages a log on purpose):
 * until an audit (session 67) it failed only scenarios' seeds, and here passed unseen.
 * Times are cluster time in sim, else ms since the cluster started.
 */
export async function withCluster<T>(
  t: TestContextLike,
  config: ClusterConfig,
  body: (cluster: Cluster) => Promise<T>,
  options: WithClusterOptions = {},
): Promise<T> {
  // Checked before any thread starts: a cluster started for a call that cannot go on would
  // have to be stopped again (and one left running keeps the process alive).
  checkTestContext(t);
  if (typeof body !== 'function') throw new ValidationError('body', `a function of the cluster, got ${describe(body)}`);
  checkOptions(options, 'options', ['allowActorErrors']);
  if (options.allowActorErrors !== undefined && typeof options.allowActorErrors !== 'boolean')
    throw new ValidationError(
      'options.allowActorErrors',
      `true or false (whether errors thrown inside actors other than a failed assert pass), got ${describe(options.allowActorErrors)}`,
    );
  const cluster = await startCluster(config);
  // A real-time cluster's clock is the wall clock: times are said from its start (see `when`).
  const startedAtMs = cluster.transport === 'sim' ? undefined : cluster.now();
  const actorErrors = options.allowActorErrors === true ? undefined : ActorErrorWatch.attach(cluster, cluster.now());
  /** The assertions that failed inside actors and the other errors they threw, or undefined when none. */
  const broken = (): InvariantFailure | undefined => {
    const failures = cluster.assertionFailures();
    const errors = actorErrors?.lines() ?? [];
    return failures.length === 0 && errors.length === 0 ? undefined : new InvariantFailure(failures, cluster.seed, startedAtMs, errors);
  };
  const brokenInvariants = (): string | undefined => broken()?.message;
  let settled = false;
  try {
    // Logged first, so that a `t` whose teardown throws still leaves the seed in the log.
    // Only a simulated run replays from its seed: on threads and NATS the seed draws the same
    // choices (a Nemesis's plan), but the timing is the machine's (it said "replay with
    // seed" there too until an audit, session 61).
    t.log(
      cluster.transport === 'sim'
        ? `cluster seed ${cluster.seed} (transport sim; replay with seed: ${cluster.seed})`
        : `cluster seed ${cluster.seed} (transport ${cluster.transport}, real time: the seed draws the same Nemesis plan, but does not replay the run)`,
    );
    // Registered before the body runs: ava runs teardowns even when a test times out. Then the
    // body has not settled, and nothing else would say when the test ended or what actors broke.
    t.teardown(() => {
      if (!settled) {
        const at = cluster.isStopped ? '' : ` ${when(cluster.now(), startedAtMs)}`;
        const said = brokenInvariants();
        try {
          t.log(`the test ended before the body did (timed out?), seed ${cluster.seed}${at}${said === undefined ? '' : `; ${said}`}`);
        } catch {
          // The cluster is stopped all the same.
        }
      }
      return cluster.stop();
    });
    const value = await body(cluster);
    settled = true;
    const failure = broken();
    if (failure !== undefined) throw failure;
    return value;
  } catch (error) {
    settled = true;
    const at = cluster.isStopped ? '' : ` ${when(cluster.now(), startedAtMs)}`;
    // A body that threw (a call that timed out, say) may have thrown because an actor broke an
    // invariant: the failures are said beside its error, which is the one rethrown (they were
    // not said at all before: an audit, session 61).
    const said = error instanceof InvariantFailure ? undefined : brokenInvariants();
    try {
      t.log(`failed with seed ${cluster.seed}${at}: ${error instanceof Error ? error.message : String(error)}`);
      if (said !== undefined) t.log(`and meanwhile ${said}`);
    } catch {
      // A `t.log` that throws (it threw above, say) must not hide the error that ended the run.
    }
    throw error;
  } finally {
    await cluster.stop();
  }
}

/** `t` must have the two calls withCluster makes (ava's `t` has them). */
function checkTestContext(t: unknown): asserts t is TestContextLike {
  if (typeof t !== 'object' || t === null)
    throw new ValidationError('t', `the test's context (ava's t), an object with log() and teardown(), got ${describe(t)}`);
  const context = t as Record<string, unknown>;
  for (const method of ['log', 'teardown']) {
    if (typeof context[method] !== 'function') throw new ValidationError(`t.${method}`, `a function (ava's t.${method}), got ${describe(context[method])}`);
  }
}

export interface EventuallyOptions {
  /** Give up after this much cluster time (virtual in sim): 0 to WAIT_MS_MAX (an hour). */
  timeoutMs?: number;
  /** Cluster time between tries: EVENTUALLY_INTERVAL_MS_MIN to WAIT_MS_MAX. */
  intervalMs?: number;
  /** Says what was awaited, in the error. */
  message?: string;
}

/**
 * Call `check` until it returns something other than `false` without throwing, sleeping on
 * the cluster's clock in between (so in sim the cluster runs while this waits); resolves with
 * that value. After `timeoutMs` it throws an error carrying the last failure; a try under way
 * then is not cut short, so a check that awaits a client call may keep it waiting up to that
 * call's timeout (the error then says how long it waited). If the cluster
 * stops meanwhile, it rejects with a StoppedError carrying the last failure (see
 * `Cluster.sleep`), also when the stop came during a try that ended past the deadline (a
 * `cluster` with `isStopped`, as a Cluster has).
 */
export async function eventually<T>(
  cluster: Pick<Cluster, 'sleep' | 'now'>,
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  // Checked first: a check that is no function failed every try until the timeout, then read as "not true".
  const given: unknown = cluster;
  const target = typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : undefined;
  if (target === undefined || typeof target.sleep !== 'function' || typeof target.now !== 'function')
    throw new ValidationError('cluster', `a cluster (or an object with sleep() and now()), got ${describe(cluster)}`);
  if (typeof check !== 'function') throw new ValidationError('check', `a function returning false (not yet) or anything else (done), got ${describe(check)}`);
  checkOptions(options, 'options', ['timeoutMs', 'intervalMs', 'message']);
  const timeoutMs = waitMs(options.timeoutMs ?? EVENTUALLY_TIMEOUT_MS_DEFAULT, 'options.timeoutMs');
  const intervalMs = waitMs(options.intervalMs ?? EVENTUALLY_INTERVAL_MS_DEFAULT, 'options.intervalMs', EVENTUALLY_INTERVAL_MS_MIN);
  if (options.message !== undefined && typeof options.message !== 'string')
    throw new ValidationError('options.message', `a string (said in the error when the check is not true in time), got ${describe(options.message)}`);
  const what = options.message === undefined ? '' : ` (${options.message})`;
  const startedMs = cluster.now();
  const deadline = startedMs + timeoutMs;
  let last = 'it returned false';
  /** What the last try threw, for the TimeoutError's cause. */
  let lastError: unknown;
  let tries = 0;
  const stoppedAfter = (): StoppedError => {
    const stopped = new StoppedError(`eventually${what}: the cluster stopped after ${triesSaid(tries)}; last: ${last}`);
    if (lastError !== undefined) stopped.cause = lastError;
    return stopped;
  };
  for (;;) {
    tries++;
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
      last = 'it returned false';
      lastError = undefined;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      lastError = error;
    }
    const left = deadline - cluster.now();
    if (left <= 0) break;
    try {
      await cluster.sleep(Math.min(intervalMs, left));
    } catch (error) {
      if (!(error instanceof StoppedError)) throw error;
      throw stoppedAfter();
    }
  }
  // Stopped while the last try ran past the deadline (a real-time cluster, whose clock runs on
  // after stop()): that is what happened, not a timeout (it said "not true after 100 ms; last:
  // the cluster is stopped": an audit, session 62).
  if (target.isStopped === true) throw stoppedAfter();
  // A MeridianError, as every error of the package (a plain Error until 2026-12-06: an audit,
  // session 57), with what the last try threw as its cause.
  // A try is not cut short (a check awaiting a call waits as long as the call): when the last
  // one ran past the deadline, the error says how long it really waited (it said "after 1000
  // ms" when 3000 had passed: an audit, session 61).
  const waitedMs = cluster.now() - startedMs;
  const overran = waitedMs > timeoutMs + intervalMs ? ` (the last try ended ${waitedMs.toFixed(0)} ms after the first began)` : '';
  const timedOut = new TimeoutError(`eventually${what}: not true after ${timeoutMs} ms and ${triesSaid(tries)}${overran}; last: ${last}`);
  if (lastError !== undefined) timedOut.cause = lastError;
  throw timedOut;
}

function triesSaid(tries: number): string {
  return tries === 1 ? '1 try' : `${tries} tries`;
}
