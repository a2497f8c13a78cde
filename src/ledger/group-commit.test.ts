import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { GroupCommitter } from './group-commit.js';

/** The queue on its own, with a recording writer; the store tests cover it over real SQLite. */

function recorder(fail: (batch: readonly number[]) => boolean = () => false) {
  const batches: number[][] = [];
  const write = async (batch: readonly number[]): Promise<void> => {
    await Promise.resolve();
    if (fail(batch)) throw new Error('disk on fire');
    batches.push([...batch]);
  };
  return { batches, write };
}

describe('GroupCommitter', () => {
  it('writes items submitted in the same tick as one batch, in order', async () => {
    const { batches, write } = recorder();
    const gc = new GroupCommitter<number>({ write });
    await Promise.all([1, 2, 3, 4, 5].map((n) => gc.submit(n)));
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(gc.stats()).toMatchObject({ flushes: 1, committedItems: 5, largestBatch: 5, pending: 0 });
  });

  it('cuts a batch at maxBatch without waiting for the next tick', async () => {
    const { batches, write } = recorder();
    const gc = new GroupCommitter<number>({ write, maxBatch: 4 });
    const all = Array.from({ length: 10 }, (_, i) => gc.submit(i));
    await Promise.all(all);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(gc.stats().flushes).toBe(3);
  });

  it('rejects every item of a failed batch with store_unavailable and keeps serving', async () => {
    const { batches, write } = recorder((batch) => batch.includes(13));
    const gc = new GroupCommitter<number>({ write });
    const results = await Promise.allSettled([12, 13, 14].map((n) => gc.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) {
      const reason = (r as PromiseRejectedResult).reason as PertokenError;
      expect(reason).toBeInstanceOf(PertokenError);
      expect(reason.code).toBe('store_unavailable');
      expect(reason.message).toContain('disk on fire');
    }
    await gc.submit(15);
    expect(batches).toEqual([[15]]);
    expect(gc.stats()).toMatchObject({ flushes: 1, failedFlushes: 1, failedItems: 3, committedItems: 1 });
  });

  it('a failed batch does not take the next batch down with it', async () => {
    const { batches, write } = recorder((batch) => batch.includes(1));
    const gc = new GroupCommitter<number>({ write, maxBatch: 2 });
    const results = await Promise.allSettled([0, 1, 2, 3].map((n) => gc.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(batches).toEqual([[2, 3]]);
  });

  it('items submitted while a batch is being written go into the next batch', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommitter<number>({
      write: async (batch) => {
        batches.push([...batch]);
        if (batches.length === 1) await gate;
      },
    });
    const first = gc.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [gc.submit(2), gc.submit(3)];
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('close flushes what is queued and then refuses new items', async () => {
    const { batches, write } = recorder();
    const gc = new GroupCommitter<number>({ write });
    const queued = gc.submit(7);
    await gc.close();
    await expect(queued).resolves.toBeUndefined();
    expect(batches).toEqual([[7]]);
    await expect(gc.submit(8)).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('rejects a maxBatch that is not a positive integer', () => {
    expect(() => new GroupCommitter<number>({ write: async () => {}, maxBatch: 0 })).toThrow(RangeError);
  });
});
