import type { BudgetPeriod } from './types.js';

/**
 * Calendar periods of a budget in its own time zone. Boundaries are local midnights found with
 * Intl (the zone database of the runtime), so a day across a DST change lasts 23 or 25 hours and
 * a month starts at local midnight of the 1st whatever the offset. Weeks start on Monday (ISO).
 */

export interface PeriodBounds {
  /** null for `total`. */
  start: Date | null;
  end: Date | null;
  /** Names the period in counter keys: `2026-05`, `2026-05-14`, `2026-W:2026-05-11`, `total`. */
  label: string;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const HOUR_MS = 3_600_000;

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function wallClock(at: number, tz: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(at))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

/** Local time minus UTC at an instant, in ms (whole seconds). */
function offsetAt(at: number, tz: string): number {
  const w = wallClock(at, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The first instant of a local calendar date. Tries the offsets in force half a day either side;
 * of the candidates that fall on the date, the earliest wins — which is local midnight, or the end
 * of a DST gap when midnight itself does not exist (e.g. America/Santiago).
 */
export function startOfLocalDate(year: number, month: number, day: number, tz: string): Date {
  const norm = new Date(Date.UTC(year, month - 1, day));
  const guess = norm.getTime();
  const candidates = [guess - offsetAt(guess - 12 * HOUR_MS, tz), guess - offsetAt(guess + 12 * HOUR_MS, tz)];
  const onDate = candidates.filter((c) => {
    const w = wallClock(c, tz);
    return w.year === norm.getUTCFullYear() && w.month === norm.getUTCMonth() + 1 && w.day === norm.getUTCDate();
  });
  return new Date(Math.min(...(onDate.length > 0 ? onDate : candidates)));
}

function ymd(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.toISOString().slice(0, 10);
}

export function periodBounds(period: BudgetPeriod, tz: string, now: Date): PeriodBounds {
  if (period === 'total') return { start: null, end: null, label: 'total' };
  const w = wallClock(now.getTime(), tz);
  if (period === 'day') {
    return {
      start: startOfLocalDate(w.year, w.month, w.day, tz),
      end: startOfLocalDate(w.year, w.month, w.day + 1, tz),
      label: ymd(w.year, w.month, w.day),
    };
  }
  if (period === 'week') {
    const monday = w.day - w.weekday;
    return {
      start: startOfLocalDate(w.year, w.month, monday, tz),
      end: startOfLocalDate(w.year, w.month, monday + 7, tz),
      label: `W${ymd(w.year, w.month, monday)}`,
    };
  }
  return {
    start: startOfLocalDate(w.year, w.month, 1, tz),
    end: startOfLocalDate(w.year, w.month + 1, 1, tz),
    label: ymd(w.year, w.month, 1).slice(0, 7),
  };
}
