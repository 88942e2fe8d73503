import type { History, HistoryOp } from '../../src/core/history.js';
import { modelByName, type ModelName } from '../../src/harness/models.js';

/**
 * The history with every operation outside `keep` weakened: those that changed nothing (reads,
 * a cas that answered false) removed, the others made unknown (they may have happened at any
 * time after their invocation, or never). A violation's witness must fail even so.
 */
export function weakenOthers(history: History, keep: readonly HistoryOp[], modelName: ModelName): History {
  const model = modelByName(modelName);
  const ids = new Set(keep.map((op) => op.id));
  const out: History = [];
  for (const op of history) {
    if (ids.has(op.id) || op.outcome === 'fail') {
      out.push(op);
      continue;
    }
    if (op.outcome === 'ok' && !model.mutates({ kind: op.kind, input: op.input, outcome: 'ok', output: op.output })) continue;
    const weak: HistoryOp = { ...op, outcome: 'unknown' };
    delete weak.completeMs;
    out.push(weak);
  }
  return out;
}
