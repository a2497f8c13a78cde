/**
 * @module The alert database: alerts, silences, the notification outbox and per-sink delivery
 * state, on SQLite (a file beside the ledger) or the shared PostgreSQL.
 */
export { openAlertStore, type AlertStoreOptions } from './open.js';
export { AlertStore, type WriteOptions } from './store.js';
export { AlertReader, AlertRepo, type AlertQuery, type Claim, type SinkState } from './repo.js';
export { canonicalScope, publicAlert, type NewOutboxEntry, type OutboxEntry, type StoredAlert } from './rows.js';
