/**
 * Answers over messageBytesMax. A host drops a message too large to send and hands it back to
 * its sender (`undeliverable`, reason 'too-large', with its size); an answer dropped so left
 * its client waiting for nothing until the request timeout, which said the call may or may not
 * have taken effect (a list appended to past 1 MiB could no longer be read: found by an audit,
 * session 55). The sender answers in its place with one of these short errors, for the same
 * request and to the same address, saying what was too large, the option to raise, and
 * whether the request took effect.
 */
import type { ResErr, TxnOp } from './messages.js';

/**
 * What every answer refused as too large says. A caller tells a refused read from the other
 * refusals by its class (AnswerTooLargeError, from the `tooLarge` flag below), not by this text.
 */
const OVER_MESSAGE_BYTES_MAX = 'is over messageBytesMax';

function over(what: string, bytes: number, max: number): string {
  return `${what} (${bytes} bytes) ${OVER_MESSAGE_BYTES_MAX} (${max} bytes) and could not be sent (raise messageBytesMax to read it)`;
}

/**
 * A request that only read (a get, a transaction of gets and checks) did nothing: UNAVAILABLE,
 * definite (UnavailableError; the history records it failed).
 */
export function readTooLarge(rid: number, what: string, bytes: number, max: number): ResErr {
  return { type: 'res', rid, ok: false, code: 'UNAVAILABLE', message: `${over(what, bytes, max)}; the request only read, so it did nothing`, tooLarge: true };
}

/** What a failed transaction of gets and checks is said to have done (unknownBody, and the client's own timeout). */
export const TXN_ONLY_READ = 'the transaction only read, so it did nothing';

/** Whether a transaction's ops only read (gets and checks): committed, it did nothing. */
export function onlyReads(ops: readonly TxnOp[]): boolean {
  return ops.every((op) => op.op === 'get' || op.op === 'check');
}

/**
 * The error for a transaction whose outcome cannot be known where it failed (its server crashed
 * or its coordinator went silent with it in flight, a coordinator restarted since it began):
 * one of gets and checks (`readOnly`, see onlyReads) did nothing whatever happened to it,
 * UNAVAILABLE (definite; the history records it failed), as the client's own timeout fails it
 * (client.ts sweep); one that writes may have taken effect, TIMEOUT. Every one was TIMEOUT,
 * recorded unknown (found by an audit, session 60).
 */
export function outcomeUnknown(rid: number, readOnly: boolean, what: string): ResErr {
  return { type: 'res', rid, ...unknownBody(readOnly, what) };
}

/** outcomeUnknown's answer without its envelope (a server's reply adds the origin's rid). */
export function unknownBody(readOnly: boolean, what: string): Omit<ResErr, 'type' | 'rid'> {
  return readOnly
    ? { ok: false, code: 'UNAVAILABLE', message: `${what}; ${TXN_ONLY_READ}` }
    : { ok: false, code: 'TIMEOUT', message: `${what}; it may or may not have taken effect` };
}

/**
 * A committed transaction that wrote: its writes took effect, what it read is not known to the
 * client. TIMEOUT (TimeoutError, not definite): the history records its outcome unknown, never
 * failed, so the checkers still count its writes.
 */
export function wroteTooLarge(rid: number, what: string, bytes: number, max: number): ResErr {
  return {
    type: 'res',
    rid,
    ok: false,
    code: 'TIMEOUT',
    message: `${over(what, bytes, max)}; the transaction committed: its writes took effect`,
    tooLarge: true,
  };
}

/**
 * The answer of a committed transaction whose ops are not known where it bounced (a
 * coordinator's answer, or a balancer's relay of it, not marked read-only: see ResOk's
 * READ_ONLY): it may have written, so TIMEOUT, as wroteTooLarge.
 */
export function committedTooLarge(rid: number, bytes: number, max: number): ResErr {
  return {
    type: 'res',
    rid,
    ok: false,
    code: 'TIMEOUT',
    message: `${over('the answer of a committed transaction (what it read)', bytes, max)}; any writes it made took effect`,
    tooLarge: true,
  };
}
