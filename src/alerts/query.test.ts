import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { parseAlertQuery } from './query.js';

describe('parseAlertQuery', () => {
  it('reads state, from, to and limit', () => {
    expect(parseAlertQuery(new URLSearchParams(''))).toEqual({ state: 'all', limit: 1000 });
    expect(
      parseAlertQuery(new URLSearchParams('state=firing&from=2026-11-01&to=2026-11-02T12:00:00Z&limit=5')),
    ).toEqual({
      state: 'firing',
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T12:00:00Z'),
      limit: 5,
    });
  });

  it('rejects what it cannot read, naming the parameter', () => {
    for (const [qs, param] of [
      ['state=open', 'state'],
      ['from=yesterday', 'from'],
      ['from=2026-11-02&to=2026-11-01', 'to'],
      ['limit=0', 'limit'],
    ] as const) {
      const err = (() => {
        try {
          parseAlertQuery(new URLSearchParams(qs));
        } catch (e: unknown) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(PertokenError);
      expect((err as PertokenError).param).toBe(param);
    }
  });
});
