import { PertokenError } from '../../errors.js';

/**
 * Sorting database failures into the three kinds the outbox treats differently:
 * - transient: the database or the way to it is away or busy (retry the same batch later);
 * - row data: PostgreSQL refuses a value in one row (isolate that row, ship the rest);
 * - anything else (auth, missing schema, a bug): also retried, never blamed on a row, because
 *   blaming rows for a database-wide problem would set every event aside.
 */

/** Node socket errors on the way to the database. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs (or classes) that say "try again", not "this is wrong". */
const TRANSIENT_SQLSTATE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
]);
const TRANSIENT_CLASSES = new Set(['08', '53', '58']); // connection, resources, system I/O

/** Messages pg uses for failures that carry no code. */
const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
  'Client has encountered a connection error and is not queryable',
];

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The error and its causes, outermost first (PertokenError and Kysely wrap the driver's error). */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && out.length < 8) {
    out.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return out;
}

function isTransientOne(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATE.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_CLASSES.has(code.slice(0, 2))) return true;
  }
  if (err instanceof AggregateError && err.errors.some(isTransientOne)) return true; // happy eyeballs
  const message = err instanceof Error ? err.message : '';
  return TRANSIENT_MESSAGES.some((m) => message.includes(m));
}

/** Whether a failure means the database is away or busy and the same work may succeed later. */
export function isTransientDatabaseError(err: unknown): boolean {
  return chain(err).some(isTransientOne);
}

/**
 * Whether PostgreSQL refused a value (SQLSTATE classes 22 data exception, 23 integrity
 * violation) or our own validation did — an error that follows the row, not the database.
 */
export function isRowDataError(err: unknown): boolean {
  return chain(err).some((e) => {
    if (e instanceof PertokenError) return e.code === 'invalid_request';
    const code = codeOf(e);
    return code !== undefined && /^2[23][0-9A-Z]{3}$/.test(code);
  });
}

/** Wraps a failed read of the shared ledger so that HTTP answers 503 while it is away. */
export function toStoreError(err: unknown, what: string): unknown {
  if (err instanceof PertokenError) return err;
  if (!isTransientDatabaseError(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new PertokenError('store_unavailable', `${what}: ${detail}`, { cause: err });
}
