/**
 * Snapshots larger than a message, sent in pieces (src/protocols/snapshot-pieces.ts): the
 * assembly never hands back a partial or mixed snapshot, and Multi-Paxos cores catch up through
 * pieces under loss, duplication, reordering and crashes.
 */
import test from 'ava';
import { Prng } from '../src/core/prng.js';
import { decodePieces, PieceAssembly, piecesOf, type Piece } from '../src/protocols/snapshot-pieces.js';
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
