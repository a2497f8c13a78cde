/**
 * Deterministic randomness for the seed generator: sfc32 (128-bit state, fast, good enough for
 * synthetic data), a Zipf sampler over ranks and a log-normal draw. Same seed, same sequence, on
 * every platform: only 32-bit integer operations and Math.log/sqrt/cos on the draws.
 */

export type Random = () => number;

/** sfc32 seeded through splitmix32 so that small seeds (1, 2, 3) give unrelated streams. */
export function createRandom(seed: number): Random {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Samples ranks 0..n-1 with P(k) ∝ 1 / (k + 1)^s (rank 0 is the most frequent). */
export class Zipf {
  readonly #cdf: Float64Array;

  constructor(n: number, s: number) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Zipf needs n >= 1, got ${n}`);
    this.#cdf = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) {
      total += 1 / Math.pow(k + 1, s);
      this.#cdf[k] = total;
    }
    for (let k = 0; k < n; k++) this.#cdf[k] = this.#cdf[k]! / total;
  }

  get size(): number {
    return this.#cdf.length;
  }

  /** Share of rank k (for tests and docs). */
  share(k: number): number {
    return this.#cdf[k]! - (k === 0 ? 0 : this.#cdf[k - 1]!);
  }

  sample(random: Random): number {
    const u = random();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** A log-normal integer with the given median, clamped to [min, max]. */
export function logNormalInt(random: Random, median: number, sigma: number, min: number, max: number): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const value = Math.round(median * Math.exp(sigma * z));
  return value < min ? min : value > max ? max : value;
}
