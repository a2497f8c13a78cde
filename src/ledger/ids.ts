import { randomBytes } from 'node:crypto';
import { EVENT_ID, matchesId } from '../ids.js';

/**
 * Event ids. The gateway mints ULIDs (48-bit ms time + 80 random bits, 26 chars of Crockford
 * base32) so that ids sort by time as text — the ledger pages by (time_ms, id) and a time-ordered
 * id keeps the primary-key B-tree append-mostly. Ingested events may bring any id of the event
 * alphabet below; ids are stored as TEXT either way.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME_MS = 2 ** 48 - 1;
const RANDOM_MAX = (1n << 80n) - 1n;

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** Monotonic state of this process: the last ms used and the random part issued with it. */
let lastMs = -1;
let lastRandom = 0n;

function encode(value: bigint, chars: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < chars; i++) {
    out = CROCKFORD[Number(rest & 31n)] + out;
    rest >>= 5n;
  }
  return out;
}

function freshRandom(): bigint {
  return BigInt(`0x${randomBytes(10).toString('hex')}`);
}

/**
 * A new ULID. Without `now`, the clock is never allowed to run backwards within the process (a
 * stepped-back wall clock reuses the last ms), and ids minted in the same ms increment the random
 * part by one, so ids of one process are strictly increasing.
 */
export function newEventId(now?: Date): string {
  let ms = now === undefined ? Math.max(Date.now(), lastMs) : now.getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new RangeError(`newEventId: time out of range: ${String(now)}`);
  }
  let random: bigint;
  if (ms === lastMs) {
    random = lastRandom + 1n;
    if (random > RANDOM_MAX) {
      // 2^80 ids in one ms cannot happen by chance; carrying into the time keeps ids sorted.
      ms += 1;
      random = freshRandom();
    }
  } else {
    random = freshRandom();
  }
  lastMs = ms;
  lastRandom = random;
  return encode(BigInt(ms), TIME_CHARS) + encode(random, RANDOM_CHARS);
}

/** Whether `id` can be stored as an event id (the EVENT_ID rule). */
export function isValidEventId(id: unknown): id is string {
  return matchesId(EVENT_ID, id);
}

/** Whether `id` is a canonical ULID as minted by newEventId (uppercase Crockford base32). */
export function isUlid(id: unknown): id is string {
  return typeof id === 'string' && ULID.test(id);
}

/** The ms timestamp inside a ULID. */
export function ulidTime(id: string): Date {
  if (!isUlid(id)) throw new RangeError(`not a ULID: ${id}`);
  let ms = 0;
  for (const ch of id.slice(0, TIME_CHARS)) ms = ms * 32 + CROCKFORD.indexOf(ch);
  return new Date(ms);
}
