import { describe, expect, it } from 'vitest';
import { PertokenError } from '../../errors.js';
import { countersUnavailable } from '../validate.js';
import { asArray, asNano, asNumber, asString } from './replies.js';
import { WriteQueue } from './write-queue.js';

describe('write queue', () => {
  it('replays in order, keeps what still meets an outage, and drops what can never succeed', async () => {
    const queue = new WriteQueue(10);
    const done: string[] = [];
    let redisUp = false;
    queue.push(async () => done.push('a'));
    queue.push(async () => {
      throw new PertokenError('internal', 'script bug');
    });
    queue.push(async () => {
      if (!redisUp) throw countersUnavailable(new Error('down'));
      done.push('c');
    });
    queue.push(async () => done.push('d'));

    await queue.flush();
    expect(done).toEqual(['a']);
    expect(queue.size).toBe(2);
    expect(queue.dropped).toBe(1);

    redisUp = true;
    await Promise.all([queue.flush(), queue.flush()]); // concurrent flushes share one drain
    expect(done).toEqual(['a', 'c', 'd']);
    expect(queue.size).toBe(0);
  });

  it('refuses and counts writes past its bound', () => {
    const queue = new WriteQueue(1);
    expect(queue.push(async () => undefined)).toBe(true);
    expect(queue.push(async () => undefined)).toBe(false);
    expect(queue.dropped).toBe(1);
  });
});

describe('script reply parsing', () => {
  it('reads exact integers and rejects shapes a script never returns as internal errors', () => {
    expect(asNano('9007199254740993', 'spent')).toBe(9_007_199_254_740_993n);
    expect(asArray([1], 'x')).toEqual([1]);
    expect(asNumber(3, 'x')).toBe(3);
    expect(asString('ok', 'x')).toBe('ok');
    for (const read of [
      () => asNano('1.5', 'spent'),
      () => asNano(5, 'spent'),
      () => asArray('x', 'states'),
      () => asNumber('3', 'index'),
      () => asNumber(Number.NaN, 'index'),
      () => asString(null, 'outcome'),
    ]) {
      expect(read).toThrowError(expect.objectContaining({ code: 'internal' }));
    }
  });
});
