import { customRandom, nanoid } from 'nanoid';
import type { Prng } from './prng.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-';
export const ID_LENGTH = 12;

/** A random id for things outside deterministic code (threads transport only). */
export function randomId(size = ID_LENGTH): string {
  return nanoid(size);
}

/** A nanoid generator drawing from a seeded PRNG: the same seed gives the same ids. */
export function seededIds(prng: Prng, size = ID_LENGTH): () => string {
  return customRandom(ALPHABET, size, (bytes) => {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) out[i] = prng.nextUint32() & 0xff;
    return out;
  });
}
