/**
 * Checks a history key by key on a piscina pool: keys are independent objects for both models,
 * so their searches share nothing. Small histories are checked inline, since starting threads
 * costs more than they do. The pool lives for one call and is destroyed before it returns; a
 * thread that fails rejects the call, naming the keys it checked (runPoolTasks).
 */
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../core/errors.js';
import type { History, HistoryOp } from '../core/history.js';
import { CHECK_OPTION_KEYS, checkHistory, finish, sharedCheckState, validateHistory, type CheckOptions, type CheckResult } from './linearizability.js';
import { allKeys, checkOptions as checkOptionKeys } from '../core/validate.js';
import type { ModelName } from './models.js';
import type { CheckTask } from '../../workers/checker.js';
import { keysText, runPoolTasks } from './pool-tasks.js';

/** Threads by default: the machine this was written for has two cores. */
export const CHECK_WORKERS_DEFAULT = 2;
export const CHECK_WORKERS_MAX = 64;

/** Histories with fewer operations than this are checked inline (a pool takes ~50 ms to start). */
export const INLINE_OPS_MAX = 2_000;

/** Tasks per thread, so that one large key does not leave the other threads idle. */
export const TASKS_PER_WORKER = 4;

export interface ParallelCheckOptions extends CheckOptions {
  /** Threads in the pool; default CHECK_WORKERS_DEFAULT. */
  workers?: number;
  /**
   * true: check in this thread; false: use a pool even for a small history; default: a pool
   * only when there are at least two keys, INLINE_OPS_MAX operations and two workers.
   */
  inline?: boolean;
}

const workerFile = fileURLToPath(new URL('../../workers/checker.js', import.meta.url));

/** ParallelCheckOptions' keys (all of them: allKeys checks it at compile time). */
const PARALLEL_CHECK_OPTION_KEYS = allKeys<ParallelCheckOptions>()([...CHECK_OPTION_KEYS, 'workers', 'inline']);

/**
 * Like `checkHistory`, with keys spread over worker threads, which share the shrinking budget
 * and learn of each other's violations through shared memory.
 */
export async function checkLinearizable(history: History, modelName: ModelName, options: ParallelCheckOptions = {}): Promise<CheckResult> {
  checkOptionKeys(options, 'options', PARALLEL_CHECK_OPTION_KEYS);
  // Not ??: a null there would be the default instead of refused.
  const workers = options.workers === undefined ? CHECK_WORKERS_DEFAULT : options.workers;
  if (!Number.isInteger(workers) || workers < 1 || workers > CHECK_WORKERS_MAX) {
    throw new ValidationError('options.workers', `expected an integer from 1 to ${CHECK_WORKERS_MAX}, got ${String(workers)}`);
  }
  if (options.inline !== undefined && typeof options.inline !== 'boolean') {
    throw new ValidationError('options.inline', `expected a boolean, got ${typeof options.inline}`);
  }
  const checkOptions: CheckOptions = {};
  if (options.stepsMax !== undefined) checkOptions.stepsMax = options.stepsMax;
  if (options.shrink !== undefined) checkOptions.shrink = options.shrink;
  if (options.unseenFirst !== undefined) checkOptions.unseenFirst = options.unseenFirst;
  // Validate here: an error thrown in a worker loses its class on the way back.
  validateHistory(history, modelName, checkOptions);

  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    const ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, [op]);
    else ops.push(op);
  }
  const inline = options.inline ?? (byKey.size < 2 || history.length < INLINE_OPS_MAX || workers < 2);
  if (inline) return checkHistory(history, modelName, checkOptions);

  const batches = balance([...byKey.values()], Math.min(byKey.size, workers * TASKS_PER_WORKER));
  const shared = sharedCheckState(checkOptions, true);
  const tasks = batches.map((batch): CheckTask => ({ history: batch, modelName, options: checkOptions, shared }));
  const results = await runPoolTasks<CheckTask, CheckResult>(
    'checkLinearizable',
    { filename: workerFile, minThreads: workers, maxThreads: workers },
    tasks,
    (task) => keysText(new Set(task.history.map((op) => op.key))),
  );
  return merge(results);
}

/** Longest-processing-time-first: the largest key goes to the lightest batch. */
function balance(keys: HistoryOp[][], count: number): History[] {
  const batches: History[] = Array.from({ length: count }, () => []);
  keys.sort((a, b) => b.length - a.length);
  for (const ops of keys) {
    let lightest = batches[0] as History;
    for (const batch of batches) if (batch.length < lightest.length) lightest = batch;
    for (const op of ops) lightest.push(op);
  }
  return batches.filter((batch) => batch.length > 0);
}

function merge(results: CheckResult[]): CheckResult {
  const merged: CheckResult = { ok: true, verdict: 'linearizable', keys: 0, ops: 0, violations: [], timedOut: [], memoryBound: [], unchecked: [], steps: 0 };
  for (const result of results) {
    merged.keys += result.keys;
    merged.ops += result.ops;
    merged.steps += result.steps;
    merged.violations.push(...result.violations);
    merged.timedOut.push(...result.timedOut);
    merged.memoryBound.push(...result.memoryBound);
    merged.unchecked.push(...result.unchecked);
  }
  return finish(merged);
}
