/**
 * Errors that cross the public API. Each has a stable `code` and a `definite` flag:
 * `definite: true` means the operation certainly did not take effect; `false` means its
 * outcome is unknown (it may or may not have happened).
 */
export type ErrorCode = 'CONFIG' | 'VALIDATION' | 'UNAVAILABLE' | 'TIMEOUT' | 'ABORTED' | 'STOPPED' | 'INTERNAL';

export class MeridianError extends Error {
  readonly code: ErrorCode;
  readonly definite: boolean;
  constructor(code: ErrorCode, message: string, definite: boolean) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.definite = definite;
  }
}

/**
 * A bad configuration field: `field` is its dotted path, `allowed` says what would be accepted.
 * The message names it under `root`, what the caller passed: 'config' (startCluster's), 'options'
 * (a harness function's), or '' when the field's path says it (setNetwork's `network.loss`).
 */
export class ConfigError extends MeridianError {
  readonly field: string;
  readonly allowed: string;
  readonly root: string;
  readonly #got: unknown;
  constructor(field: string, allowed: string, got?: unknown, root = 'config') {
    super('CONFIG', `${root === '' ? '' : `${root}.`}${field}: expected ${allowed}${got === undefined ? '' : `, got ${describe(got)}`}`, true);
    this.field = field;
    this.allowed = allowed;
    this.root = root;
    this.#got = got;
  }

  /** The same error, its field named under `root`. */
  under(root: string): ConfigError {
    return new ConfigError(this.field, this.allowed, this.#got, root);
  }
}

/**
 * `body()`, a ConfigError it throws naming its field as the caller wrote it, under `root`
 * (namedAs('options', ...) around a harness function's checks) rather than `config.`, which
 * the checks shared with startCluster's config say: `runChecks({ seeds: 0 })` said
 * `config.seeds`, and `cluster.setNetwork({ loss: 2 })` said `config.network.loss` (found by a
 * review, session 57).
 */
export function namedAs<T>(root: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof ConfigError && error.root === 'config') throw error.under(root);
    throw error;
  }
}

/** A bad key, value or argument to a client call; the call was not sent. */
export class ValidationError extends MeridianError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('VALIDATION', `${field}: ${message}`, true);
    this.field = field;
  }
}

/** The operation was definitely not executed (no server could take it). */
export class UnavailableError extends MeridianError {
  constructor(message: string) {
    super('UNAVAILABLE', message, true);
  }
}

/**
 * No NATS server answered at the URLs given (startCluster with transport 'nats', `meridian
 * host`). An UnavailableError, as startCluster's errors are MeridianErrors: it was a bare Error.
 */
export class NatsUnreachableError extends UnavailableError {}

/**
 * A read (a get, or a transaction of gets and checks) whose answer was over `messageBytesMax`:
 * the answer could not be sent, and the read did nothing (definite; the message says how large
 * it was and the option to raise). Its own class so that a caller tells it from the other
 * refusals without matching the message's text (the transactional scenario's final read then
 * reads its keys one by one; until session 67 it looked for a phrase in the message).
 */
export class AnswerTooLargeError extends UnavailableError {}

/**
 * A NATS cluster's control request (inspect, crash, restart, ...) that reached no host
 * (`noResponders`: nobody serves that host's subject, it is gone), or that the host refused:
 * definite. One unanswered in time is a TimeoutError.
 */
export class ControlError extends UnavailableError {
  readonly noResponders: boolean;
  constructor(message: string, noResponders = false) {
    super(message);
    this.noResponders = noResponders;
  }
}

/** The outcome is unknown: the operation may or may not have taken effect. */
export class TimeoutError extends MeridianError {
  constructor(message: string) {
    super('TIMEOUT', message, false);
  }
}

/**
 * The transaction was definitely not committed. `reason` says why in a few words (at most 200
 * characters), as the message does after `aborted: `: a participant's reason for voting no
 * (`check failed on key "balance"`, `append to key "name", which holds a value that is not a
 * list`, `key "k" is locked by another transaction`), or what ended it (`no vote in time from
 * shard/2`, `shard/2 did not vote in time`); 'aborted' when nothing more is known.
 */
export class AbortedError extends MeridianError {
  readonly reason: string;
  constructor(message: string, reason = 'aborted') {
    super('ABORTED', message, true);
    this.reason = reason;
  }
}

/**
 * The cluster stopped (or the client closed) before the operation completed: its outcome is
 * unknown; or the call was refused before anything was sent (`definite`).
 */
export class StoppedError extends MeridianError {
  /** `definite`: true only when the call was refused before anything was sent (a closed client, a stopped cluster). */
  constructor(message = 'cluster stopped', definite = false) {
    super('STOPPED', message, definite);
  }
}

/**
 * A worker thread (host) died while a call on it was pending, or the call was made after it
 * died. Its outcome is unknown. `host` is the host's id.
 */
export class HostExitedError extends StoppedError {
  readonly host: number;
  constructor(host: number, message: string) {
    super(message);
    this.host = host;
  }
}

/**
 * The simulator ran SIM_EVENTS_PER_INSTANT_MAX events without virtual time moving while a call
 * or sleep waited through all of them: messages or calls that take 0 ms chase each other
 * forever (a network with no latency and no jitter, and a caller that loops on calls answered
 * inside one region, beside a wait that needs time to move). Every call and sleep pending
 * on the simulated cluster fails with it; its outcome is unknown.
 */
export class SimulationStalledError extends MeridianError {
  readonly atMs: number;
  readonly events: number;
  constructor(atMs: number, events: number) {
    super(
      'INTERNAL',
      `simulation stalled: ${events} events ran at virtual time ${typeof atMs === 'number' ? atMs.toFixed(3) : describe(atMs)} ms without time moving (messages or calls that take 0 ms loop forever: give the network some latency or jitterMs > 0)`,
      false,
    );
    this.atMs = atMs;
    this.events = events;
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value !== 'object') return typeof value;
  // Not a plain object: say which, or "expected a plain object, got an object" reads as nonsense.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) return 'an object';
  if (proto === null) return 'an object with no prototype (Object.create(null))';
  const name: unknown = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

/** A plain, codec-safe description of an error for crossing a thread boundary. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export function errorData(error: unknown): ErrorData {
  if (error instanceof Error) {
    const out: ErrorData = { name: error.name, message: error.message };
    if (error.stack !== undefined) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: 'Error', message: String(error) };
}
