import test from 'ava';
import { ValidationError, historyFromJson, historyToJson } from '../src/index.js';

/** What a user's own test file met calling the package's helpers (an audit, session 61). */

test('historyFromJson: what is neither JSON text nor a parsed document is refused as the text, not as a missing format', (t) => {
  for (const given of [5, undefined, null, true]) {
    // It said "format: expected "meridian-history" (a document historyToJson wrote), got undefined".
    t.throws(() => historyFromJson(given as never), {
      instanceOf: ValidationError,
      message: /^text: expected the JSON historyToJson wrote, as a string or parsed, got /,
    });
  }
  // A string and a parsed document are read as before.
  const text = historyToJson([{ id: 0, client: 'c', key: 'x', kind: 'put', input: NaN, invokeMs: 0, outcome: 'ok', completeMs: 1 }]);
  t.true(Number.isNaN((historyFromJson(text)[0] as { input: number }).input));
  t.true(Number.isNaN((historyFromJson(JSON.parse(text) as object)[0] as { input: number }).input));
});
