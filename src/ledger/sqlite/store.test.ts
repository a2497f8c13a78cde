import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../kysely-store.js';
import { makeEvent, tempDir } from '../testing/fixtures.js';
import { createSqliteStore, openSqliteDatabase } from './store.js';

/** What only the embedded store has: files, pragmas, memory. The Store contract is ../store.test.ts. */

let dir: string;
let cleanup: () => void;
let path: string;
const open: LedgerStore[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'ledger.db');
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  cleanup();
});

describe('createSqliteStore: files and pragmas', () => {
  it('creates missing parent directories and uses WAL with the chosen synchronous level', () => {
    const nested = join(dir, 'a', 'b', 'ledger.db');
    const normal = openSqliteDatabase({ path: nested });
    expect(normal.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(normal.pragma('synchronous', { simple: true })).toBe(1n); // NORMAL
    expect(normal.pragma('busy_timeout', { simple: true })).toBe(5000n);
    normal.close();
    const full = openSqliteDatabase({ path: nested, synchronous: 'FULL', busyTimeoutMs: 250 });
    expect(full.pragma('synchronous', { simple: true })).toBe(2n); // FULL
    expect(full.pragma('busy_timeout', { simple: true })).toBe(250n);
    full.close();
  });

  it('rejects an unknown synchronous level as config_invalid', () => {
    expect(() => openSqliteDatabase({ path, synchronous: 'OFF' as 'FULL' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'synchronous' }),
    );
  });

  it('fails with store_unavailable when the path cannot be opened', () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'not a directory');
    expect(() => createSqliteStore({ path: join(blocker, 'ledger.db') })).toThrow(
      expect.objectContaining({ code: 'store_unavailable' }),
    );
    mkdirSync(join(dir, 'is-a-dir'));
    expect(() => createSqliteStore({ path: join(dir, 'is-a-dir') })).toThrow(
      expect.objectContaining({ code: 'store_unavailable' }),
    );
  });

  it('works in memory for tests', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    open.push(store);
    await store.migrate();
    await store.settle(makeEvent({ id: 'mem' }));
    expect((await store.getEvent('mem'))?.id).toBe('mem');
  });
});
describe('createSqliteStore: the indexes the cost planner relies on', () => {
  /** SQLite's plan for a statement, one detail line per step. */
  function plan(sqlText: string, ...params: unknown[]): string[] {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare(`explain query plan ${sqlText}`).all(...params) as Array<{ detail: string }>).map(
        (r) => r.detail,
      );
    } finally {
      db.close();
    }
  }

  beforeEach(async () => {
    const store = createSqliteStore({ path });
    open.push(store);
    await store.migrate();
    await store.insertEvents([makeEvent({ id: 'u', user: 'u-1' }), makeEvent({ id: 'n', user: null })]);
  });

  it('reads one user over a range through the partial (user_id, time_ms) index', () => {
    const detail = plan(
      'select sum(cost_nano) from events where time_ms >= ? and time_ms < ? and user_id = ?',
      0,
      1,
      'u-1',
    );
    expect(detail.join('\n')).toContain('events_user_time_idx (user_id=? AND time_ms>? AND time_ms<?)');
  });

  it('reads a range of days from the daily rollup by its primary key, a clustered table, grouping in key order', () => {
    // The canonical report (tenant × model × day) aggregates in key order: no temp B-tree sort.
    const detail = plan(
      'select tenant, model, day_ms, sum(cost_nano) from rollup_daily where day_ms >= ? and day_ms < ? group by tenant, model, day_ms',
      0,
      1,
    );
    expect(detail).toEqual(['SEARCH rollup_daily USING PRIMARY KEY (day_ms>? AND day_ms<?)']);
    const withoutRowid = new Database(path, { readonly: true });
    try {
      const ddl = withoutRowid.prepare("select sql from sqlite_master where name = 'rollup_daily'").get() as {
        sql: string;
      };
      expect(ddl.sql).toMatch(/without rowid$/i);
    } finally {
      withoutRowid.close();
    }
  });
});

describe('createSqliteStore: another writer holding the lock', () => {
  it('waits for the write lock on a timer, never blocking the event loop, then commits', async () => {
    const store = createSqliteStore({ path });
    open.push(store);
    await store.migrate();
    const other = new Database(path);
    other.exec('begin immediate'); // another process's long write transaction
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      const settled = store.settle(makeEvent({ id: 'after-lock' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // With SQLite's busy handler the settle would hold the thread until the lock came free,
      // and no timer could run meanwhile (here: ever, the lock is released by this same thread).
      expect(ticks).toBeGreaterThan(3);
      const reader = new Database(path, { readonly: true });
      expect(reader.prepare("select count(*) as n from events where id = 'after-lock'").get()).toEqual({ n: 0 });
      reader.close();
      other.exec('commit');
      await settled;
      expect(await store.getEvent('after-lock')).not.toBeNull();
    } finally {
      clearInterval(ticker);
      if (other.inTransaction) other.exec('rollback');
      other.close();
    }
  });

  it('gives up with store_unavailable once busyTimeoutMs has passed, and commits nothing', async () => {
    const store = createSqliteStore({ path, busyTimeoutMs: 150 });
    open.push(store);
    await store.migrate();
    const other = new Database(path);
    other.exec('begin immediate');
    try {
      await expect(store.insertEvents([makeEvent({ id: 'never' })])).rejects.toMatchObject({
        code: 'store_unavailable',
        message: expect.stringContaining('locked by another writer for over 150 ms'),
      });
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect(await store.getEvent('never')).toBeNull();
    expect(await store.insertEvents([makeEvent({ id: 'never' })])).toEqual({ accepted: ['never'], duplicate: [] });
  });
});
