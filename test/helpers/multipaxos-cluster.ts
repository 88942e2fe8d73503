/**
 * A Multi-Paxos cluster of cores for tests (test/protocols-multipaxos.test.ts), with a host per
 * replica that checks what it is asked to apply, and the seeded randomized run (`chaos`) that
 * test/helpers/core-mutant.ts also runs on a scratch copy of dist/ with a bug put in (so the
 * imports here are relative).
 */
import { Prng } from '../../src/core/prng.js';
import { MultiPaxos } from '../../src/protocols/multipaxos.js';
import type { MultiPaxosConfig, MultiPaxosDecision, MultiPaxosMessage, MultiPaxosRecord } from '../../src/protocols/multipaxos.js';
import { Net } from '../protocols-net.js';

export const ELECTION = 10;
export const HEARTBEAT = 3;

interface HostState {
  /** The state machine: every command applied, in order. */
  state: string[];
  /** The last position applied in this incarnation, as index * 1e6 + offset. */
  last: number;
  snapshots: number;
}

/** A replicated cluster with a host per replica that checks what it is asked to apply. */
export class Cluster {
  readonly hosts = new Map<string, HostState>();
  readonly violations: string[] = [];
  /** Global agreement: what each log position holds, and where each command sits. */
  private readonly atPosition = new Map<string, string>();
  private readonly positionOf = new Map<string, string>();
  /** Slots some replica passed over as holding no command (a no-op). */
  private readonly empty = new Set<number>();
  readonly net: Net<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision, MultiPaxos>;
  readonly ids: string[];
  /** Called after a replica's host applied a command. */
  onApply: ((id: string, core: MultiPaxos, index: number) => void) | undefined;
  /** The furthest position any host applied (index * 1e6 + offset): chosen, whoever applied it. */
  private maxApplied = 0;
  /** Reads asked and not yet answered: the furthest position applied anywhere when each was asked. */
  private readonly reads = new Map<string, number>();
  /** Reads answered and given back (`reads-dropped`). */
  readsAnswered = 0;
  readsDropped = 0;

  constructor(n: number, opts: Partial<MultiPaxosConfig> & { seed?: number } = {}) {
    this.ids = Array.from({ length: n }, (_, i) => `r${i + 1}`);
    const { seed, ...overrides } = opts;
    this.net = new Net<MultiPaxosMessage, MultiPaxosRecord, MultiPaxosDecision, MultiPaxos>({
      ids: this.ids,
      make: (id, recovered) => {
        this.hosts.set(id, { state: [], last: 0, snapshots: 0 }); // a restarted host lost its memory
        return new MultiPaxos(
          {
            self: id,
            peers: this.ids,
            electionTicks: ELECTION,
            heartbeatTicks: HEARTBEAT,
            maxBatch: 4,
            maxInflight: 4,
            ...(seed === undefined ? {} : { prng: new Prng(`${seed}:${id}`) }),
            ...overrides,
          },
          recovered,
        );
      },
      onDecision: (id, core, d) => this.onDecision(id, core, d),
    });
  }

  private onDecision(id: string, core: MultiPaxos, d: MultiPaxosDecision): void {
    const host = this.hosts.get(id)!;
    switch (d.kind) {
      case 'apply': {
        const position = d.index * 1e6 + d.offset;
        if (position <= host.last) this.violations.push(`${id} applied ${d.index}.${d.offset} after ${host.last}`);
        // Slots passed over since the last one applied (no snapshot between) held no command
        // here (no-ops): nobody may have applied one there. A leader that lost a chosen value
        // shows up here, before a restart rebuilds its replica from the log and hides it.
        for (let skipped = Math.floor(host.last / 1e6) + 1; skipped < d.index; skipped++) {
          const there = this.atPosition.get(`${skipped}.0`);
          if (there !== undefined) this.violations.push(`${id} passed over slot ${skipped} as a no-op, where ${there} was applied`);
          this.empty.add(skipped);
        }
        if (d.offset === 0 && this.empty.has(d.index)) this.violations.push(`${id} applied ${String(d.command)} at slot ${d.index}, a no-op elsewhere`);
        host.last = position;
        const key = `${d.index}.${d.offset}`;
        const command = String(d.command);
        const there = this.atPosition.get(key);
        if (there !== undefined && there !== command) this.violations.push(`${key}: ${id} applied ${command}, another ${there}`);
        this.atPosition.set(key, command);
        const where = this.positionOf.get(command);
        if (where !== undefined && where !== key) this.violations.push(`${command} applied at ${where} and at ${key}`);
        this.positionOf.set(command, key);
        host.state.push(command);
        if (position > this.maxApplied) this.maxApplied = position;
        this.onApply?.(id, core, d.index);
        return;
      }
      case 'read':
        // Linearizable: every command chosen before the read was asked (here: applied by some
        // host by then) is applied by the host that answers it.
        for (const token of d.tokens) {
          const asked = this.reads.get(String(token));
          if (asked === undefined) this.violations.push(`${id} answered read ${String(token)}, which it was not asked or answered before`);
          else if (host.last < asked)
            this.violations.push(`${id} answered read ${String(token)} at position ${host.last}, before ${asked}, applied when it was asked`);
          this.reads.delete(String(token));
          this.readsAnswered++;
        }
        return;
      case 'reads-dropped':
        for (const token of d.tokens) this.reads.delete(String(token));
        this.readsDropped += d.tokens.length;
        return;
      case 'snapshot':
        host.state = [...(d.snapshot as string[])];
        host.last = d.index * 1e6 + 1e6 - 1;
        host.snapshots++;
        return;
      case 'snapshot-due':
        core.compact(d.index, [...host.state]);
        return;
      case 'dropped':
        return;
    }
  }

  core(id: string): MultiPaxos {
    return this.net.core(id);
  }

  leaders(): string[] {
    return this.ids.filter((id) => !this.net.down.has(id) && this.core(id).isLeader());
  }

  elect(id: string): void {
    this.net.act(id, (c) => c.campaign());
    this.net.stabilize();
  }

  propose(id: string, ...commands: string[]): void {
    this.net.act(id, (c) => {
      for (const command of commands) if (!c.propose(command)) throw new Error(`${id} refused ${command}`);
    });
  }

  state(id: string): string[] {
    return this.hosts.get(id)!.state;
  }

  /**
   * A linearizable read at `id` (see the 'read' decision), after `before` in the same step (a
   * proposal, say): false if it does not lead.
   */
  read(id: string, token: string, before?: (core: MultiPaxos) => void): boolean {
    let taken = false;
    this.reads.set(token, this.maxApplied);
    this.net.act(id, (c) => {
      before?.(c);
      taken = c.read(token);
    });
    if (!taken) this.reads.delete(token);
    return taken;
  }
}

export function range(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

export interface ChaosResult {
  violations: string[];
  applied: number;
  /** Reads answered (with `reads`). */
  reads: number;
  /** Snapshot pieces sent (with `extra.snapshotPieceBytes`), and snapshots installed by a replica other than at a restart. */
  piecesSent?: number;
  snapshotInstalls?: number;
}

/**
 * With `reads`, every replica that believes it leads (a deposed one that has not heard yet
 * too) is asked linearizable reads now and then, from a PRNG of their own: the run's other
 * draws are the same as without.
 */
export function chaos(seed: number, steps: number, preVote = false, reads = false, extra: Partial<MultiPaxosConfig> = {}): ChaosResult {
  const prng = new Prng(seed);
  const readPrng = reads ? new Prng(seed ^ 0x5ead) : undefined;
  let nextRead = 0;
  // Three replicas or five: with three, one fault at a time.
  const n = prng.chance(0.5) ? 3 : 5;
  const c = new Cluster(n, { seed, maxBatch: 3, maxInflight: 3, snapshotEvery: 7, ...(preVote ? { preVote } : {}), ...extra });
  let next = 0;
  // Now and then a leader crashes right after it learned a command chosen and applied it,
  // before anything it sent leaves: the others must still agree with what it applied.
  let crashNext: string | undefined;
  // A leader duel (the cluster nemesis's leader-duel): a leader cut off takes a command alone;
  // the others elect a new leader, whose first command applied is its last act (it crashes
  // before anyone learns the slot was chosen); then the old leader is back. The next leader's
  // promises report two values for that slot, at two ballots: it must keep the newer.
  let duel: { old: string; slot: number; until: number } | undefined;
  // The duel's new leader stays down a while after its crash: back at once, it would tell the
  // next leader that the slot was chosen, and the two values would never meet.
  let held: { id: string; until: number } | undefined;
  c.onApply = (id, core, index) => {
    if (crashNext !== undefined || !core.isLeader()) return;
    if (duel !== undefined && id !== duel.old) {
      if (index >= duel.slot) crashNext = id;
    } else if (prng.chance(0.05)) crashNext = id;
  };
  for (let step = 0; step < steps; step++) {
    if (crashNext !== undefined) {
      if (c.net.down.size < (n - 1) / 2 && !c.net.down.has(crashNext)) {
        c.net.crash(crashNext);
        c.net.dropWhere((m) => m.from === crashNext);
      }
      if (duel !== undefined) {
        held = { id: crashNext, until: step + 600 };
        duel = undefined;
        c.net.heal();
      }
      crashNext = undefined;
    }
    if (duel !== undefined && step >= duel.until) {
      duel = undefined;
      c.net.heal();
    }
    if (readPrng !== undefined && readPrng.chance(0.3)) {
      const leaders = c.leaders();
      if (leaders.length > 0) c.read(readPrng.pick(leaders), `read${nextRead++}`);
    }
    const r = prng.next();
    const up = c.ids.filter((id) => !c.net.down.has(id));
    if (r < 0.55) {
      c.net.randomDeliver(prng, { drop: 0.15, duplicate: 0.05 });
    } else if (r < 0.8) {
      c.net.tick(1, [prng.pick(up)]);
    } else if (r < 0.92) {
      // In a duel, the cut-off leader has its command; the others' new leader takes the rest.
      const leaders = c.leaders().filter((id) => id !== duel?.old);
      if (leaders.length > 0) {
        const id = prng.pick(leaders);
        c.net.act(id, (core) => core.propose(`cmd${next++}`));
        if (duel === undefined && prng.chance(0.05) && c.net.down.size < (n - 1) / 2) {
          // The leader crashes as its proposal leaves: some acceptors get it, some do not.
          c.net.dropWhere((m) => m.from === id && prng.chance(0.5));
          c.net.crash(id);
        }
      }
    } else if (r < 0.95 && duel === undefined) {
      // Half of the crashes hit a leader: where a protocol is weak (Jepsen's targeted nemesis).
      // A crash loses, half of the time, what the node sent that has not left yet.
      const leaders = c.leaders().filter((id) => !c.net.down.has(id));
      if (c.net.down.size < (n - 1) / 2) {
        const id = leaders.length > 0 && prng.chance(0.5) ? prng.pick(leaders) : prng.pick(up);
        c.net.crash(id);
        if (prng.chance(0.5)) c.net.dropWhere((m) => m.from === id);
      }
    } else if (r < 0.98) {
      const down = c.ids.filter((id) => c.net.down.has(id) && (held === undefined || id !== held.id || step >= held.until));
      if (down.length > 0) c.net.restart(prng.pick(down));
    } else if (r < 0.99) {
      const [leader] = c.leaders();
      if (leader !== undefined && duel === undefined && c.net.down.size === 0 && prng.chance(0.6)) {
        c.net.heal();
        c.net.isolate(leader);
        c.net.act(leader, (core) => core.propose(`cmd${next++}`));
        duel = { old: leader, slot: c.core(leader).status().lastIndex, until: step + 1500 };
      } else if (leader !== undefined && prng.chance(0.5)) {
        // A minority with a leader: it and one other node, cut off from the majority.
        const other = prng.pick(c.ids.filter((id) => id !== leader));
        c.net.partition([[leader, other], c.ids.filter((id) => id !== leader && id !== other)]);
      } else c.net.isolate(prng.pick(c.ids));
    } else if (duel === undefined) {
      c.net.heal();
    }
  }
  // Liveness phase: everyone up, no faults. A final command must reach every replica; the host
  // retries it under a new id if the leader that took it is deposed before it is applied.
  c.net.heal();
  for (const id of c.ids) if (c.net.down.has(id)) c.net.restart(id);
  const isFinal = (cmd: string | undefined): boolean => cmd !== undefined && cmd.startsWith('final');
  const settled = (): boolean => c.ids.every((id) => c.state(id).some(isFinal) && c.state(id).length === c.state('r1').length);
  let attempts = 0;
  let sinceAttempt = Infinity;
  for (let i = 0; i < 60 * ELECTION && !settled(); i++) {
    const [leader] = c.leaders();
    if (leader !== undefined && sinceAttempt > 2 * ELECTION && !c.state(leader).some(isFinal)) {
      c.net.act(leader, (core) => core.propose(`final-${attempts++}`));
      sinceAttempt = 0;
    }
    sinceAttempt++;
    c.net.run(1);
  }
  const violations = [...c.violations];
  const reference = c.state('r1');
  for (const id of c.ids) {
    if (!c.state(id).some(isFinal)) violations.push(`liveness: ${id} never applied a final command`);
    else if (JSON.stringify(c.state(id)) !== JSON.stringify(reference)) violations.push(`${id}'s state differs from r1's`);
  }
  return {
    violations,
    applied: reference.length,
    reads: c.readsAnswered,
    piecesSent: c.net.sentByType['snapshot-piece'] ?? 0,
    snapshotInstalls: [...c.hosts.values()].reduce((n, h) => n + h.snapshots, 0),
  };
}

/**
 * A deposed leader that has not heard yet is asked reads (seeded): the leader, cut off with a
 * minority, keeps believing it leads while the majority elects another, which applies writes.
 * Reads at both, some messages lost; then the cut heals. The old leader must answer none of
 * its reads from before the cut healed with its stale state, and the new one must not answer
 * before it applied what the old one chose (half of the runs: a last write whose commit was lost).
 */
export function staleLeaderReads(seed: number): ChaosResult {
  const prng = new Prng(seed);
  const n = prng.chance(0.5) ? 3 : 5;
  const c = new Cluster(n, { seed, maxBatch: 3, maxInflight: 3, snapshotEvery: 7 });
  const old = prng.pick(c.ids);
  c.elect(old);
  for (let i = 0, k = prng.int(6); i < k; i++) c.propose(old, `a${i}`);
  c.net.stabilize();
  if (prng.chance(0.5)) {
    // A last write the leader learns chosen and applies, whose commit reaches nobody: the next
    // leader holds it above its commit index and must re-choose it before it answers a read.
    c.propose(old, 'last');
    c.net.deliverWhere((m) => m.msg.type === 'accept');
    c.net.deliverWhere((m) => m.msg.type === 'accepted');
    c.net.dropWhere((m) => m.from === old);
  }
  const minority = [old];
  if (n === 5 && prng.chance(0.5)) minority.push(prng.pick(c.ids.filter((id) => id !== old)));
  const majority = c.ids.filter((id) => !minority.includes(id));
  c.net.partition([minority, majority]);
  let reads = 0;
  const readAt = (id: string): void => void c.read(id, `read${reads++}`);
  // Only the majority's timers run: the old leader's check-quorum window does not end.
  for (let i = 0; i < 6 * ELECTION && !majority.some((id) => c.core(id).isLeader()); i++) {
    if (prng.chance(0.3)) readAt(old);
    c.net.tick(1, majority);
    // Up to the new leader's election, not past it: its first read comes before its first accepts land.
    while (!majority.some((id) => c.core(id).isLeader()) && c.net.randomDeliver(prng, { drop: 0.1, duplicate: 0.05 }));
  }
  const fresh = majority.find((id) => c.core(id).isLeader());
  if (fresh !== undefined) readAt(fresh);
  for (let i = 0, k = 1 + prng.int(6); fresh !== undefined && i < k; i++) {
    c.propose(fresh, `b${i}`);
    if (prng.chance(0.5)) readAt(old);
    if (prng.chance(0.5)) readAt(fresh);
    while (c.net.randomDeliver(prng, { drop: 0.1, duplicate: 0.05 }));
    if (prng.chance(0.5)) c.net.tick(1, majority);
  }
  for (let i = 0; i < 5; i++) readAt(old);
  c.net.run(2 * ELECTION, majority);
  c.net.heal();
  c.net.run(4 * ELECTION);
  return { violations: [...c.violations], applied: c.state(majority[0]!).length, reads: c.readsAnswered };
}
