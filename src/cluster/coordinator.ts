import type { Behavior } from '../runtime/actor.js';
import type { ResolvedConfig } from './config.js';

export interface CoordinatorParams {
  region: string;
  commit: ResolvedConfig['commit'];
}

export function coordinatorParams(config: ResolvedConfig, region: string): CoordinatorParams {
  return { region, commit: config.commit };
}

interface CoordinatorState {
  params: CoordinatorParams;
  digests: number;
}

/** The region's transaction coordinator. It watches region digests for liveness. */
export const coordinatorBehavior: Behavior<CoordinatorState, CoordinatorParams> = {
  name: 'coordinator',
  init(_ctx, params) {
    return { params, digests: 0 };
  },
  receive(state, msg) {
    if (msg.type === 'digest') state.digests++;
  },
  summary(state) {
    return { commit: state.params.commit, digests: state.digests };
  },
};
