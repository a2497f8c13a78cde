import { describe, expect, it } from 'vitest';
import {
  crossing,
  halfWidth,
  HOUR_MS,
  levelFactor,
  modelSpend,
  seasonalMedian,
  Z80,
  type HourlySeries,
} from './forecast-model.js';

const T0 = Date.parse('2026-10-05T00:00:00Z');

function series(hours: number[], partial = 0): HourlySeries {
  return { startMs: T0, hours, partial, atMs: T0 + hours.length * HOUR_MS + (partial ? HOUR_MS / 2 : 0) };
}

/** `weeks` weeks of a weekly profile (168 values), each week scaled by `scale(w)`. */
function weeks(n: number, profile: (h: number) => number, scale: (w: number) => number = () => 1): number[] {
  return Array.from({ length: n * 168 }, (_, i) => profile(i % 168) * scale(Math.floor(i / 168)));
}

describe('forecast model', () => {
  it('takes the median of the same hour-of-week in the last four past weeks', () => {
    const s = series(
      weeks(
        5,
        (h) => h,
        (w) => [9, 1, 2, 3, 4][w]!,
      ),
    );
    const n = s.hours.length;
    // Hour 10 of the next week: weeks 4..1 give 40, 30, 20, 10; week 0 (90) is too old.
    expect(seasonalMedian(s, n + 10, 0)).toBe(25);
    // Within the last week: weeks 3..0 give 30, 20, 10, 90.
    expect(seasonalMedian(s, n - 168 + 10, 0)).toBe(25);
    // Further ahead, the lags start at the most recent past week: the same four as the next week.
    expect(seasonalMedian(s, n + 168 + 10, 0)).toBe(25);
    // Only weeks at or after the series' first hour count.
    expect(seasonalMedian(s, n + 10, n - 2 * 168)).toBe(35);
    expect(seasonalMedian(s, n + 10, n)).toBeNull();
  });

  it('scales by the last two weeks against their seasonal expectation, clamped to 0.5–2×', () => {
    expect(
      levelFactor(
        series(
          weeks(
            5,
            () => 1,
            (w) => (w >= 3 ? 1.5 : 1),
          ),
        ),
        0,
      ),
    ).toBeCloseTo(1.5, 12);
    expect(
      levelFactor(
        series(
          weeks(
            5,
            () => 1,
            (w) => (w >= 3 ? 5 : 1),
          ),
        ),
        0,
      ),
    ).toBe(2);
    expect(
      levelFactor(
        series(
          weeks(
            5,
            () => 1,
            (w) => (w >= 3 ? 0.1 : 1),
          ),
        ),
        0,
      ),
    ).toBe(0.5);
  });

  it('projects a weekly profile exactly and falls back to the run rate for a young series', () => {
    const profile = (h: number): number => (h % 24 >= 9 && h % 24 < 18 && h < 120 ? 2000 : 500);
    const s = series(weeks(5, profile));
    const end = s.atMs + 10 * 24 * HOUR_MS;
    const m = modelSpend(s, end);
    expect(m.method).toBe('seasonal');
    expect(m.segments).toHaveLength(240);
    expect(m.segments.reduce((a, x) => a + x.nano, 0)).toBe(
      weeks(5, profile)
        .slice(0, 240)
        .reduce((a, b) => a + b, 0),
    );
    expect(m.sigmaDay).toBe(0);

    const young = series(weeks(1, profile).slice(0, 72));
    const r = modelSpend(young, young.atMs + 10 * HOUR_MS);
    expect(r.method).toBe('run_rate');
    const mean = young.hours.reduce((a, b) => a + b, 0) / 72;
    expect(r.segments.reduce((a, x) => a + x.nano, 0)).toBeCloseTo(mean * 10, 6);
    // Three whole days with the same profile: no spread around the mean day.
    expect(r.sigmaDay).toBe(0);
  });

  it('counts a partial current hour pro rata and an empty series as nothing', () => {
    const s = series(
      weeks(3, () => 1000),
      123,
    );
    const m = modelSpend(s, s.atMs + 1.5 * HOUR_MS);
    expect(m.segments.map((x) => x.nano)).toEqual([500, 1000]);
    expect(modelSpend(series(new Array(400).fill(0)), T0 + 500 * HOUR_MS)).toMatchObject({
      method: 'run_rate',
      sigmaDay: 0,
    });
  });

  it('widens the interval with √days left and closes it at the end; finds the crossing', () => {
    // 4 days left, the level known from 4 days: √(4 × (1 + 4/4)).
    expect(halfWidth({ sigmaDay: 10, levelDays: 4 }, 0, 4 * 24 * HOUR_MS)).toBeCloseTo(Z80 * 10 * Math.sqrt(8), 12);
    expect(halfWidth({ sigmaDay: 10, levelDays: 7 }, 5, 5)).toBe(0);
    const segs = [
      { fromMs: 0, toMs: HOUR_MS, nano: 100 },
      { fromMs: HOUR_MS, toMs: 2 * HOUR_MS, nano: 300 },
    ];
    expect(crossing(segs, 0, 250)).toBe(HOUR_MS + HOUR_MS / 2);
    expect(crossing(segs, 0, 401)).toBeNull();
  });
});
