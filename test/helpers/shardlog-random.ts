/**
 * One seed of a server's durable log under checkpoints, crashes and power losses
 * (test/shardlog-random.test.ts runs it; test/helpers/core-mutant.ts-style scratch copies of
 * dist/ run it with a bug put in, so the imports here are relative).
 *
 * The level: three servers, each a real actor Cell (src/runtime/cell.ts: a step's persists and
 * its checkpoint are written when it returns, the checkpoint first, the persists made after it
 * appended after it, then its messages leave) whose behaviour hosts the Multi-Paxos groups
 * (GroupReplica, active mode) of two shards and carries out their records exactly as the
 * cluster's server does (server.ts `drain`: ShardLogs.append's `before` checkpoint, its
 * records, its periodic checkpoint; `recover` and `compactNow` at init), over one real
 * MemoryDurableStore (framing, CRC, fsync true or false, power loss). What is left out is the
 * rest of the server (clients' routing, timers, load reports): the network, ticks and faults
 * are this driver's, step by step.
 *
 * Per seed: fsync true or false, a checkpoint every 3-40 records, snapshots every 2-6 slots,
 * batches of 1-3 commands, 1-3 slots in flight, a write-back window of 150-800 ms. Random
 * actions: deliver a message (the oldest few in any order, some dropped, some delivered twice),
 * tick a server (its groups beat, elect, re-send; both shards' messages to a peer ride in one
 * wire, so one step drains both shards), a client put to a leader (or any server), a checkpoint
 * asked for at the next write that holds an accept (`checkpointSoon`, as
 * `Cluster.requestCheckpoint` does: in the middle of a step, before that drain's records), a
 * plain crash, a crash right after a step's write and before its messages leave
 * (`crashAfterNextWrite`), a power loss (with fsync false: the records younger than the
 * write-back window lost, the first of them at times left torn), a restart that recovers from
 * the store. Then every server is restarted, the cluster runs without faults, and every server
 * is crashed and restarted once more.
 *
 * Checked at every (re)start, against a model kept outside the servers (the records each
 * group's `ready()` handed its server, in order, and when; an independent reading of a record
 * list: per shard, the highest promise, the latest snapshot, the commit index, each later slot's
 * last accepted and chosen value):
 * - the recovered records read as the records handed over, all of them after a plain crash or
 *   with fsync true; after a power loss with fsync false exactly those older than the write-back
 *   window (or those the last checkpoint holds, when it is younger): a prefix, nothing reordered,
 *   nothing from a torn record applied; the recovered record count is the last checkpoint's plus
 *   what was appended after it (a log bounded by its checkpoints);
 * - whatever a server reported before it crashed survives unless a power loss with fsync false
 *   lost records: a promise (a `promise` or a `nack`'s promised ballot), an accepted slot (at
 *   that ballot or a higher one, or chosen), a commit index (`heartbeat-ack`), a client's
 *   acknowledged put (the recovered state machine applied at least up to it);
 * - the recovered state machine equals the state after that prefix of the commands applied
 *   anywhere (and every apply at any replica agrees with the first at that position), until a
 *   lossy power loss (fsync false allows acknowledged writes to be lost);
 * - no server throws (a replay of a log with a commit over a slot it lost fails an assertion).
 */
import { Prng } from '../../src/core/prng.js';
import { createPackr, type Message } from '../../src/core/codec.js';
import { compareBallots, type Ballot } from '../../src/protocols/ballot.js';
import type { MultiPaxosMessage, MultiPaxosRecord } from '../../src/protocols/multipaxos-messages.js';
import { GroupReplica } from '../../src/replication/group.js';
import { KvStateMachine, type Command } from '../../src/replication/state-machine.js';
import { ShardLogs, type ShardRecord } from '../../src/replication/shard-log.js';
import type { ActorContext, ActorSpec, Behavior } from '../../src/runtime/actor.js';
import { Cell, type CellHost } from '../../src/runtime/cell.js';
import { MemoryDurableStore } from '../../src/runtime/durable-memory.js';
import type { HostEnv, TimerHandle } from '../../src/runtime/env.js';
import { emptyHostStats } from '../../src/runtime/stats.js';

export const SERVERS = ['s1', 's2', 's3'];
export const SHARDS = 2;
const CLIENT = 'client';
const STEPS = 500;
const HEAL_STEPS = 250;
const KEYS = 4;

export interface Options {
  /** The 'checkpoint-drops-tail' variant (ShardLogs' `dropAfterCheckpoint`). */
  dropAfterCheckpoint?: boolean;
  /**
   * Check the recovered records against those handed over (default true). Off, only what a
   * user sees is checked: what was reported survives, replicas agree (to measure those alone).
   */
  imageCheck?: boolean;
}

export interface SeedResult {
  problems: string[];
  fsync: boolean;
  /** Checkpoints written in a step that appended records after them (mid-step, the runtime's way). */
  midStepCheckpoints: number;
  /** Checkpoints ShardLogs took before a drain's records (asked for by checkpointSoon). */
  askedCheckpoints: number;
  checkpoints: number;
  restarts: number;
  crashesAfterWrite: number;
  /** Power losses that lost records (fsync false). */
  lossyPowerLosses: number;
  tornTails: number;
  /** Puts acknowledged to the client. */
  acked: number;
  /** Restarts whose recovered log was checked against what was acknowledged (nothing lost). */
  ackChecks: number;
}

type Wire = { type: 'pxs'; m: Array<{ s: number; m: MultiPaxosMessage }> } | { type: 'tick' } | Req | Res;
interface Req {
  type: 'req';
  s: number;
  rid: number;
  key: string;
  value: number;
  rq: string;
}
interface Res {
  type: 'res';
  s: number;
  rid: number;
  ok: boolean;
  /** The state machine position of the command answered (ok only). */
  pos: number;
}

interface NodeState {
  log: ShardLogs;
  groups: GroupReplica[];
  out: Map<string, Array<{ s: number; m: MultiPaxosMessage }>>;
}

interface StepMark {
  start: number;
  end: number;
  t: number;
}

/** What the driver knows of one server's log, outside the server. */
interface Model {
  /** Every record the server's groups handed it, in order (cut back to what survived a lossy power loss). */
  produced: ShardRecord[];
  /** Steps that produced records or wrote a checkpoint: where in `produced`, and when. */
  steps: StepMark[];
  /** The step of the last checkpoint written. */
  checkpoint: StepMark | undefined;
  /** Records known to be on the device (synced by a checkpoint, a torn-tail cut, or older than every later horizon). */
  floor: number;
  /** Frames in the store as the store was asked to hold them (checkpoint + appends - lost). */
  frames: number;
  /** The horizon of the first power loss since the last start (fsync false). */
  lossHorizon: number | undefined;
  /** What the server reported, per shard. */
  acks: Acks[];
}

interface Acks {
  promised: Ballot | undefined;
  accepted: Map<number, Ballot>;
  commit: number;
  applied: number;
}

const noAcks = (): Acks[] => Array.from({ length: SHARDS }, () => ({ promised: undefined, accepted: new Map(), commit: 0, applied: 0 }));

// An independent reading of a record list ----------------------------------------------------

interface SlotMeaning {
  acc?: { ballot: Ballot; commands: unknown[] };
  chosen?: { ballot: Ballot; commands: unknown[] };
}
interface Meaning {
  promised: Ballot | undefined;
  snapshot: { index: number; data: unknown } | undefined;
  commit: number;
  slots: Map<number, SlotMeaning>;
}

function emptyMeaning(): Meaning {
  return { promised: undefined, snapshot: undefined, commit: 0, slots: new Map() };
}

function readRecord(m: Meaning, r: MultiPaxosRecord): void {
  const snapIndex = m.snapshot?.index ?? 0;
  const raise = (b: Ballot): void => {
    if (m.promised === undefined || compareBallots(b, m.promised) > 0) m.promised = b;
  };
  switch (r.type) {
    case 'promise':
      raise(r.ballot);
      return;
    case 'accept': {
      raise(r.ballot);
      if (r.index <= snapIndex) return;
      const slot = m.slots.get(r.index) ?? {};
      slot.acc = { ballot: r.ballot, commands: r.commands };
      m.slots.set(r.index, slot);
      return;
    }
    case 'chosen': {
      // A chosen slot's ballot counts as promised too (MultiPaxos's recovery, ShardLogs).
      raise(r.ballot);
      if (r.index <= snapIndex) return;
      const slot = m.slots.get(r.index) ?? {};
      slot.chosen = { ballot: r.ballot, commands: r.commands };
      m.slots.set(r.index, slot);
      return;
    }
    case 'commit':
      m.commit = Math.max(m.commit, r.index);
      return;
    case 'snapshot':
      if (r.index <= snapIndex) return;
      m.snapshot = { index: r.index, data: r.data };
      for (const i of [...m.slots.keys()]) if (i <= r.index) m.slots.delete(i);
      m.commit = Math.max(m.commit, r.index);
      return;
  }
}

function meanings(records: readonly ShardRecord[], upTo = records.length): Meaning[] {
  const out = Array.from({ length: SHARDS }, emptyMeaning);
  for (let i = 0; i < upTo; i++) readRecord(out[records[i]!.s]!, records[i]!.r);
  return out;
}

/** Plain data as a string, object keys sorted (undefined kept apart from a missing key). */
function canon(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v instanceof Map) return `M${canon([...v].sort((a, b) => (canon(a[0]) < canon(b[0]) ? -1 : 1)))}`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canon(o[k])}`)
    .join(',')}}`;
}

function canonMeanings(ms: Meaning[]): string {
  return canon(
    ms.map((m) => ({
      promised: m.promised,
      snapshot: m.snapshot,
      commit: m.commit,
      slots: [...m.slots].sort((a, b) => a[0] - b[0]),
    })),
  );
}

const dataOf = (sm: KvStateMachine): string => canon([...sm.data].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

// The run -------------------------------------------------------------------------------------

export function runSeed(seed: number, options: Options = {}): SeedResult {
  const prng = new Prng(`shardlog-random:${seed}`);
  const fsync = prng.chance(0.5);
  const checkpointEvery = 3 + prng.int(38);
  const snapshotEvery = 2 + prng.int(5);
  const maxBatch = 1 + prng.int(3);
  const maxInflight = 1 + prng.int(3);
  const writebackMs = 150 + prng.int(651);
  const problems: string[] = [];
  const result: SeedResult = {
    problems,
    fsync,
    midStepCheckpoints: 0,
    askedCheckpoints: 0,
    checkpoints: 0,
    restarts: 0,
    crashesAfterWrite: 0,
    lossyPowerLosses: 0,
    tornTails: 0,
    acked: 0,
    ackChecks: 0,
  };
  const packr = createPackr();
  const wire = <T>(v: T): T => packr.unpack(packr.pack(v)) as T;

  let now = 0;
  let ids = 0;
  const store = new MemoryDurableStore();
  store.configure({ fsync, clock: () => now, writebackMs });
  const models = new Map<string, Model>(
    SERVERS.map((id) => [id, { produced: [], steps: [], checkpoint: undefined, floor: 0, frames: 0, lossHorizon: undefined, acks: noAcks() }]),
  );
  /** The step in progress: which server, where its records start, whether it wrote a checkpoint and appended after it. */
  let current: { id: string; start: number; replaced: boolean; appendedAfter: boolean } | undefined;
  const replace = store.replace.bind(store);
  const append = store.append.bind(store);
  store.replace = (address, records) => {
    const model = models.get(address)!;
    model.frames = records.length;
    if (current?.id === address) current.replaced = true;
    result.checkpoints++;
    replace(address, records);
  };
  store.append = (address, records) => {
    models.get(address)!.frames += records.length;
    if (current?.id === address && current.replaced) current.appendedAfter = true;
    append(address, records);
  };

  // Agreement: per shard, the command at each state machine position (the first replica's),
  // and a reference state machine fed them in order: the data after each position.
  let lossy = false;
  const reference = Array.from({ length: SHARDS }, () => ({
    commands: new Map<number, string>(),
    raw: new Map<number, Command>(),
    sm: new KvStateMachine(),
    data: [dataOf(new KvStateMachine())],
  }));
  const applied = (id: string, s: number, index: number, command: Command): void => {
    if (lossy) return;
    const ref = reference[s]!;
    const c = 'id' in command ? `${command.k}:${command.id}` : canon(command);
    const there = ref.commands.get(index);
    if (there === undefined) {
      ref.commands.set(index, c);
      ref.raw.set(index, command);
      while (ref.raw.has(ref.sm.applied + 1)) {
        ref.sm.apply(ref.raw.get(ref.sm.applied + 1)!);
        ref.data.push(dataOf(ref.sm));
      }
    } else if (there !== c) problems.push(`shard ${s}: ${id} applied ${c} at position ${index}, where ${there} was applied`);
  };

  const net: Array<{ from: string; to: string; msg: Wire }> = [];
  /** Per server, the independent reading of the records its last start recovered. */
  const reading = new Map<string, Meaning[]>();
  const cells = new Map<string, Cell>();
  const down = new Set<string>(SERVERS);

  const behavior: Behavior<NodeState, null, Wire> = {
    name: 'shardlog-server',
    init(ctx, _params, recovered) {
      onRecovered(ctx.self, recovered as ShardRecord[]);
      const log = new ShardLogs(checkpointEvery, options.dropAfterCheckpoint === true);
      const byShard = log.recover(recovered as ShardRecord[]);
      if (log.compactNow(recovered.length)) ctx.checkpoint(log.checkpoint());
      const state: NodeState = { log, groups: [], out: new Map() };
      for (let s = 0; s < SHARDS; s++) {
        const records = byShard.get(s) ?? [];
        const group = new GroupReplica(
          {
            shard: s,
            self: ctx.self,
            peers: SERVERS,
            mode: 'active',
            sync: true,
            lagBound: 1,
            electionTicks: 5,
            heartbeatTicks: 2,
            maxBatch,
            maxInflight,
            snapshotEvery,
            seed: Math.floor(ctx.random() * 0x100000000),
            incarnation: ctx.incarnation,
          },
          records,
        );
        state.groups.push(group);
        if (records.length === 0 && SERVERS[s % SERVERS.length] === ctx.self) group.core.campaign();
      }
      for (let s = 0; s < SHARDS; s++) drain(state, s, ctx);
      send(state, ctx);
      return state;
    },
    receive(state, msg, ctx) {
      state.log.beginStep();
      const dirty: number[] = [];
      switch (msg.type) {
        case 'tick':
          for (let s = 0; s < SHARDS; s++) {
            state.groups[s]!.tick();
            dirty.push(s);
          }
          break;
        case 'pxs':
          for (const { s, m } of msg.m) {
            state.groups[s]!.step(ctx.sender, m);
            if (!dirty.includes(s)) dirty.push(s);
          }
          break;
        case 'req': {
          const ok = state.groups[msg.s]!.submit({ op: 'put', key: msg.key, value: msg.value, rq: msg.rq }, { to: ctx.sender, rid: msg.rid });
          if (!ok) ctx.reply({ type: 'res', s: msg.s, rid: msg.rid, ok: false, pos: 0 } satisfies Res);
          dirty.push(msg.s);
          break;
        }
        case 'res':
          break;
      }
      for (const s of dirty) drain(state, s, ctx);
      send(state, ctx);
    },
  };

  /** server.ts's drain: persist (through ShardLogs), then the messages, then the answers. */
  function drain(state: NodeState, s: number, ctx: ActorContext): void {
    const group = state.groups[s]!;
    const r = group.ready();
    if (r.persist.length > 0) {
      const model = models.get(ctx.self)!;
      for (const record of r.persist) model.produced.push({ s, r: record });
      const { before, append: records, checkpoint } = state.log.append(s, r.persist);
      if (before !== undefined) {
        result.askedCheckpoints++;
        ctx.checkpoint(before);
      }
      for (const record of records) ctx.persist(record);
      if (checkpoint !== undefined) ctx.checkpoint(checkpoint);
    }
    for (const { to, msg } of r.messages) {
      let list = state.out.get(to);
      if (list === undefined) state.out.set(to, (list = []));
      list.push({ s, m: msg });
    }
    const outputs = group.takeOutputs();
    let answered: Array<{ rid: number; to: string }> = [];
    for (const o of outputs) {
      if (o.kind === 'reply') {
        if (o.ok) answered.push({ rid: o.origin.rid, to: o.origin.to });
        else ctx.send(o.origin.to, { type: 'res', s, rid: o.origin.rid, ok: false, pos: 0 } satisfies Res);
      } else if (o.kind === 'applied') {
        applied(ctx.self, s, o.index, o.command);
        // A reply comes just before the 'applied' output of its command.
        for (const a of answered) ctx.send(a.to, { type: 'res', s, rid: a.rid, ok: true, pos: o.index } satisfies Res);
        answered = [];
      }
    }
    for (const a of answered) ctx.send(a.to, { type: 'res', s, rid: a.rid, ok: true, pos: group.sm.applied } satisfies Res);
  }

  function send(state: NodeState, ctx: ActorContext): void {
    for (const [to, m] of state.out) ctx.send(to, { type: 'pxs', m } satisfies Wire);
    state.out.clear();
  }

  // The host of the cells: the driver's network, no timers, one store.
  const env: HostEnv = {
    now: () => now,
    setTimer: (): TimerHandle => ({ cancel() {} }),
    schedule: () => {},
    scheduleLater: () => {},
    transmit: () => {},
    durable: store,
    report: () => {},
    newId: () => `i${++ids}`,
  };
  const host: CellHost = {
    env,
    seed,
    stats: emptyHostStats(),
    mailboxCapacity: 1_000,
    nowFor: () => now,
    timerDelayFor: (_node, d) => d,
    route: (from, to, message) => onSend(from, to, message as Wire),
    ready: () => {},
    actorError: (address, _incarnation, error) => {
      problems.push(`${address} threw: ${error instanceof Error ? error.message : String(error)}`);
      down.add(address);
    },
  };

  function onSend(from: string, to: string, msg: Wire): void {
    const acks = models.get(from)?.acks;
    if (acks !== undefined && msg.type === 'pxs') {
      for (const { s, m } of msg.m) {
        const a = acks[s]!;
        const promise = m.type === 'promise' ? m.ballot : m.type === 'nack' ? m.promised : undefined;
        if (promise !== undefined && (a.promised === undefined || compareBallots(promise, a.promised) > 0)) a.promised = promise;
        if (m.type === 'accepted') {
          const seen = a.accepted.get(m.index);
          if (seen === undefined || compareBallots(m.ballot, seen) > 0) a.accepted.set(m.index, m.ballot);
        }
        if (m.type === 'heartbeat-ack') a.commit = Math.max(a.commit, m.commitIndex);
      }
    }
    if (acks !== undefined && msg.type === 'res' && msg.ok) {
      acks[msg.s]!.applied = Math.max(acks[msg.s]!.applied, msg.pos);
      result.acked++;
    }
    if (to === CLIENT) return;
    net.push({ from, to, msg: wire(msg) });
  }

  /** Run one step of server `id` (or its start), with the model's bookkeeping around it. */
  function stepOf(id: string, run: () => void): void {
    const model = models.get(id)!;
    current = { id, start: model.produced.length, replaced: false, appendedAfter: false };
    try {
      run();
    } finally {
      const c = current;
      current = undefined;
      if (c.replaced && c.appendedAfter) result.midStepCheckpoints++;
      if (model.produced.length > c.start || c.replaced) {
        const mark = { start: c.start, end: model.produced.length, t: now };
        model.steps.push(mark);
        if (c.replaced) model.checkpoint = mark;
      }
    }
  }

  function deliver(to: string, from: string, msg: Wire): void {
    const cell = cells.get(to);
    if (cell === undefined || down.has(to)) return;
    stepOf(to, () => {
      if (!cell.enqueue({ to, from, msg: msg as unknown as Message })) return;
      cell.run(1);
    });
  }

  function crash(id: string): void {
    cells.get(id)?.kill();
    down.add(id);
  }

  function start(id: string): void {
    const spec: ActorSpec = { address: id, behavior: 'shardlog-server', params: null, region: 'r', node: id, supervision: 'stop' };
    const cell = new Cell(host, spec, behavior as unknown as Behavior);
    cells.set(id, cell);
    down.delete(id);
    stepOf(id, () => cell.start());
    afterStart(id, cell);
  }

  /** The first check of a start: the records recovered against the model (at init, before anything is built from them). */
  function onRecovered(id: string, recovered: ShardRecord[]): void {
    const model = models.get(id)!;
    const n = model.produced.length;
    let lo = n;
    let hi = n;
    const h = model.lossHorizon;
    if (h !== undefined) {
      let e = 0;
      for (const step of model.steps) if (step.t <= h) e = Math.max(e, step.end);
      const cp = model.checkpoint;
      if (cp !== undefined && cp.t > h && model.floor < cp.end) {
        lo = Math.max(cp.start, e, model.floor);
        hi = cp.end;
      } else {
        lo = hi = Math.max(e, model.floor);
      }
    }
    const imageCheck = options.imageCheck !== false;
    if (imageCheck && recovered.length !== model.frames)
      problems.push(`${id} recovered ${recovered.length} records, where its last checkpoint and the appends after it (less those lost) are ${model.frames}`);
    const read = meanings(recovered);
    reading.set(id, read);
    const got = canonMeanings(read);
    let k = -1;
    for (let i = hi; i >= lo; i--) {
      if (canonMeanings(meanings(model.produced, i)) === got) {
        k = i;
        break;
      }
    }
    if (!imageCheck && k < 0) k = hi;
    if (k < 0) {
      problems.push(
        `${id} recovered a log that reads as none of the records it was handed, first ${lo} to ${hi} of ${n} (${h === undefined ? 'nothing lost' : `a power loss, horizon ${h}`}): ${describeDiff(meanings(model.produced, hi), meanings(recovered))}`,
      );
      k = hi;
    }
    if (k < n) {
      lossy = true;
      result.lossyPowerLosses++;
      model.acks = noAcks();
    }
    model.produced.length = k;
    if (current?.id === id) current.start = k;
    model.steps = model.steps.filter((step) => step.start < k).map((step) => ({ ...step, end: Math.min(step.end, k) }));
    if (model.checkpoint !== undefined && model.checkpoint.start >= k) model.checkpoint = undefined;
    if (h !== undefined) model.floor = k;
    model.floor = Math.min(model.floor, k);
    model.frames = recovered.length;
    model.lossHorizon = undefined;
  }

  /** After a start: what the server reported before it went down is still what it holds. */
  function afterStart(id: string, cell: Cell): void {
    const state = cell.peekState() as NodeState | undefined;
    if (state === undefined) return;
    const model = models.get(id)!;
    const recovered = reading.get(id)!;
    result.ackChecks++;
    for (let s = 0; s < SHARDS; s++) {
      const a = model.acks[s]!;
      const group = state.groups[s]!;
      const st = group.core.status();
      if (a.promised !== undefined && compareBallots(st.promised, a.promised) < 0)
        problems.push(`${id} shard ${s}: promised ${show(a.promised)} before the crash, ${show(st.promised)} after`);
      if (st.commitIndex < a.commit) problems.push(`${id} shard ${s}: reported commit index ${a.commit}, recovered ${st.commitIndex}`);
      for (const [i, b] of a.accepted) {
        if (i <= st.commitIndex) continue;
        const slot = recovered[s]!.slots.get(i);
        if (slot?.chosen === undefined && (slot?.acc === undefined || compareBallots(slot.acc.ballot, b) < 0))
          problems.push(
            `${id} shard ${s}: accepted slot ${i} at ${show(b)}, recovered ${slot?.acc === undefined ? 'nothing there' : `it at ${show(slot.acc.ballot)}`}`,
          );
      }
      if (group.sm.applied < a.applied) problems.push(`${id} shard ${s}: acknowledged a put at position ${a.applied}, recovered up to ${group.sm.applied}`);
      checkData(id, s, group);
    }
  }

  function checkData(id: string, s: number, group: GroupReplica): void {
    if (lossy) return;
    const expected = reference[s]!.data[group.sm.applied];
    if (expected !== undefined && expected !== dataOf(group.sm))
      problems.push(`${id} shard ${s}: data at position ${group.sm.applied} is ${dataOf(group.sm)}, after the commands applied there ${expected}`);
  }

  const live = (): string[] => SERVERS.filter((id) => !down.has(id));
  const leaderOf = (s: number): string | undefined =>
    live().find((id) => ((cells.get(id)!.peekState() as NodeState | undefined)?.groups[s]!.isLeader() ?? false) === true);
  let rid = 0;

  function deliverOne(faults: boolean): void {
    if (net.length === 0) return;
    const i = prng.int(Math.min(net.length, faults ? 4 : 2));
    const m = net[i]!;
    if (!faults || !prng.chance(0.05)) net.splice(i, 1);
    if (faults && prng.chance(0.05)) return; // dropped
    deliver(m.to, m.from, m.msg);
  }

  function request(): void {
    const s = prng.int(SHARDS);
    const to = (prng.chance(0.8) ? leaderOf(s) : undefined) ?? prng.pick(SERVERS);
    rid++;
    net.push({ from: CLIENT, to, msg: { type: 'req', s, rid, key: `k${prng.int(KEYS)}`, value: rid, rq: `c1:${rid}` } });
  }

  function tick(): void {
    const l = live();
    if (l.length === 0) return;
    const id = prng.pick(l);
    deliver(id, id, { type: 'tick' });
  }

  for (const id of SERVERS) start(id);
  for (let step = 0; step < STEPS && problems.length === 0; step++) {
    now += prng.int(60);
    const roll = prng.next();
    const l = live();
    if (roll < 0.45) deliverOne(true);
    else if (roll < 0.65) tick();
    else if (roll < 0.77) request();
    else if (roll < 0.83) {
      if (l.length > 0) (cells.get(prng.pick(l))!.peekState() as NodeState).log.checkpointSoon();
    } else if (roll < 0.855) {
      if (l.length > 0) crash(prng.pick(l));
    } else if (roll < 0.875) {
      if (l.length > 0) {
        const id = prng.pick(l);
        cells.get(id)!.crashAfterNextWrite(() => {
          result.crashesAfterWrite++;
          crash(id);
        });
      }
    } else if (roll < 0.895) {
      const id = prng.pick(SERVERS);
      crash(id);
      const r = store.powerLoss(
        (a) => a === id,
        () => prng.chance(0.5),
        (bytes) => 1 + prng.int(bytes - 1),
      );
      result.tornTails += r.torn;
      const model = models.get(id)!;
      model.frames -= r.lost;
      if (!fsync && model.lossHorizon === undefined) model.lossHorizon = now - writebackMs;
    } else {
      const d = SERVERS.filter((id) => down.has(id));
      if (d.length > 0) {
        result.restarts++;
        start(prng.pick(d));
      }
    }
  }
  // Heal: everyone up, no faults; then a crash and a restart of everyone.
  for (const id of SERVERS) {
    cells.get(id)!.crashAfterNextWrite(undefined);
    if (down.has(id) && problems.length === 0) {
      result.restarts++;
      start(id);
    }
  }
  for (let step = 0; step < HEAL_STEPS && problems.length === 0; step++) {
    now += prng.int(60);
    const roll = prng.next();
    if (roll < 0.6) deliverOne(false);
    else if (roll < 0.85) tick();
    else request();
  }
  for (const id of SERVERS) {
    if (problems.length > 0) break;
    crash(id);
    result.restarts++;
    start(id);
  }
  return result;
}

function show(b: Ballot): string {
  return `${b.round}.${b.id}`;
}

function describeDiff(want: Meaning[], got: Meaning[]): string {
  for (let s = 0; s < SHARDS; s++) {
    const w = want[s]!;
    const g = got[s]!;
    if (canon(w.promised) !== canon(g.promised)) return `shard ${s} promised ${canon(w.promised)}, read ${canon(g.promised)}`;
    if (w.commit !== g.commit) return `shard ${s} commit index ${w.commit}, read ${g.commit}`;
    if ((w.snapshot?.index ?? 0) !== (g.snapshot?.index ?? 0)) return `shard ${s} snapshot at ${w.snapshot?.index ?? 0}, read ${g.snapshot?.index ?? 0}`;
    for (const i of new Set([...w.slots.keys(), ...g.slots.keys()]))
      if (canon(w.slots.get(i)) !== canon(g.slots.get(i))) return `shard ${s} slot ${i}: ${canon(w.slots.get(i))}, read ${canon(g.slots.get(i))}`;
  }
  return 'the same reading (a later prefix?)';
}
