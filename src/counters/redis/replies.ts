/**
 * Typed reading of script replies. ioredis hands back `unknown` shapes; a reply that does not
 * match what the script returns is a bug, reported as 'internal' rather than misread.
 */
import { PertokenError } from '../../errors.js';

export function malformed(what: string, value: unknown): PertokenError {
  return new PertokenError('internal', `unexpected reply from a counters script (${what}): ${JSON.stringify(value)}`);
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(what, value);
  return value;
}

export function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw malformed(what, value);
  return value;
}

export function asNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(what, value);
  return value;
}

/** An integer string stored by HINCRBY, read exactly. */
export function asNano(value: unknown, what: string): bigint {
  const text = asString(value, what);
  if (!/^-?\d+$/.test(text)) throw malformed(what, value);
  return BigInt(text);
}
