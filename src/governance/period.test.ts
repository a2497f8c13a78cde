import { describe, expect, it } from 'vitest';
import { periodBounds, startOfLocalDate } from './period.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

describe('budget periods', () => {
  it('a Berlin day across the spring DST change lasts 23 hours', () => {
    const b = periodBounds('day', 'Europe/Berlin', new Date('2026-03-29T12:00:00Z'));
    expect(iso(b.start)).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(b.end)).toBe('2026-03-29T22:00:00.000Z');
    expect(b.label).toBe('2026-03-29');
  });

  it('a New York day across the autumn DST change lasts 25 hours', () => {
    const b = periodBounds('day', 'America/New_York', new Date('2026-11-01T12:00:00Z'));
    expect(iso(b.start)).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(b.end)).toBe('2026-11-02T05:00:00.000Z');
  });

  it('months start at local midnight of the 1st, across year ends and offsets', () => {
    const tokyo = periodBounds('month', 'Asia/Tokyo', new Date('2026-12-31T16:30:00Z'));
    // 01:30 on Jan 1st in Tokyo: already January there.
    expect(iso(tokyo.start)).toBe('2026-12-31T15:00:00.000Z');
    expect(iso(tokyo.end)).toBe('2027-01-31T15:00:00.000Z');
    expect(tokyo.label).toBe('2027-01');
    const berlin = periodBounds('month', 'Europe/Berlin', new Date('2026-03-15T00:00:00Z'));
    expect(iso(berlin.start)).toBe('2026-02-28T23:00:00.000Z');
    expect(iso(berlin.end)).toBe('2026-03-31T22:00:00.000Z');
  });

  it('weeks start on Monday in the zone', () => {
    // Sunday 2026-05-17 23:30 UTC is Monday 2026-05-18 01:30 in Berlin.
    const b = periodBounds('week', 'Europe/Berlin', new Date('2026-05-17T23:30:00Z'));
    expect(iso(b.start)).toBe('2026-05-17T22:00:00.000Z');
    expect(iso(b.end)).toBe('2026-05-24T22:00:00.000Z');
    expect(b.label).toBe('W2026-05-18');
    const utc = periodBounds('week', 'UTC', new Date('2026-05-17T23:30:00Z'));
    expect(iso(utc.start)).toBe('2026-05-11T00:00:00.000Z');
  });

  it('a day whose midnight does not exist starts when the clocks jump', () => {
    // Santiago moves 00:00 -> 01:00 on 2026-09-06 (UTC-4 -> UTC-3).
    const start = startOfLocalDate(2026, 9, 6, 'America/Santiago');
    expect(start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });

  it('total has no bounds', () => {
    expect(periodBounds('total', 'UTC', new Date())).toEqual({ start: null, end: null, label: 'total' });
  });
});
