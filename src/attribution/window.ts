import { invalidInput } from '../errors.js';

/** A half-open time range [from, to), UTC. */
export interface Window {
  readonly from: Date;
  readonly to: Date;
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A statement period `YYYY-MM`: that calendar month in UTC. */
export function monthWindow(period: string | null | undefined, param = 'period'): Window {
  const m = PERIOD.exec(period ?? '');
  if (!m) throw invalidInput(param, `expected a month as YYYY-MM, got "${period ?? ''}"`);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { from: new Date(Date.UTC(year, month, 1)), to: new Date(Date.UTC(year, month + 1, 1)) };
}

/** A config date (`2026-10-01` is UTC midnight) or instant, as milliseconds. */
export function instantMs(value: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

/** The overlap of [aFrom, aTo) and [bFrom, bTo) in milliseconds, 0 when they do not meet. */
export function overlapMs(aFrom: number, aTo: number, bFrom: number, bTo: number): number {
  return Math.max(0, Math.min(aTo, bTo) - Math.max(aFrom, bFrom));
}

/**
 * The window cut at every boundary that falls strictly inside it, in order. Inside one slice no
 * pool changes rate or size, so a slice's cost is one product and its busy share one fraction.
 */
export function slice(window: Window, boundaries: Iterable<number>): Window[] {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const cuts = [...new Set([...boundaries].filter((t) => t > from && t < to))].sort((a, b) => a - b);
  const points = [from, ...cuts, to];
  const slices: Window[] = [];
  for (let i = 0; i + 1 < points.length; i++) slices.push({ from: new Date(points[i]!), to: new Date(points[i + 1]!) });
  return slices;
}

/** Each calendar month (UTC) that meets [fromMs, toMs), with its own bounds. */
export function monthsBetween(fromMs: number, toMs: number): Array<{ from: number; to: number }> {
  const months: Array<{ from: number; to: number }> = [];
  const start = new Date(fromMs);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth();
  for (;;) {
    const from = Date.UTC(year, month, 1);
    if (from >= toMs) break;
    const to = Date.UTC(year, month + 1, 1);
    months.push({ from, to });
    month += 1;
    if (month === 12) {
      month = 0;
      year += 1;
    }
  }
  return months;
}
