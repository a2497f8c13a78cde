/**
 * How long a lease's record outlives the lease (or its settle/release), so that a retried or
 * replayed reserve/settle/release is recognised and changes nothing. Long enough for retries and
 * for the Redis write queue to drain after a short outage; short because every request leaves
 * one record behind for this long (at 1,000 requests/s: 120,000 small keys).
 */
export const LEASE_RECORD_GRACE_MS = 2 * 60_000;

/** Default store timeouts (Redis); small, because a request waits on them when Redis is sick. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_QUEUED_WRITES = 10_000;
export const DEFAULT_KEY_PREFIX = 'pertoken:';
export const DEFAULT_SIGNAL_POLL_MS = 500;
