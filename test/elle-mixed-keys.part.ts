import test from 'ava';
import { checkTransactions, startCluster, ValidationError, type ElleOp } from '../src/index.js';

// A list-append history of a key a plain put wrote (a register) holds a read of that value:
// checkTransactions said only "expected null or a list of values, got an object", which reads
// as a malformed history (an audit, session 58). It now says the key mixes registers and lists.

test('sim: a transaction reading a key a put wrote: the list-append check says the key mixes registers and lists', async (t) => {
  const cluster = await startCluster({ regions: [{ name: 'r1', servers: 3 }], transport: 'sim', seed: 6, replication: { mode: 'active', factor: 3 } });
  const c = cluster.client({ region: 'r1' });
  try {
    await c.put('k', { v: 'k' });
    await c.transaction([{ op: 'get', key: 'k' }]);
    await c.put('s', 'x');
    const history = cluster.history({ format: 'elle', model: 'list-append' });
    t.throws(() => checkTransactions(history as ElleOp[], { model: 'list-append' }), {
      instanceOf: ValidationError,
      message:
        /^history\[1\]\.value\[0\]\[2\]: expected null or a list of values, got an object \(key "k" holds a register value, not a list: in a cluster's history a put or cas wrote it; the history mixes registers and lists on that key and cannot be checked as list-append\)$/,
    });
    // A string value alike.
    await c.transaction([{ op: 'get', key: 's' }]);
    const later = cluster.history({ format: 'elle', model: 'list-append' }).slice(-2);
    t.throws(() => checkTransactions(later as ElleOp[], { model: 'list-append' }), {
      instanceOf: ValidationError,
      message: /got "x" \(key "s" holds a register value, not a list/,
    });
    // The other way round: an rw-register read of a key appended to.
    await c.transaction([{ op: 'append', key: 'l', value: 1 }]);
    await c.transaction([{ op: 'get', key: 'l' }]);
    const rw = cluster.history({ format: 'elle', model: 'rw-register' }).slice(-2);
    t.throws(() => checkTransactions(rw as ElleOp[], { model: 'rw-register' }), {
      instanceOf: ValidationError,
      message:
        /got an array of 1 \(key "l" holds a list: in a cluster's history an append wrote it; the history mixes registers and lists on that key and cannot be checked as rw-register\)$/,
    });
  } finally {
    c.close();
    await cluster.stop();
  }
});
