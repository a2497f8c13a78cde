import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Reservation, UsageEvent } from '../types.js';

/** Test helpers for the ledger (excluded from the build). */

export function tempDir(prefix = 'pertoken-ledger-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;

export function makeEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  counter++;
  return {
    id: `evt-${counter}`,
    time: new Date('2026-11-23T10:15:00.000Z'),
    origin: 'gateway',
    source: 'openai',
    tenant: 'acme',
    project: 'search',
    user: 'u-1',
    feature: 'chat',
    key_id: 'key-1',
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o',
    model: 'gpt-4o-2024-08-06',
    route: '/v1/chat/completions',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: 120,
    ttft_ms: null,
    buckets: { input: 100, output: 20 },
    usage_source: 'provider',
    cost_nano: 450_000n,
    price_ref: 'genai-prices@0.1.8:openai/gpt-4o',
    raw_usage: { prompt_tokens: 100, completion_tokens: 20 },
    usage_issues: [],
    ...overrides,
  };
}

export function makeReservation(overrides: Partial<Reservation> = {}): Reservation {
  counter++;
  return {
    id: `res-${counter}`,
    time: new Date('2026-11-23T10:20:00.000Z'),
    source: 'openai',
    tenant: 'acme',
    project: 'search',
    user: null,
    feature: 'chat',
    key_id: 'key-1',
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o',
    route: '/v1/chat/completions',
    streamed: true,
    estimated_input_tokens: 1000,
    ...overrides,
  };
}

/** Reads a table's row count through a separate connection (what another process would see). */
export function countRows(path: string, table: 'events' | 'reservations' | 'rollup_hourly' | 'rollup_daily'): number {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare(`select count(*) as n from ${table}`).get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** Ledger tests take their seeded generator from here, so the ones beside them need no deeper import. */
export { seededRandom } from '../../random.js';
