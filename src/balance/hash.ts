/**
 * MurmurHash3 (x86, 32-bit) over the UTF-16 code units of a string, two units per 4-byte block.
 * Consistent hashing needs a hash whose output bits are all well mixed even for short,
 * similar inputs ("us-east/1#17", "us-east/1#18"); FNV-1a alone is weak in its high bits, and
 * Maglev needs two independent hashes of one name, which a seed gives.
 */
export function hash32(text: string, seed = 0): number {
  let h = seed >>> 0;
  const length = text.length;
  const blocks = length >>> 1;
  for (let i = 0; i < blocks; i++) {
    let k = (text.charCodeAt(2 * i) | (text.charCodeAt(2 * i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if ((length & 1) === 1) {
    let k = text.charCodeAt(length - 1);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
