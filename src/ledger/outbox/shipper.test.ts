import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyLedgerStore } from '../kysely-store.js';
import type { LedgerDatabase } from '../schema.js';
import { openSqliteDatabase } from '../sqlite/store.js';
import { makeEvent, tempDir } from '../testing/fixtures.js';
import { waitFor } from '../testing/outbox.js';
import type { InsertResult, UsageEvent } from '../types.js';
import { OutboxQueue } from './queue.js';
import { Shipper, type ShipperTarget } from './shipper.js';

/**
 * The shipper's decisions on a real SQLite outbox with a scripted target standing in for
 * PostgreSQL (the replicated-store tests run the same paths against the real one).
 */

function withCode(code: string): Error {
  return Object.assign(new Error(`failed with ${code}`), { code });
}

class ScriptedTarget implements ShipperTarget {
  stored = new Map<string, UsageEvent>();
  calls: number[] = [];
  migrations = 0;
  /** Thrown by insertEvents when it returns an error for the batch. */
  fail: (batch: UsageEvent[]) => Error | null = () => null;

  async migrate(): Promise<void> {
    this.migrations++;
  }

  async insertEvents(events: UsageEvent[]): Promise<InsertResult> {
    this.calls.push(events.length);
    const err = this.fail(events);
    if (err !== null) throw err;
    const result: InsertResult = { accepted: [], duplicate: [] };
    for (const e of events) {
      if (this.stored.has(e.id)) result.duplicate.push(e.id);
      else {
        this.stored.set(e.id, e);
        result.accepted.push(e.id);
      }
    }
    return result;
  }
}

describe('Shipper', () => {
  let cleanup: () => void;
  let local: KyselyLedgerStore;
  let queue: OutboxQueue;
  let target: ScriptedTarget;
  let shipper: Shipper | undefined;
  let errors: string[];

  beforeEach(async () => {
    const t = tempDir('pertoken-shipper-');
    cleanup = t.cleanup;
    const database = openSqliteDatabase({ path: join(t.dir, 'outbox.db') });
    const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
    local = new KyselyLedgerStore({ db, dialect: 'sqlite' });
    await local.migrate();
    queue = new OutboxQueue(db);
    target = new ScriptedTarget();
    errors = [];
  });

  afterEach(async () => {
    await shipper?.stop();
    shipper = undefined;
    await local.close();
    cleanup();
  });

  function start(batchSize = 100): Promise<void> {
    shipper = new Shipper({
      queue,
      target,
      batchSize,
      idleIntervalMs: 5,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
      onError: (_err, context) => errors.push(context),
    });
    return shipper.start(true);
  }

  it('ships in batches of batchSize, then deletes locally', async () => {
    await Promise.all(Array.from({ length: 250 }, (_, i) => local.settle(makeEvent({ id: `b-${i}` }))));
    await start(100);
    expect(await shipper!.drain(10_000)).toEqual({ drained: true, remaining: 0 });
    expect(target.calls).toEqual([100, 100, 50]);
    expect(target.stored.size).toBe(250);
    expect(shipper!.stats()).toMatchObject({ backlog: 0, shippedEvents: 250, shipBatches: 3 });
  });

  it('isolates rows the target refuses by splitting the batch, and ships all others', async () => {
    const bad = new Set(['q-13', 'q-14', 'q-77']);
    target.fail = (batch) => (batch.some((e) => bad.has(e.id)) ? withCode('22021') : null);
    await Promise.all(Array.from({ length: 100 }, (_, i) => local.settle(makeEvent({ id: `q-${i}` }))));
    await start(100);
    expect(await shipper!.drain(10_000)).toEqual({ drained: true, remaining: 3 });
    expect(target.stored.size).toBe(97);
    expect([...bad].every((id) => !target.stored.has(id))).toBe(true);
    expect(shipper!.stats()).toMatchObject({ quarantined: 3, backlog: 3, spooling: false });
    expect(errors.filter((c) => c === 'quarantine')).toHaveLength(3);
    expect(await local.getEvent('q-77')).not.toBeNull(); // kept, not lost
  });

  it('never blames rows for a database-wide failure: everything stays queued and is retried', async () => {
    let failing = true;
    target.fail = () => (failing ? withCode('42P01') : null); // e.g. the schema was dropped
    await Promise.all(Array.from({ length: 10 }, (_, i) => local.settle(makeEvent({ id: `w-${i}` }))));
    await start();
    await waitFor('repeated failures', () => shipper!.stats().consecutiveFailures >= 3);
    expect(shipper!.stats()).toMatchObject({ spooling: true, quarantined: 0, backlog: 10 });
    expect(target.migrations).toBeGreaterThanOrEqual(2); // migrates again before each retry
    failing = false;
    expect(await shipper!.drain(10_000)).toEqual({ drained: true, remaining: 0 });
    expect(shipper!.stats()).toMatchObject({ spooling: false, consecutiveFailures: 0 });
    expect(target.stored.size).toBe(10);
  });

  it('stop() during backoff returns with everything still queued', async () => {
    target.fail = () => withCode('ECONNREFUSED');
    await local.settle(makeEvent({ id: 'stuck' }));
    await start();
    await waitFor('a failure', () => shipper!.stats().shipFailures > 0);
    await shipper!.stop();
    expect(await shipper!.drain(1000)).toEqual({ drained: false, remaining: 1 });
    expect(await local.getEvent('stuck')).not.toBeNull();
  });

  it('rejects options that are not positive integers', () => {
    expect(() => new Shipper({ queue, target, batchSize: 0 })).toThrow(RangeError);
    expect(() => new Shipper({ queue, target, retryMaxDelayMs: 1.5 })).toThrow(RangeError);
  });
});
