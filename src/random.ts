/**
 * The one seeded generator of pertoken: mulberry32, a tiny PRNG with a 32-bit state. Plenty for
 * demo text, bench lengths and random-data tests, and the same seed gives the same sequence on
 * every platform (32-bit integer operations only). Not for anything secret: use node:crypto.
 */

/** A generator of floats in [0, 1) that replays exactly from `seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
