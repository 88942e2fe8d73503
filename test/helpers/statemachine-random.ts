/**
 * One seed of the replicated key-value state machine (src/replication/state-machine.ts) driven
 * by chosen logs the cluster can produce (test/statemachine-random.part.ts runs it;
 * test/helpers/core-mutant.ts runs it on a scratch copy of dist/ with a bug put in, so the
 * imports here are relative).
 *
 * Per seed: small memory bounds (1-8 request ids and finished transactions remembered, at times
 * 64), 2-4 clients numbering their requests `c<i>:<n>` in order, a few at a time in flight (so
 * they reach the log out of order), over three to five keys; transactions `r1:i<k>:<n>` of one to
 * three ops. Copies of a request come again: soon after it (a network duplicate, a retry to
 * another leader) or much later (a late copy, past what the shard remembers); copies of
 * prepares, commits and aborts too. A coordinator commits only after the shard's yes vote was
 * applied, otherwise commits or aborts as it likes.
 *
 * - active (half the seeds): every command is a client op or a transaction's command, chosen as
 *   proposed.
 * - passive: a sequence of primary reigns, as group.ts runs them. A reign's barrier (seq 0) is
 *   chosen; its primary (one of the replicas, caught up to the barrier) clones its state
 *   machine and computes each operation's effect on that working copy (dedup included),
 *   numbering effects and the commands it proposes (`term`, `seq`); an op on a locked key is
 *   proposed as an op. When the reign ends, any of its last few slots (not yet chosen) may be
 *   lost: a no-op takes the slot, or a value an older reign proposed for the same slot and
 *   nobody chose then. When the lost slots are the reign's last, the next primary may not
 *   have seen them at all and put its barrier in the first of them (so an older reign's value
 *   can come back in a later reign's slot).
 * - three replicas apply the log at their own pace; they take snapshots between commands,
 *   restart (restore their last snapshot, or start empty if they took none, and apply again
 *   what follows) and, lagging, install another replica's newer snapshot.
 *
 * Checked, against a sequential model with unbounded memory (every request executed at most
 * once, its answer the first execution's; a prepared transaction's keys held until it ends,
 * single-key operations on them waiting):
 * - every replica's answers and data after each command are those of the first replica that
 *   applied it (replicas agree, however restored);
 * - an op is executed only the first time its request id is applied, its answer the model's;
 *   a copy gets the first answer, or 'forgotten' (TIMEOUT); a first copy is answered
 *   'forgotten' only when a later request of its client was executed before it;
 * - an effect applied (not refused) has the writes and result of executing its request on the
 *   state it is applied to (a copy's effect: no writes, the first result); a refused effect
 *   changes nothing; no effect touches a key a prepared transaction holds;
 * - a prepare votes yes only if no other prepared transaction holds one of its keys, it is not
 *   finished and its checks hold; a transaction commits on the state it read at prepare;
 * - after every command, the data equals the model's; no assertion fails.
 */
import { Prng } from '../../src/core/prng.js';
import type { MemoryLimits } from '../../src/core/limits.js';
import type { RequestBody, TxnOp, TxnReads } from '../../src/replication/ops.js';
import {
  evaluateTxn,
  executeOn,
  FORGOTTEN_MESSAGE,
  KvStateMachine,
  sameValue,
  type Command,
  type Completion,
  type Snapshot,
  type Write,
} from '../../src/replication/state-machine.js';

type OpCommand = Extract<Command, { k: 'op' }>;
type EffectCommand = Extract<Command, { k: 'effect' }>;

const REPLICAS = 3;
/** Requests a client has issued and not yet delivered, at most (they reach the log in any order). */
const CLIENT_WINDOW = 3;
/** Of a passive reign, the last this many slots may still be unchosen when it ends. */
const TAIL_MAX = 6;

export interface SeedResult {
  problems: string[];
  mode: 'active' | 'passive';
  commands: number;
  /** Copies of requests applied after their request was executed. */
  copies: number;
  /** Answers 'forgotten' (copies older than what is remembered). */
  forgotten: number;
  refusedEffects: number;
  restores: number;
  committed: number;
}

class Stop extends Error {}

/** Values as text, undefined kept (JSON would drop it). */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '<undefined>' : x)) ?? '<undefined>';
}

/** The data's entries by key, to show. */
function entries(data: Map<string, unknown>): Array<[string, unknown]> {
  return [...data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sameData(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
  return true;
}

function clientOf(rq: string): [string, number] {
  const at = rq.lastIndexOf(':');
  return [rq.slice(0, at), Number(rq.slice(at + 1))];
}

/** The sequential model: unbounded memory of requests and transactions. */
class Model {
  readonly data = new Map<string, unknown>();
  readonly executed = new Map<string, unknown>();
  /** Per client, the highest request number executed. */
  readonly highest = new Map<string, number>();
  readonly prepared = new Map<string, { ops: TxnOp[]; reads: TxnReads }>();
  readonly locks = new Map<string, string>();
  readonly waiting = new Map<string, OpCommand[]>();
  readonly finished = new Set<string>();
  /** Per coordinator incarnation, the highest transaction number finished. */
  readonly highestTxn = new Map<string, number>();
  copies = 0;
  forgotten = 0;
  refused = 0;
  committed = 0;
  private out: Completion[] = [];
  private at = 0;
  private where = '';

  constructor(
    private readonly bodies: Map<string, RequestBody>,
    private readonly problem: (p: string) => never,
  ) {}

  /** Check what `command` (log position `pos`) produced against the model, and follow it. */
  apply(command: Command, out: Completion[], pos: number): void {
    this.out = out;
    this.at = 0;
    this.where = `log ${pos} (${command.k}${'id' in command ? ` ${command.id}` : ''}${'txn' in command ? ` ${command.txn}` : ''})`;
    switch (command.k) {
      case 'op':
        this.applyOp(command);
        break;
      case 'effect':
        this.effect(command);
        break;
      case 'prepare':
        this.prepare(command.txn, command.ops);
        break;
      case 'commit':
      case 'abort':
        this.finish(command.txn, command.k);
        break;
      case 'pc':
      case 'noop':
        break;
    }
    if (this.at !== out.length) this.fail(`unexpected answers ${show(out.slice(this.at))}`);
  }

  private fail(what: string): never {
    return this.problem(`${this.where}: ${what}`);
  }

  private next(): Completion {
    const c = this.out[this.at++];
    if (c === undefined) return this.fail(`an answer is missing (answers ${show(this.out)})`);
    return c;
  }

  private applyOp(command: OpCommand): void {
    if (this.locks.has(command.body.key)) {
      let queue = this.waiting.get(command.body.key);
      if (queue === undefined) this.waiting.set(command.body.key, (queue = []));
      queue.push(command);
      return;
    }
    this.execute(command);
  }

  private execute(command: OpCommand): void {
    const c = this.next();
    const rq = command.body.rq!;
    if (!('id' in c) || c.id !== command.id) this.fail(`expected the answer of ${command.id} (${rq}), got ${show(c)}`);
    if (!c.ok && c.code === 'TIMEOUT' && c.message === FORGOTTEN_MESSAGE) {
      this.forgotten++;
      if (this.executed.has(rq)) return;
      const [client, n] = clientOf(rq);
      if ((this.highest.get(client) ?? -1) > n) return;
      this.fail(`the first copy of ${rq} was answered 'forgotten', though no later request of ${client} was executed before it`);
    }
    if (this.executed.has(rq)) {
      this.copies++;
      const first = this.executed.get(rq);
      if (!c.ok || !sameValue(c.value, first)) this.fail(`a copy of ${rq} was answered ${show(c)}; its first execution answered ${show(first)}`);
      return;
    }
    const r = executeOn(this.data, command.body);
    if (!r.ok) return this.fail(`the model cannot execute ${show(command.body)}`);
    if (!c.ok || !sameValue(c.value, r.value))
      this.fail(`${rq} ${show(command.body)} was answered ${show(c)}; executed in log order it gives ${show(r.value)}`);
    this.run(rq, r.value, r.writes);
  }

  private run(rq: string, value: unknown, writes: Write[]): void {
    for (const w of writes) {
      if (w.del) this.data.delete(w.key);
      else this.data.set(w.key, w.value);
    }
    this.executed.set(rq, value);
    const [client, n] = clientOf(rq);
    if ((this.highest.get(client) ?? -1) < n) this.highest.set(client, n);
  }

  private effect(command: EffectCommand): void {
    const c = this.next();
    if (!('id' in c) || c.id !== command.id) this.fail(`expected the answer of ${command.id}, got ${show(c)}`);
    if (!c.ok) {
      if (c.code !== 'UNAVAILABLE' || command.seq === 0) this.fail(`the effect was answered ${show(c)}`);
      this.refused++;
      return;
    }
    if (!sameValue(c.value, command.result)) this.fail(`the effect was answered ${show(c.value)}, not its result ${show(command.result)}`);
    if (command.seq === 0) return; // A barrier.
    const body = this.bodies.get(command.id);
    if (body === undefined) return this.fail('an effect of no known request');
    const rq = body.rq!;
    if (this.locks.has(body.key)) {
      this.fail(`the effect of ${rq} ${show(body)} was applied while transaction ${this.locks.get(body.key)} holds key ${body.key}`);
    }
    if (this.executed.has(rq)) {
      this.copies++;
      const first = this.executed.get(rq);
      if (command.writes.length > 0 || !sameValue(command.result, first)) {
        this.fail(
          `${rq} executed again: a copy's effect writes ${show(command.writes)} and answers ${show(command.result)}; its first execution answered ${show(first)}`,
        );
      }
      return;
    }
    const r = executeOn(this.data, body);
    if (!r.ok) return this.fail(`the model cannot execute ${show(body)}`);
    if (!sameValue(r.value, command.result) || show(r.writes) !== show(command.writes)) {
      this.fail(
        `the effect of ${rq} ${show(body)} (writes ${show(command.writes)}, result ${show(command.result)}) is applied to a state on which the request gives writes ${show(r.writes)}, result ${show(r.value)}`,
      );
    }
    this.run(rq, r.value, r.writes);
  }

  private prepare(txn: string, ops: TxnOp[]): void {
    const c = this.next();
    if (!('vote' in c) || c.txn !== txn) return this.fail(`expected the vote, got ${show(c)}`);
    if (this.prepared.has(txn)) {
      if (!c.vote) this.fail(`a copy of the prepare of ${txn}, prepared here, voted no (${c.reason ?? ''})`);
      return;
    }
    if (this.finished.has(txn)) {
      if (c.vote) this.fail(`a late prepare of ${txn}, finished here, voted yes`);
      return;
    }
    const holder = ops.map((op) => this.locks.get(op.key)).find((h) => h !== undefined);
    const run = evaluateTxn(this.data, ops);
    if (!c.vote) {
      if (holder !== undefined || !run.ok) return;
      const [source, n] = clientOf(txn);
      if ((this.highestTxn.get(source) ?? -1) > n) return; // Finished later ones forgotten: it may be taken for a late copy.
      this.fail(`voted no (${c.reason ?? ''}) though no transaction holds its keys and its checks hold`);
    }
    if (holder !== undefined) this.fail(`voted yes though transaction ${holder} holds one of its keys ${show(ops.map((op) => op.key))}`);
    if (!run.ok) this.fail(`voted yes though ${run.reason}`);
    this.prepared.set(txn, { ops, reads: run.reads });
    for (const op of ops) this.locks.set(op.key, txn);
  }

  private finish(txn: string, outcome: 'commit' | 'abort'): void {
    const c = this.next();
    if (!('done' in c) || c.txn !== txn || c.done !== outcome) return this.fail(`expected ${outcome} of ${txn}, got ${show(c)}`);
    this.finished.add(txn);
    const [source, n] = clientOf(txn);
    if ((this.highestTxn.get(source) ?? -1) < n) this.highestTxn.set(source, n);
    const p = this.prepared.get(txn);
    if (p === undefined) return;
    this.prepared.delete(txn);
    if (outcome === 'commit') {
      this.committed++;
      const run = evaluateTxn(this.data, p.ops);
      if (!run.ok) return this.fail(`commits on a state where ${run.reason}`);
      if (show(run.reads) !== show(p.reads)) this.fail(`commits on a state where it reads ${show(run.reads)}; its prepare read ${show(p.reads)}`);
      for (const w of run.writes) {
        if (w.del) this.data.delete(w.key);
        else this.data.set(w.key, w.value);
      }
    }
    for (const op of p.ops) if (this.locks.get(op.key) === txn) this.locks.delete(op.key);
    for (const op of p.ops) {
      const queue = this.waiting.get(op.key);
      if (queue === undefined) continue;
      this.waiting.delete(op.key);
      for (const waiter of queue) this.applyOp(waiter);
    }
  }
}

interface Replica {
  sm: KvStateMachine;
  /** Log entries applied. */
  pos: number;
  snap: { pos: number; snapshot: Snapshot } | undefined;
}

interface TxnState {
  id: string;
  ops: TxnOp[];
  decided?: 'commit' | 'abort';
}

export function runSeed(seed: number): SeedResult {
  const prng = new Prng(`statemachine-random:${seed}`);
  const mode: 'active' | 'passive' = prng.chance(0.5) ? 'active' : 'passive';
  const small = (): number => 1 + prng.int(8);
  const limits: MemoryLimits = {
    seenRequests: prng.chance(0.15) ? 64 : small(),
    finishedTxns: prng.chance(0.15) ? 64 : small(),
    begunRequests: 16,
    routedRequests: 16,
  };
  const clients = 2 + prng.int(3);
  const KEYS = ['a', 'b', 'c', 'd', 'e'].slice(0, 3 + prng.int(3));
  const txnShare = prng.pick([0, 0.1, 0.25]);
  const lateShare = prng.pick([0.05, 0.15, 0.3]);
  const copyShare = prng.pick([0.1, 0.25, 0.4]);
  const target = 150 + prng.int(150);

  const problems: string[] = [];
  const bodies = new Map<string, RequestBody>();
  const model = new Model(bodies, (p) => {
    problems.push(p);
    throw new Stop(p);
  });
  const log: Command[] = [];
  const records: Array<{ out: Completion[]; data: Map<string, unknown> }> = [];
  const replicas: Replica[] = Array.from({ length: REPLICAS }, () => ({ sm: new KvStateMachine(limits), pos: 0, snap: undefined }));
  let restores = 0;
  let nextId = 0;

  const applyNext = (r: Replica, i: number): void => {
    const pos = r.pos;
    const command = log[pos]!;
    const out = r.sm.apply(command);
    r.pos++;
    const rec = records[pos];
    const data = r.sm.data;
    if (rec === undefined) {
      model.apply(command, out, pos);
      records[pos] = { out, data: new Map(data) };
      if (!sameData(data, model.data)) {
        problems.push(`log ${pos} (${command.k}): replica ${i} holds ${show(entries(data))}; executed in log order the data is ${show(entries(model.data))}`);
        throw new Stop('data');
      }
    } else if (!sameValue(rec.out, out) || !sameData(rec.data, data)) {
      problems.push(
        `log ${pos} (${command.k}): replica ${i} answered ${show(out)} and holds ${show(entries(data))}; the first replica to apply it answered ${show(rec.out)} and held ${show(entries(rec.data))}`,
      );
      throw new Stop('diverged');
    }
    if (r.sm.applied !== r.pos) {
      problems.push(`replica ${i}: applied ${r.sm.applied} after ${r.pos} commands`);
      throw new Stop('applied');
    }
  };
  const catchUp = (i: number, upTo: number): void => {
    const r = replicas[i]!;
    while (r.pos < upTo) applyNext(r, i);
  };

  /** What the replicas do between steps: apply some of the log, snapshot, restart, install. */
  const replicaEvents = (final: number): void => {
    const i = prng.int(REPLICAS);
    const r = replicas[i]!;
    const roll = prng.next();
    if (roll < 0.6) catchUp(i, Math.min(final, r.pos + 1 + prng.int(12)));
    // A snapshot as persisted or sent (a copy; restoring one does not change it).
    else if (roll < 0.7) r.snap = { pos: r.pos, snapshot: structuredClone(r.sm.snapshot()) };
    else if (roll < 0.8) {
      // A restart: the last snapshot (or nothing, if it never took one), then the log after it.
      r.sm = new KvStateMachine(limits);
      r.pos = 0;
      if (r.snap !== undefined) {
        r.sm.restore(r.snap.snapshot);
        r.pos = r.snap.pos;
        restores++;
      }
    } else if (roll < 0.88) {
      // Lagging: another replica's newer snapshot.
      const other = replicas[prng.int(REPLICAS)]!;
      if (other.snap !== undefined && other.snap.pos > r.pos) {
        r.sm.restore(other.snap.snapshot);
        r.pos = other.snap.pos;
        r.snap = other.snap;
        restores++;
      }
    }
  };

  // Clients and their requests.
  const nextRid = Array.from({ length: clients }, () => 0);
  const undelivered: RequestBody[][] = Array.from({ length: clients }, () => []);
  const delivered: RequestBody[] = [];
  let valueN = 0;
  const newBody = (c: number, view: Map<string, unknown>): RequestBody => {
    const key = prng.pick(KEYS);
    const rq = `c${c}:${nextRid[c]!++}`;
    const roll = prng.next();
    if (roll < 0.35) return { op: 'put', key, value: ++valueN, rq };
    if (roll < 0.55) return { op: 'get', key, rq };
    if (roll < 0.65) return { op: 'delete', key, rq };
    const expected = prng.chance(0.6) ? view.get(key) : prng.chance(0.5) ? undefined : 1 + prng.int(Math.max(1, valueN));
    return { op: 'cas', key, expected, value: ++valueN, rq };
  };
  /** A request reaching the leader: a new one, or a copy of one delivered before. */
  const request = (view: Map<string, unknown>): RequestBody => {
    if (delivered.length > 0 && prng.chance(copyShare)) {
      const late = prng.chance(lateShare);
      const from = late ? 0 : Math.max(0, delivered.length - 4);
      return structuredClone(delivered[from + prng.int(delivered.length - from)]!);
    }
    const c = prng.int(clients);
    const pending = undelivered[c]!;
    while (pending.length === 0 || (pending.length < CLIENT_WINDOW && prng.chance(0.3))) pending.push(newBody(c, view));
    const body = pending.splice(prng.int(pending.length), 1)[0]!;
    delivered.push(body);
    return structuredClone(body);
  };

  // Transactions: a coordinator's view.
  const txns: TxnState[] = [];
  let txnInc = 0;
  let txnN = 0;
  const newTxn = (view: Map<string, unknown>): TxnState => {
    if (prng.chance(0.05)) {
      txnInc++;
      txnN = 0;
    }
    const ops: TxnOp[] = [];
    for (let n = 1 + prng.int(3); n > 0; n--) {
      const key = prng.pick(KEYS);
      const roll = prng.next();
      if (roll < 0.35) ops.push({ op: 'put', key, value: ++valueN });
      else if (roll < 0.6) ops.push({ op: 'get', key });
      else if (roll < 0.75) ops.push({ op: 'check', key, value: prng.chance(0.8) ? view.get(key) : ++valueN });
      else if (roll < 0.85) ops.push({ op: 'delete', key });
      else ops.push({ op: 'append', key, value: ++valueN });
    }
    const t: TxnState = { id: `r1:i${txnInc}:${txnN++}`, ops };
    txns.push(t);
    return t;
  };
  /** A transaction command the coordinator (or a copy in the network) sends now, if any. */
  const txnCommand = (view: Map<string, unknown>): Extract<Command, { k: 'prepare' | 'commit' | 'abort' }> | undefined => {
    const roll = prng.next();
    const open = txns.filter((t) => t.decided === undefined);
    if (txns.length === 0 || roll < 0.3 || (open.length === 0 && roll < 0.6)) {
      const t = newTxn(view);
      return { k: 'prepare', txn: t.id, ops: structuredClone(t.ops) };
    }
    const recentOrLate = (list: TxnState[]): TxnState => list[prng.chance(lateShare) ? prng.int(list.length) : Math.max(0, list.length - 1 - prng.int(4))]!;
    if (roll < 0.45) {
      const t = recentOrLate(txns);
      return { k: 'prepare', txn: t.id, ops: structuredClone(t.ops) }; // A copy (or a retry).
    }
    if (open.length > 0 && roll < 0.85) {
      const t = prng.pick(open);
      // Commit only after this shard's yes vote was applied (another shard may vote no: abort);
      // one whose vote is not in may time out and abort.
      if (model.prepared.has(t.id)) t.decided = prng.chance(0.8) ? 'commit' : 'abort';
      else if (prng.chance(0.4)) t.decided = 'abort';
      else return undefined;
      return { k: t.decided, txn: t.id };
    }
    const decided = txns.filter((t) => t.decided !== undefined);
    if (decided.length === 0) return undefined;
    const t = recentOrLate(decided);
    return { k: t.decided!, txn: t.id }; // A copy of the outcome.
  };

  try {
    if (mode === 'active') {
      while (log.length < target) {
        const view = replicas[0]!.sm.data;
        let command: Command | undefined;
        const roll = prng.next();
        if (roll < txnShare) command = txnCommand(model.data);
        else if (roll < txnShare + 0.03) command = { k: 'noop' };
        else command = { k: 'op', id: `x${nextId++}`, body: request(prng.chance(0.5) ? model.data : view) };
        if (command !== undefined) log.push(command);
        while (prng.chance(0.4)) replicaEvents(log.length);
      }
    } else {
      /** Values proposed for a slot and never chosen there, by slot. */
      const stale = new Map<number, Command[]>();
      let round = 0;
      while (log.length < target) {
        round++;
        const primary = prng.int(REPLICAS);
        const term = `${round}.s${primary}`;
        log.push({ k: 'effect', id: `barrier${round}`, writes: [], result: null, term, seq: 0 });
        const start = log.length; // The reign's first slot after its barrier.
        catchUp(primary, log.length);
        const spec = replicas[primary]!.sm.clone();
        const reign: Command[] = [];
        let seq = 1;
        const propose = (command: Exclude<Command, { k: 'noop' | 'effect' }> | EffectCommand): void => {
          command.term = term;
          command.seq = seq++;
          spec.apply(command);
          reign.push(command);
        };
        for (let n = 1 + prng.int(14); n > 0; n--) {
          if (prng.chance(txnShare)) {
            const command = txnCommand(spec.data);
            // Committed only where the prepare is (a commit of what the primary's copy neither
            // prepared nor finished is dropped before it is proposed: Participants.drain).
            if (command !== undefined && (command.k !== 'commit' || spec.holdsTxn(command.txn))) propose(command);
            continue;
          }
          const body = request(spec.data);
          const id = `x${nextId++}`;
          if (spec.isLocked(body.key)) {
            propose({ k: 'op', id, body });
            continue;
          }
          const earlier = spec.seen(body.rq);
          if (earlier === 'forgotten') continue; // Answered TIMEOUT by the primary: nothing proposed.
          const r = earlier !== undefined ? { ok: true as const, value: earlier.value, writes: [] } : executeOn(spec.data, body);
          if (!r.ok) continue;
          bodies.set(id, body);
          const effect: EffectCommand = { k: 'effect', id, writes: r.writes, result: r.value, term, seq: 0 };
          if (body.rq !== undefined) effect.rq = body.rq;
          propose(effect);
        }
        // The reign ends: of its last slots, any may be unchosen (lost).
        const tail = Math.min(reign.length, prng.int(TAIL_MAX + 1));
        const lost = reign.map((_, j) => j >= reign.length - tail && prng.chance(0.5));
        // The next primary may not have seen a lost last stretch: its barrier takes the first of those slots.
        let keep = reign.length;
        if (prng.chance(0.5)) while (keep > 0 && lost[keep - 1]) keep--;
        for (let j = 0; j < reign.length; j++) {
          const slot = start + j;
          const older = stale.get(slot) ?? [];
          if (lost[j]) stale.set(slot, [...older, reign[j]!]);
          if (j >= keep) continue;
          if (!lost[j]) log.push(reign[j]!);
          else log.push(older.length > 0 && prng.chance(0.5) ? structuredClone(prng.pick(older)) : { k: 'noop' });
        }
        for (let e = 1 + prng.int(4); e > 0; e--) replicaEvents(log.length);
      }
    }
    // Everyone applies the whole log.
    for (let i = 0; i < REPLICAS; i++) catchUp(i, log.length);
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
  }
  return {
    problems,
    mode,
    commands: log.length,
    copies: model.copies,
    forgotten: model.forgotten,
    refusedEffects: model.refused,
    restores,
    committed: model.committed,
  };
}
