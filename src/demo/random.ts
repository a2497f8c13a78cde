import { randomBytes } from 'node:crypto';
import { seededRandom } from '../random.js';

/**
 * Deterministic randomness for the demo upstream. Every request gets its own generator seeded from
 * the server seed and the request's content, so counts and text do not depend on the order in which
 * concurrent requests arrive.
 */

/** A generator of floats in [0, 1). */
export type Rng = () => number;

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain). */
export function hashString(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A generator derived from the server seed and any request-identifying strings. */
export function requestRng(seed: number, ...parts: string[]): Rng {
  return seededRandom(hashString(parts.join('\u0000'), seed));
}

/** An integer in [min, max], both inclusive. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Ids must be unique per request even when two identical requests get identical text (a gateway may
 * key idempotency on them), so they come from crypto, not from the seeded generator.
 */
export function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const byte of bytes) out += ALPHANUM[byte % ALPHANUM.length];
  return out;
}
