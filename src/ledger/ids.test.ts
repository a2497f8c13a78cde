import { describe, expect, it } from 'vitest';
import { isUlid, isValidEventId, newEventId, ulidTime } from './ids.js';

describe('newEventId', () => {
  it('is 26 chars of Crockford base32 carrying its ms time', () => {
    const at = new Date('2026-11-23T10:15:30.123Z');
    const id = newEventId(at);
    expect(id).toHaveLength(26);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isUlid(id)).toBe(true);
    expect(ulidTime(id).toISOString()).toBe('2026-11-23T10:15:30.123Z');
  });

  it('encodes the epoch and the largest 48-bit time at the edges of the alphabet', () => {
    expect(newEventId(new Date(0)).slice(0, 10)).toBe('0000000000');
    expect(newEventId(new Date(2 ** 48 - 1)).slice(0, 10)).toBe('7ZZZZZZZZZ');
  });

  it('is strictly increasing within one process, also inside the same ms', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('increments the random part by one for the same explicit ms', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    const a = newEventId(at);
    const b = newEventId(at);
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    expect(b > a).toBe(true);
    const tail = (id: string) => id.slice(-1);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    if (tail(a) !== 'Z') expect(alphabet.indexOf(tail(b))).toBe(alphabet.indexOf(tail(a)) + 1);
  });

  it('sorts by time as text', () => {
    const early = newEventId(new Date('2026-01-01T00:00:00Z'));
    const late = newEventId(new Date('2026-01-01T00:00:00.001Z'));
    expect(early < late).toBe(true);
  });

  it('rejects times outside 0..2^48-1 and invalid dates', () => {
    expect(() => newEventId(new Date(-1))).toThrow(RangeError);
    expect(() => newEventId(new Date(2 ** 48))).toThrow(RangeError);
    expect(() => newEventId(new Date('nope'))).toThrow(RangeError);
  });
});

describe('isValidEventId', () => {
  it('accepts 1..128 chars of [A-Za-z0-9._:-]', () => {
    expect(isValidEventId('a')).toBe(true);
    expect(isValidEventId('chatcmpl-abc.1:2_3')).toBe(true);
    expect(isValidEventId('x'.repeat(128))).toBe(true);
    expect(isValidEventId(newEventId())).toBe(true);
  });

  it('rejects empty, too long, other characters and non-strings', () => {
    expect(isValidEventId('')).toBe(false);
    expect(isValidEventId('x'.repeat(129))).toBe(false);
    expect(isValidEventId('a b')).toBe(false);
    expect(isValidEventId('a/b')).toBe(false);
    expect(isValidEventId('é')).toBe(false);
    expect(isValidEventId(42)).toBe(false);
    expect(isValidEventId(null)).toBe(false);
  });

  it('isUlid is stricter: uppercase Crockford only, first char 0..7', () => {
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true);
    expect(isUlid('01arz3ndektsv4rrffq69g5fav')).toBe(false);
    expect(isUlid('81ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(false);
    expect(isUlid('01ARZ3NDEKTSV4RRFFQ69G5FAI')).toBe(false);
    expect(() => ulidTime('nope')).toThrow(RangeError);
  });
});
