/**
 * A piscina task: the per-key analysis of a transactional history for some of its keys.
 * Stateless; the pool is started and destroyed by src/harness/elle/index.ts.
 */
import { analyzeListAppend } from '../src/harness/elle/list-append.js';
import { analyzeRwRegister } from '../src/harness/elle/rw-register.js';
import type { KeyAnalysis, LevelOrder, TxnModel, TxnView } from '../src/harness/elle/types.js';

/** What index.ts posts: plain data only, since it crosses a thread boundary. */
export interface ElleTask {
  model: TxnModel;
  views: TxnView[];
  txnCount: number;
  order: LevelOrder;
}

export default function analyzeKeys(task: ElleTask): KeyAnalysis {
  return task.model === 'list-append' ? analyzeListAppend(task.views, task.txnCount) : analyzeRwRegister(task.views, task.txnCount, task.order);
}
