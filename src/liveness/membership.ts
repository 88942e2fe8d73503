import { assert } from '../core/assert.js';
import { DEFAULT_PHI_OPTIONS, PhiAccrualDetector, type PhiOptions } from './phi.js';
import { StallDetector } from './stall.js';

/**
 * A versioned membership view built on phi-accrual detectors, one per node. Pure: inputs are
 * heartbeats and periodic evaluations with the time as an argument; outputs are the changes
 * each call caused, each stamped with the view version it produced.
 *
 * States and transitions (evaluated by `evaluate(nowMs)`):
 *   up      -> suspect  when phi >= suspectThreshold
 *   up      -> down     when phi >= threshold (directly, if a check finds phi that high)
 *   suspect -> down     when phi >= threshold
 *   suspect -> up       when phi < suspectThreshold again ('recovered')
 *   down    -> up       only by a heartbeat ('rejoined' or 'restarted'): down is sticky, a
 *                       downed node must show it is alive, not merely stop looking dead.
 * The suspect threshold defaults to half the down threshold: phi = 4 vs 8 means a 1e-4 vs
 * 1e-8 chance of a false verdict, so a suspect is worth routing around but not yet worth
 * failing over for.
 *
 * Incarnations: a node counts its restarts and may send the count with its heartbeats. A
 * heartbeat with a higher incarnation means the node restarted ('restarted', even from 'up':
 * whatever it held in memory is gone); a lower one is a stale message from a previous life
 * and is ignored. A node that sends no incarnation and comes back from 'down' is given the
 * next incarnation by the view, since nobody can tell whether it restarted. Either always send
 * incarnations for a node or never.
 */

export type MemberState = 'up' | 'suspect' | 'down';
export type ChangeReason = 'joined' | 'suspected' | 'convicted' | 'recovered' | 'rejoined' | 'restarted' | 'removed';

export interface MembershipChange {
  readonly id: string;
  readonly from: MemberState | 'absent';
  readonly to: MemberState | 'absent';
  readonly reason: ChangeReason;
  readonly incarnation: number;
  /** The view version this change produced; versions go up by one per change. */
  readonly version: number;
}

export interface MemberView {
  readonly id: string;
  readonly state: MemberState;
  readonly incarnation: number;
}

export interface MembershipOptions {
  /** Detector parameters; `threshold` is the down threshold. */
  detector?: Partial<PhiOptions>;
  /** Defaults to detector threshold / 2. */
  suspectThreshold?: number;
  /** How often evaluate() is meant to run; set it to discount the monitor's own stalls. */
  checkIntervalMs?: number;
  stallFactor?: number;
}

interface Member {
  state: MemberState;
  incarnation: number;
  detector: PhiAccrualDetector;
}

export class Membership {
  readonly downThreshold: number;
  readonly suspectThreshold: number;
  private readonly detectorOptions: Partial<PhiOptions>;
  private readonly stall: StallDetector | undefined;
  private readonly members = new Map<string, Member>();
  /** The members' ids sorted, for view(); undefined after a member joined or left. */
  private sortedIds: string[] | undefined;
  private currentVersion = 0;

  constructor(options: MembershipOptions = {}) {
    this.detectorOptions = { ...options.detector };
    this.downThreshold = options.detector?.threshold ?? DEFAULT_PHI_OPTIONS.threshold;
    this.suspectThreshold = options.suspectThreshold ?? this.downThreshold / 2;
    assert(this.suspectThreshold > 0 && this.suspectThreshold <= this.downThreshold, '0 < suspectThreshold <= threshold');
    this.stall =
      options.checkIntervalMs === undefined ? undefined : new StallDetector({ intervalMs: options.checkIntervalMs, stallFactor: options.stallFactor });
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Total time evaluate() found the monitor stalled and discounted. */
  get discountedStallMs(): number {
    return this.stall?.totalStalledMs ?? 0;
  }

  /**
   * Add a node as 'up'. Joining counts as its first heartbeat, so a node that never sends one
   * is still convicted, after about firstHeartbeatEstimateMs plus the detector's margin.
   */
  add(id: string, nowMs: number, incarnation = 0): MembershipChange[] {
    if (this.members.has(id)) return [];
    const member: Member = { state: 'up', incarnation, detector: this.newDetector() };
    member.detector.heartbeat(nowMs);
    this.members.set(id, member);
    this.sortedIds = undefined;
    return [this.change(id, 'absent', 'up', 'joined', incarnation)];
  }

  remove(id: string): MembershipChange[] {
    const member = this.members.get(id);
    if (member === undefined) return [];
    this.members.delete(id);
    this.sortedIds = undefined;
    return [this.change(id, member.state, 'absent', 'removed', member.incarnation)];
  }

  /** A heartbeat from `id` arrived at `nowMs`. A node not in the view joins. */
  heartbeat(id: string, nowMs: number, incarnation?: number): MembershipChange[] {
    const member = this.members.get(id);
    if (member === undefined) return this.add(id, nowMs, incarnation ?? 0);
    if (incarnation !== undefined && incarnation < member.incarnation) return [];
    if (incarnation !== undefined && incarnation > member.incarnation) {
      // A new process: its timing owes nothing to the old one's history.
      const from = member.state;
      member.state = 'up';
      member.incarnation = incarnation;
      member.detector = this.newDetector();
      member.detector.heartbeat(nowMs);
      return [this.change(id, from, 'up', 'restarted', incarnation)];
    }
    member.detector.heartbeat(nowMs);
    if (member.state !== 'down') return [];
    member.state = 'up';
    if (incarnation === undefined) member.incarnation++;
    return [this.change(id, 'down', 'up', 'rejoined', member.incarnation)];
  }

  /** The periodic check: discount a stall of the monitor, then move nodes by their phi. */
  evaluate(nowMs: number): MembershipChange[] {
    const stalledMs = this.stall?.observe(nowMs) ?? 0;
    const changes: MembershipChange[] = [];
    for (const [id, member] of this.members) {
      if (stalledMs > 0) member.detector.discount(stalledMs, nowMs);
      if (member.state === 'down') continue;
      const phi = member.detector.phi(nowMs);
      let next: MemberState = member.state;
      if (phi >= this.downThreshold) next = 'down';
      else if (phi >= this.suspectThreshold) next = 'suspect';
      else next = 'up';
      if (next === member.state) continue;
      const reason: ChangeReason = next === 'down' ? 'convicted' : next === 'suspect' ? 'suspected' : 'recovered';
      changes.push(this.change(id, member.state, next, reason, member.incarnation));
      member.state = next;
    }
    return changes;
  }

  phi(id: string, nowMs: number): number {
    const member = this.members.get(id);
    return member === undefined ? 0 : member.detector.phi(nowMs);
  }

  state(id: string): MemberState | undefined {
    return this.members.get(id)?.state;
  }

  /** Every member, sorted by id. */
  view(): MemberView[] {
    // The ids are sorted once per change of membership, not at every view (a region's digest asks each interval).
    const ids = (this.sortedIds ??= [...this.members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const out: MemberView[] = new Array<MemberView>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const m = this.members.get(id)!;
      out[i] = { id, state: m.state, incarnation: m.incarnation };
    }
    return out;
  }

  private newDetector(): PhiAccrualDetector {
    return new PhiAccrualDetector(this.detectorOptions);
  }

  private change(id: string, from: MemberState | 'absent', to: MemberState | 'absent', reason: ChangeReason, incarnation: number): MembershipChange {
    this.currentVersion++;
    return { id, from, to, reason, incarnation, version: this.currentVersion };
  }
}
