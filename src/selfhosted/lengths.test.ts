import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { seededRandom } from '../random.js';
import { meanLength, parseLengthSpec, sampleLength } from './lengths.js';

describe('length specs', () => {
  it('parses fixed, uniform and normal specs', () => {
    expect(parseLengthSpec('512', '--input')).toEqual({ kind: 'fixed', value: 512 });
    expect(parseLengthSpec('uniform:100-300', '--input')).toEqual({ kind: 'uniform', min: 100, max: 300 });
    expect(parseLengthSpec('normal:500,120', '--input')).toEqual({ kind: 'normal', mean: 500, sd: 120 });
    expect(parseLengthSpec('data/prompts.jsonl', '--input', true)).toEqual({
      kind: 'file',
      path: 'data/prompts.jsonl',
    });
  });

  it('rejects bad specs naming the flag', () => {
    for (const [text, message] of [
      ['-5', /must be positive/],
      ['0', /must be positive/],
      ['uniform:300-100', /range 300-100 is empty/],
      ['normal:500', /expected a number/],
      ['normal:500,-1', /must not be negative/],
      ['lots', /expected a token count/],
      ['prompts.jsonl', /expected a token count, uniform:MIN-MAX or normal:MEAN,SD, got/],
    ] as const) {
      let err: unknown = null;
      try {
        parseLengthSpec(text, '--output');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(PertokenError);
      expect((err as PertokenError).param).toBe('--output');
      expect((err as PertokenError).message).toMatch(message);
    }
  });

  it('means feed the estimator', () => {
    expect(meanLength({ kind: 'uniform', min: 100, max: 300 }, '--input')).toBe(200);
    expect(meanLength({ kind: 'normal', mean: 500, sd: 50 }, '--input')).toBe(500);
    expect(() => meanLength({ kind: 'file', path: 'x.jsonl' }, '--input')).toThrow(
      /only accepted by `pertoken bench --input`/,
    );
  });

  it('samples reproducibly within the range and around the mean', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 2000 }, () => sampleLength({ kind: 'uniform', min: 10, max: 20 }, a));
    const ys = Array.from({ length: 2000 }, () => sampleLength({ kind: 'uniform', min: 10, max: 20 }, b));
    expect(xs).toEqual(ys);
    expect(Math.min(...xs)).toBe(10);
    expect(Math.max(...xs)).toBe(20);
    const random = seededRandom(7);
    const normal = Array.from({ length: 5000 }, () => sampleLength({ kind: 'normal', mean: 300, sd: 30 }, random));
    const mean = normal.reduce((s, v) => s + v, 0) / normal.length;
    expect(Math.abs(mean - 300)).toBeLessThan(3);
    expect(Math.min(...normal)).toBeGreaterThanOrEqual(1);
  });
});
