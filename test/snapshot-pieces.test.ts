/**
 * Snapshots larger than a message, sent in pieces (src/protocols/snapshot-pieces.ts): the
 * assembly never hands back a partial or mixed snapshot, and Multi-Paxos cores and the learner
 * feed catch up through pieces under loss, duplication, reordering and crashes.
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { decodePieces, PieceAssembly, piecesOf, type Piece } from '../src/protocols/snapshot-pieces.js';
import { LearnerFeed, LearnerReplica } from '../src/replication/learner.js';
import type { LearnMessage } from '../src/replication/messages.js';
import { KvStateMachine, type Command } from '../src/replication/state-machine.js';
import { chaos } from './helpers/multipaxos-cluster.js';

// The assembly ---------------------------------------------------------------------------

/** A snapshot big enough for many pieces of `pieceChars`. */
function bigData(tag: string, n = 200): unknown {
  return { tag, rows: Array.from({ length: n }, (_, i) => [`key${i}`, `${tag}-${i}`.repeat(5)]) };
}

test('the assembly: pieces lost, duplicated and reordered, mixed with pieces of an older snapshot and of another encoding of the same index, never give back a partial or mixed snapshot', (t) => {
  const seed = 5602;
  t.log(`seed ${seed}`);
  const prng = new Prng(seed);
  let completed = 0;
  for (let round = 0; round < 200; round++) {
    const pieceChars = 50 + prng.int(200);
    const index = 10 + prng.int(5);
    // Two encodings of the same index (another leader's), and an older snapshot.
    const aData = bigData(`a${round}`);
    const bData = bigData(`b${round}`, 150 + prng.int(100));
    const a = piecesOf(index, aData, pieceChars)!;
    const b = piecesOf(index, bData, pieceChars)!;
    const old = piecesOf(index - 1, bigData(`old${round}`), pieceChars)!;
    const wire: Piece[] = [];
    for (const s of [a, b, old]) for (let at = 0; at < s.of; at++) if (!prng.chance(0.2)) wire.push(s.piece(at));
    for (let i = 0; i < wire.length / 4; i++) wire.push(prng.pick(wire)); // duplicates
    for (let i = wire.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [wire[i], wire[j]] = [wire[j]!, wire[i]!];
    }
    // Then every piece of `a` (its sender sending again what was lost), in any order, some twice.
    const again = Array.from({ length: a.of }, (_, at) => a.piece(at));
    for (let i = 0; i < a.of / 4; i++) again.push(a.piece(prng.int(a.of)));
    for (let i = again.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [again[i], again[j]] = [again[j]!, again[i]!];
    }
    wire.push(...again);
    const assembly = new PieceAssembly();
    let whole = 0;
    for (const piece of wire) {
      const text = assembly.add(piece);
      if (text === undefined) continue;
      completed++;
      const data = decodePieces(text)!.data as { tag: string; rows: unknown[] };
      t.true(data.tag === `a${round}` || data.tag === `b${round}`, `round ${round}: a whole snapshot of index ${index}, not the older one`);
      t.deepEqual(data, data.tag === `a${round}` ? aData : bData, `round ${round}: exactly one encoding, whole`);
      whole++;
    }
    t.true(whole >= 1, `round ${round}: once every piece of one snapshot came, it is whole`);
  }
  t.true(completed >= 200, `snapshots completed: ${completed} in 200 rounds`);
});

test('the assembly: a newer snapshot supersedes an older one partly held; an older piece after it is ignored', (t) => {
  const old = piecesOf(5, bigData('old'), 100)!;
  const newer = piecesOf(9, bigData('new'), 100)!;
  const assembly = new PieceAssembly();
  for (let at = 0; at < old.of - 1; at++) t.is(assembly.add(old.piece(at)), undefined);
  t.is(assembly.header()?.index, 5);
  t.is(assembly.add(newer.piece(0)), undefined);
  t.is(assembly.header()?.index, 9, 'the newer snapshot replaced the partial older one');
  t.is(assembly.next, 1);
  t.is(assembly.add(old.piece(old.of - 1)), undefined, 'the older snapshot last piece does not complete anything');
  let text: string | undefined;
  for (let at = newer.of - 1; at >= 1; at--) text = assembly.add(newer.piece(at)) ?? text;
  t.deepEqual(decodePieces(text!)!.data, bigData('new'));
  t.is(assembly.header(), undefined, 'forgotten once whole');
});

test('a snapshot that fits goes whole: no pieces below twice the piece size', (t) => {
  t.is(piecesOf(1, { small: 'x'.repeat(100) }, 100), undefined);
  const big = piecesOf(1, { big: 'x'.repeat(1000) }, 100)!;
  t.true(big.of > 1);
  for (let at = 0; at < big.of; at++) t.true(big.piece(at).text.length <= 100);
});

// Multi-Paxos ----------------------------------------------------------------------------

test('Multi-Paxos cores catch up through snapshots in pieces: messages lost, duplicated and reordered, crashes, leader changes (seeded chaos)', (t) => {
  const first = 5610;
  const seeds = 40;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  let pieces = 0;
  let installs = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    // Pieces of 16 bytes: every snapshot past the first few commands goes in pieces.
    const r = chaos(seed, 3_000, false, false, { snapshotPieceBytes: 16 });
    t.deepEqual(r.violations, [], `seed ${seed}`);
    pieces += r.piecesSent ?? 0;
    installs += r.snapshotInstalls ?? 0;
  }
  t.true(pieces > 0 && installs > 0, `snapshot pieces sent: ${pieces}; snapshots installed: ${installs}`);
});

// The learner feed -----------------------------------------------------------------------

test('a learner catches up through snapshots in pieces: learns and acks lost, duplicated and reordered, the learner restarting (seeded)', (t) => {
  const first = 5620;
  const seeds = 30;
  t.log(`seeds ${first}..${first + seeds - 1}`);
  let pieceMessages = 0;
  for (let seed = first; seed < first + seeds; seed++) {
    const prng = new Prng(seed);
    const leader = new KvStateMachine();
    const feed = new LearnerFeed(['l'], 256);
    let learner = new LearnerReplica();
    // What the leader's state was at each applied count (its digest): a learner's state is always one of them.
    const states = new Map<number, number>([[0, leader.digest]]);
    type InFlight = { toLearner: true; msg: LearnMessage } | { toLearner: false; msg: Extract<LearnMessage, { type: 'learn-ack' }> };
    let queue: InFlight[] = [];
    let n = 0;
    const bad: string[] = [];
    const step = (fair: boolean): void => {
      if (!fair && prng.chance(0.3)) {
        for (let i = 0, k = 1 + prng.int(100); i < k; i++) {
          const command: Command = { k: 'op', id: `c${n}`, body: { op: 'put', key: `k${n % 50}`, value: `v${n}`.repeat(8) } };
          n++;
          leader.apply(command);
          feed.record(leader.applied, command);
          states.set(leader.applied, leader.digest);
        }
      }
      if (!fair && prng.chance(0.01)) learner = new LearnerReplica(); // restarted: it keeps no log
      for (const m of feed.tick(0, leader.applied, leader)) queue.push({ toLearner: true, msg: m.msg });
      // Deliver some messages, in any order; lose or duplicate some.
      const next: InFlight[] = [];
      for (const m of queue) {
        if (!fair && prng.chance(0.3)) {
          next.push(m);
          continue;
        }
        if (!fair && prng.chance(0.15)) continue;
        if (!fair && prng.chance(0.05)) next.push(m);
        if (m.toLearner) {
          let ack: Extract<LearnMessage, { type: 'learn-ack' }>;
          if (m.msg.type === 'learn') ack = { type: 'learn-ack', s: 0, applied: learner.receive(m.msg) };
          else if (m.msg.type === 'learn-piece') {
            pieceMessages++;
            const { applied, piece } = learner.receivePiece(m.msg);
            ack = piece === undefined ? { type: 'learn-ack', s: 0, applied } : { type: 'learn-ack', s: 0, applied, piece };
          } else continue;
          if (states.get(learner.sm.applied) !== learner.sm.digest)
            bad.push(`seed ${seed}: the learner's state at ${learner.sm.applied} is not the leader's then`);
          next.push({ toLearner: false, msg: ack });
        } else feed.ack('l', m.msg.applied, m.msg.piece);
      }
      queue = next;
      if (!fair)
        for (let i = queue.length - 1; i > 0; i--) {
          const j = prng.int(i + 1);
          [queue[i], queue[j]] = [queue[j]!, queue[i]!];
        }
    };
    for (let i = 0; i < 600; i++) step(false);
    for (let i = 0; i < 2_000 && learner.sm.applied < leader.applied; i++) step(true);
    t.deepEqual(bad, []);
    t.is(learner.sm.applied, leader.applied, `seed ${seed}: the learner caught up`);
    t.deepEqual(learner.sm.snapshot().data, leader.snapshot().data, `seed ${seed}: the learner holds the leader's data`);
  }
  t.true(pieceMessages > 0, `pieces delivered: ${pieceMessages}`);
});
