import { describe, expect, it } from 'vitest';
import { OTHER, TopValues } from './labels.js';

const c = (value: string, score: number, tiebreak = 0) => ({ value, score, tiebreak });

describe('TopValues', () => {
  it('admits values while there is room, then folds the rest into other', () => {
    const top = new TopValues(2);
    expect(['a', 'b', 'c', 'a', 'd'].map((v) => top.fold(v))).toEqual(['a', 'b', OTHER, 'a', OTHER]);
    expect(top.values()).toEqual(['a', 'b']);
  });

  it('keeps the top values by score, then requests, then name', () => {
    const top = new TopValues(3);
    top.rank([c('low', 1), c('high', 9), c('tie-b', 5, 2), c('tie-a', 5, 2), c('tie-more', 5, 3), c('idle', 0)]);
    expect(top.values()).toEqual(['high', 'tie-a', 'tie-more']);
    expect(top.fold('tie-b')).toBe(OTHER);
    expect(top.fold('high')).toBe('high');
  });

  it('lets a newcomer in only when it beats an incumbent by a quarter, so the cut does not flap', () => {
    const top = new TopValues(2);
    top.rank([c('a', 100), c('b', 50), c('x', 40)]);
    expect(top.values()).toEqual(['a', 'b']);
    // x now spends 20% more than b: not enough (b counts 50 × 1.25 = 62.5).
    top.rank([c('a', 100), c('b', 50), c('x', 60)]);
    expect(top.values()).toEqual(['a', 'b']);
    top.rank([c('a', 100), c('b', 50), c('x', 63)]);
    expect(top.values()).toEqual(['a', 'x']);
    // And b, now the challenger, needs 63 × 1.25 to come back.
    top.rank([c('a', 100), c('b', 70), c('x', 63)]);
    expect(top.values()).toEqual(['a', 'x']);
  });

  it('keeps pinned values first, even without spend, and never keeps `other` itself', () => {
    const top = new TopValues(2);
    top.rank([c('big', 1000), c('mid', 10), c(OTHER, 5000)], new Set(['quiet']));
    expect(top.values()).toEqual(['big', 'quiet']);
    // With more pinned values than room, the biggest pinned ones win.
    top.rank([c('big', 1000), c('p1', 3), c('p2', 2)], new Set(['p1', 'p2', 'p3']));
    expect(top.values()).toEqual(['p1', 'p2']);
  });

  it('has room again after a ranking that keeps fewer values than the limit', () => {
    const top = new TopValues(3);
    top.rank([c('a', 1)]);
    expect(top.fold('new')).toBe('new');
    expect(top.values()).toEqual(['a', 'new']);
  });
});
