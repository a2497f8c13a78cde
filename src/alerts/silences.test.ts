import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { isSilenced, parseSilenceInput, silenceMatches } from './silences.js';
import type { Silence } from './types.js';

const NOW = new Date('2026-11-02T10:00:00.000Z');

function silence(matchers: Silence['matchers'], from = NOW, to = new Date(NOW.getTime() + 3_600_000)): Silence {
  return { id: 's1', matchers, from, to, reason: 'r', created_at: NOW };
}

function paramOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof PertokenError) return err.param;
    throw err;
  }
  return null;
}

describe('silences', () => {
  it('parses the API body, from defaulting to now', () => {
    expect(
      parseSilenceInput(
        { matchers: { tenant: 'acme', kind: 'burn_rate' }, to: '2026-11-03T00:00:00Z', reason: ' launch week ' },
        NOW,
      ),
    ).toEqual({
      matchers: { tenant: 'acme', kind: 'burn_rate' },
      from: NOW,
      to: new Date('2026-11-03T00:00:00Z'),
      reason: 'launch week',
    });
  });

  it('rejects bad bodies naming the field', () => {
    const ok = { matchers: {}, to: '2026-11-03T00:00:00Z', reason: 'x' };
    expect(paramOf(() => parseSilenceInput({ ...ok, matchers: { region: 'eu' } }, NOW))).toBe('matchers');
    expect(paramOf(() => parseSilenceInput({ ...ok, matchers: { kind: 'nope' } }, NOW))).toBe('matchers.kind');
    expect(paramOf(() => parseSilenceInput({ ...ok, to: 'tomorrow' }, NOW))).toBe('to');
    expect(paramOf(() => parseSilenceInput({ ...ok, reason: '  ' }, NOW))).toBe('reason');
    expect(paramOf(() => parseSilenceInput({ ...ok, to: '2026-11-01T00:00:00Z' }, NOW))).toBe('to');
    expect(paramOf(() => parseSilenceInput({ ...ok, from: '2026-11-04T00:00:00Z' }, NOW))).toBe('to');
    expect(paramOf(() => parseSilenceInput({ ...ok, to: '2028-01-01T00:00:00Z' }, NOW))).toBe('to');
    expect(paramOf(() => parseSilenceInput(undefined, NOW))).toBe('matchers');
  });

  it('matches on equality of every matcher; a missing dimension does not match', () => {
    const alert = { kind: 'burn_rate' as const, scope: { tenant: 'acme', budget: 'b1' } };
    expect(silenceMatches(silence({}), alert)).toBe(true);
    expect(silenceMatches(silence({ tenant: 'acme' }), alert)).toBe(true);
    expect(silenceMatches(silence({ tenant: 'acme', kind: 'burn_rate' }), alert)).toBe(true);
    expect(silenceMatches(silence({ tenant: 'acme', kind: 'spend_anomaly' }), alert)).toBe(false);
    expect(silenceMatches(silence({ tenant: 'beta' }), alert)).toBe(false);
    expect(silenceMatches(silence({ project: 'web' }), alert)).toBe(false);
  });

  it('is in force from `from` until just before `to`', () => {
    const alert = { kind: 'burn_rate' as const, scope: { tenant: 'acme' } };
    const s = [silence({ tenant: 'acme' })];
    expect(isSilenced(s, alert, new Date(NOW.getTime() - 1))).toBe(false);
    expect(isSilenced(s, alert, NOW)).toBe(true);
    expect(isSilenced(s, alert, new Date(NOW.getTime() + 3_599_999))).toBe(true);
    expect(isSilenced(s, alert, new Date(NOW.getTime() + 3_600_000))).toBe(false);
  });
});
