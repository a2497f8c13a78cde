/**
 * Time ranges in a chosen IANA zone. The API speaks UTC instants; calendar presets (today, month
 * to date, last month, custom days) are computed from the zone's wall clock and sent as instants.
 */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export type Preset = 'today' | '24h' | '7d' | '30d' | 'mtd' | 'last-month' | 'all' | 'custom';

export const PRESETS: ReadonlyArray<{ id: Preset; label: string }> = [
  { id: 'today', label: 'Today' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'mtd', label: 'Month to date' },
  { id: 'last-month', label: 'Last month' },
  { id: 'all', label: 'All time' },
  { id: 'custom', label: 'Custom…' },
];

export interface RangeState {
  range: Preset;
  /** Custom range: first and last day (inclusive), YYYY-MM-DD in `tz`. */
  from: string | null;
  to: string | null;
  tz: string;
}

export interface Window {
  /** Inclusive; null = unbounded. */
  from: number | null;
  /** Exclusive; null = now / unbounded. */
  to: number | null;
  label: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function wallClock(ms: number, tz: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
export function zoneOffset(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (ms % 1000));
}

/** The instant of a wall-clock time in `tz` (month 1-12; days and months may overflow). */
export function zonedInstant(year: number, month: number, day: number, tz: string, hour = 0): number {
  const guess = Date.UTC(year, month - 1, day, hour);
  let at = guess - zoneOffset(guess, tz);
  // Once more across a DST change between the guess and the answer.
  at = guess - zoneOffset(at, tz);
  return at;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function timeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const all = intl.supportedValuesOf?.('timeZone') ?? [];
  return ['UTC', ...all.filter((z) => z !== 'UTC')];
}

export function dayString(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

function parseDay(text: string | null): { year: number; month: number; day: number } | null {
  const m = text === null ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return null;
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/** The window of a range state as of `now`. */
export function resolveWindow(state: RangeState, now: number): Window {
  const tz = state.tz;
  const w = wallClock(now, tz);
  const today = zonedInstant(w.year, w.month, w.day, tz);
  switch (state.range) {
    case 'today':
      return { from: today, to: null, label: 'Today' };
    case '24h':
      return { from: now - DAY_MS, to: null, label: 'Last 24 hours' };
    case '7d':
      return { from: now - 7 * DAY_MS, to: null, label: 'Last 7 days' };
    case '30d':
      return { from: now - 30 * DAY_MS, to: null, label: 'Last 30 days' };
    case 'mtd':
      return { from: zonedInstant(w.year, w.month, 1, tz), to: null, label: 'Month to date' };
    case 'last-month':
      return {
        from: zonedInstant(w.year, w.month - 1, 1, tz),
        to: zonedInstant(w.year, w.month, 1, tz),
        label: 'Last month',
      };
    case 'all':
      return { from: null, to: null, label: 'All time' };
    case 'custom': {
      const from = parseDay(state.from);
      const to = parseDay(state.to) ?? from;
      if (from === null || to === null) return { from: today, to: null, label: 'Today' };
      const start = zonedInstant(from.year, from.month, from.day, tz);
      const end = zonedInstant(to.year, to.month, to.day + 1, tz);
      const label = state.from === state.to || state.to === null ? `${state.from}` : `${state.from} – ${state.to}`;
      return end > start ? { from: start, to: end, label } : { from: start, to: start + DAY_MS, label };
    }
  }
}

/** `2026-11-03 14:05` in the zone (or with seconds). */
export function formatTime(ms: number | string, tz: string, seconds = false): string {
  const at = typeof ms === 'string' ? Date.parse(ms) : ms;
  if (!Number.isFinite(at)) return '—';
  const w = wallClock(at, tz);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}${seconds ? `:${p(w.second)}` : ''}`;
}

/** Bucket starts (ms) of a day or hour unit, in the zone, covering [from, to). */
export function bucketStart(ms: number, unit: 'day' | 'hour', tz: string): number {
  if (unit === 'hour') {
    const offset = zoneOffset(ms, tz);
    return Math.floor((ms + offset) / HOUR_MS) * HOUR_MS - offset;
  }
  const w = wallClock(ms, tz);
  return zonedInstant(w.year, w.month, w.day, tz);
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
