import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';

describe('seededRandom', () => {
  it('replays the mulberry32 sequence of its seed (demo text, bench lengths and test data depend on it)', () => {
    const random = seededRandom(42);
    expect([random(), random(), random()].map((x) => x * 2 ** 32)).toEqual([2581720956, 1925393290, 3661312704]);
  });

  it('takes the seed as a 32-bit unsigned integer', () => {
    expect(seededRandom(-1)()).toBe(seededRandom(2 ** 32 - 1)());
    expect(seededRandom(2 ** 32 + 42)()).toBe(seededRandom(42)());
  });

  it('stays in [0, 1)', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
