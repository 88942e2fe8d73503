/**
 * A piscina task: check the operations of some keys of a history. Stateless; the pool is
 * started and destroyed by src/harness/parallel.ts.
 */
import type { History } from '../src/core/history.js';
import { checkHistoryPart, type CheckOptions, type CheckResult } from '../src/harness/linearizability.js';
import type { ModelName } from '../src/harness/models.js';

/** What parallel.ts posts: plain data only, since it crosses a thread boundary. */
export interface CheckTask {
  history: History;
  modelName: ModelName;
  options: CheckOptions;
  /** Shared by every task of one check, in shared memory (see sharedCheckState). */
  shared: Int32Array;
}

export default function check(task: CheckTask): CheckResult {
  return checkHistoryPart(task.history, task.modelName, task.options, task.shared);
}
