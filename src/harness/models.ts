/**
 * Sequential specifications for the linearizability checker, as plain objects of pure
 * functions (Porcupine's `Model`). They are named, not passed, so a checker worker thread can
 * look one up: functions do not cross a thread boundary.
 */
import { casProblem, type CasInput, type OpKind, type OpOutcome } from '../core/history.js';
import { bytesHex } from '../cluster/history.js';

export type ModelName = 'register' | 'kv';
export const MODEL_NAMES: readonly ModelName[] = ['register', 'kv'];

/** The part of a history operation a model sees. Failed operations never reach a model. */
export interface ModelOp {
  kind: OpKind;
  input: unknown;
  outcome: Exclude<OpOutcome, 'fail'>;
  output?: unknown;
}

export interface StepResult<S> {
  ok: boolean;
  state: S;
}

export interface Model<S> {
  readonly name: ModelName;
  /** The operation kinds this model understands; the checker rejects others up front. */
  readonly kinds: readonly OpKind[];
  init(): S;
  /**
   * Applies `op` to `state`. `ok` says whether the recorded output is what the specification
   * answers. With outcome 'unknown' the output is not known, so `ok` must be true.
   */
  step(state: S, op: ModelOp): StepResult<S>;
  /** A canonical key: two states are equal exactly when their keys are equal. */
  hash(state: S): string;
  /**
   * False when `op`, with its recorded outcome and output, leaves every state unchanged
   * (a read, a cas that answered false). The checker drops such operations when their outcome
   * is unknown, since they then constrain nothing, and may drop them when shrinking a violation.
   */
  mutates(op: ModelOp): boolean;
  /**
   * Optional: false when the model accepts `op` but cannot check it (the register model's
   * 'append': a list append, whose value the history does not give); the checker then reports
   * its key unchecked (an unknown verdict), not searched. Absent: every op is checked.
   */
  checks?(op: ModelOp): boolean;
  /** A description of what is wrong with `op`'s input or output, or undefined if it is usable. */
  validate(op: ModelOp): string | undefined;
  /**
   * Optional, for the checker's first look without unseen unknown writes (see
   * `withoutUnseenUnknownWrites` in linearizability.ts): the value `op` leaves if it takes effect as
   * a whole-value write, else undefined (unknown: keep the op).
   */
  written?(op: ModelOp): { value: unknown } | undefined;
  /** With `written`: the value a definite `op` proves it saw, if any (a read's answer). */
  seen?(op: ModelOp): { value: unknown } | undefined;
  /**
   * Optional: every value `op`'s step compares the state with (a read's answer, a cas's
   * `expected`), where `step`'s answer for any state equal to none of them is the same: it
   * fails, or leaves such a state as it is, or replaces it whatever it was. The checker then
   * counts all states that no operation of the key compares with as one (see `opaque` in
   * linearizability.ts). A model without it has every state counted apart.
   */
  compared?(op: ModelOp): readonly unknown[];
}

/**
 * An injective text encoding of a codec-safe value: equal encodings mean equal values (deep
 * equality for arrays, plain objects and byte arrays). Used to compare and hash states.
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'u';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? 'n0' : `n${value}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'bigint':
      return `i${value}`;
    case 'object':
      return canonicalObject(value);
    default:
      // Functions and symbols cannot be recorded values; naming the type keeps the encoding total.
      return `?${typeof value}`;
  }
}

function canonicalObject(value: object | null): string {
  if (value === null) return 'z';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (ArrayBuffer.isView(value)) return `x${bytesHex(value)}`;
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => `${canonical(k)}:${canonical(v)}`).sort();
    return `M{${entries.join(',')}}`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
}

/** Deep equality of recorded values, fast for primitives. */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  return canonical(a) === canonical(b);
}

/**
 * One value per key. read/get return it (undefined when missing), write/put set it, delete
 * removes it, cas { expected, next } swaps when the value equals `expected` and answers true,
 * otherwise answers false and changes nothing: a false cas is a read that saw another value.
 * append (a cluster's list append, input the values appended) is accepted, not checked: its
 * key is reported unchecked (see `checks`).
 */
export const registerModel: Model<unknown> = {
  name: 'register',
  kinds: ['read', 'write', 'get', 'put', 'delete', 'cas', 'append'],
  init: () => undefined,
  step(state, op) {
    switch (op.kind) {
      case 'read':
      case 'get':
        return { ok: op.outcome === 'unknown' || equalValues(op.output, state), state };
      case 'write':
      case 'put':
        return { ok: true, state: op.input };
      case 'delete':
        return { ok: true, state: undefined };
      case 'cas': {
        const { expected, next } = op.input as CasInput;
        const matches = equalValues(state, expected);
        if (op.outcome === 'unknown') return { ok: true, state: matches ? next : state };
        return op.output === true ? { ok: matches, state: next } : { ok: !matches, state };
      }
      default:
        return { ok: false, state };
    }
  },
  hash: canonical,
  checks: (op) => op.kind !== 'append',
  mutates(op) {
    if (op.kind === 'read' || op.kind === 'get') return false;
    return !(op.kind === 'cas' && op.outcome === 'ok' && op.output === false);
  },
  // In core: historyToJson refuses what it refuses too.
  validate: casProblem,
  written(op) {
    switch (op.kind) {
      case 'write':
      case 'put':
        return { value: op.input };
      case 'delete':
        return { value: undefined };
      case 'cas':
        return { value: (op.input as CasInput).next };
      default:
        return undefined;
    }
  },
  seen(op) {
    if (op.outcome !== 'ok') return undefined;
    if (op.kind === 'read' || op.kind === 'get') return { value: op.output };
    if (op.kind === 'cas' && op.output === true) return { value: (op.input as CasInput).expected };
    return undefined;
  },
  compared(op) {
    switch (op.kind) {
      case 'read':
      case 'get':
        // A read of unknown outcome accepts every state.
        return op.outcome === 'ok' ? [op.output] : [];
      case 'cas':
        return [(op.input as CasInput).expected];
      default:
        return [];
    }
  },
};

/**
 * Porcupine's key-value model, for one key: a string that starts empty; get returns it
 * (undefined reads as ''), put replaces it, append concatenates to it.
 */
export const kvModel: Model<string> = {
  name: 'kv',
  kinds: ['get', 'put', 'append'],
  init: () => '',
  step(state, op) {
    switch (op.kind) {
      case 'get':
        return { ok: op.outcome === 'unknown' || (op.output ?? '') === state, state };
      case 'put':
        return { ok: true, state: op.input as string };
      case 'append':
        return { ok: true, state: state + (op.input as string) };
      default:
        return { ok: false, state };
    }
  },
  hash: (state) => state,
  mutates: (op) => op.kind !== 'get',
  validate(op) {
    // The likely mistake: a cluster's history (any values, cas, delete) checked with this model.
    const hint = " (the 'kv' model is Porcupine's store of strings; a cluster's history is checked with 'register')";
    if ((op.kind === 'put' || op.kind === 'append') && typeof op.input !== 'string') {
      return `${op.kind} input must be a string${hint}`;
    }
    if (op.kind === 'get' && op.outcome === 'ok' && op.output !== undefined && typeof op.output !== 'string') {
      return `get output must be a string or undefined${hint}`;
    }
    return undefined;
  },
};

const MODELS: { readonly [N in ModelName]: Model<unknown> } = {
  register: registerModel,
  kv: kvModel as Model<unknown>,
};

export function isModelName(name: unknown): name is ModelName {
  return typeof name === 'string' && (MODEL_NAMES as readonly string[]).includes(name);
}

/** The model with this name; callers validate the name first (see `isModelName`). */
export function modelByName(name: ModelName): Model<unknown> {
  return MODELS[name];
}
