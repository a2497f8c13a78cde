import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from '../testing/dialects.js';
import { tempDir } from '../testing/fixtures.js';
import { expectedTotals, ledgerTruth, settleLoad, sleep, waitFor } from '../testing/outbox.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../../testing/tcp-proxy.js';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.js';

/**
 * PostgreSQL outage under concurrent settle load, through a TCP proxy that refuses (RST, then
 * ECONNREFUSED) or blackholes (a silent partition: only timeouts notice) for a while. After it
 * ends: every acknowledged event is in PostgreSQL exactly once and the rollups match the raw sums.
 *
 * The outage lasts 3 s here. A 30 s outage runs the same code path (the shipper just backs off
 * longer, up to retryMaxDelayMs, and the outbox grows); run it with PERTOKEN_LONG_OUTAGE=1.
 */

const skip = await postgresSkipReason();
const OUTAGE_MS = process.env.PERTOKEN_LONG_OUTAGE === '1' ? 30_000 : 3_000;

describe.skipIf(skip !== null)(`outbox under a PostgreSQL outage${skip ? ` — ${skip}` : ''}`, () => {
  let schema: string;
  let admin: pg.Client;
  let dropSchema: () => Promise<void>;
  let proxy: TcpProxy;
  let dir: string;
  let removeDir: () => void;
  let store: ReplicatedStore | undefined;

  beforeEach(async () => {
    ({ schema, admin, drop: dropSchema } = await createTestSchema());
    proxy = await startTcpProxy(TEST_DATABASE_URL);
    ({ dir, cleanup: removeDir } = tempDir('pertoken-outage-'));
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    await proxy.close();
    await dropSchema();
    removeDir();
  });

  it.each<[Exclude<ProxyMode, 'forward'>]>([['refuse'], ['blackhole']])(
    '%s: zero lost, zero doubled after recovery',
    async (mode) => {
      const replica = createReplicatedStore({
        outboxPath: join(dir, 'outbox.db'),
        postgresUrl: proxy.url,
        schema,
        poolSize: 4,
        connectTimeoutMs: 500,
        // Short enough that a blackholed statement fails well inside the outage.
        queryTimeoutMs: 750,
        shipBatchSize: 250,
        retryBaseDelayMs: 25,
        retryMaxDelayMs: 500,
      });
      store = replica;
      await replica.migrate();
      const load = settleLoad(replica, 16);

      await waitFor('events shipping before the outage', () => replica.stats().shippedEvents >= 500);
      await proxy.setMode(mode);
      const ackedAtCut = load.acknowledged.size;
      await sleep(OUTAGE_MS);
      // Settles kept completing during the outage, and the replica knew it was spooling.
      const during = replica.stats();
      expect(load.acknowledged.size).toBeGreaterThan(ackedAtCut + 100);
      expect(during.spooling).toBe(true);
      expect(during.backlog).toBeGreaterThan(100);
      await proxy.setMode('forward');

      await waitFor(
        'shipping again',
        () => !replica.stats().spooling && replica.stats().shipBatches > during.shipBatches,
      );
      await sleep(300); // load continues across the recovery
      await load.stop();
      expect(load.failures).toEqual([]);
      expect(await replica.drain({ timeoutMs: 30_000 })).toEqual({ drained: true, remaining: 0 });

      const expected = expectedTotals(load.acknowledged.values());
      const truth = await ledgerTruth(admin, schema);
      const missing = [...expected.ids].filter((id) => !truth.ids.has(id));
      expect(missing).toEqual([]);
      expect(truth.events).toBe(expected.ids.size); // nothing beyond what was acknowledged
      expect(truth.cost).toBe(expected.cost);
      expect(truth.tokens).toBe(expected.tokens);
      // Rollups were incremented once per event, retries and lost COMMIT replies included.
      expect(truth.rollupRequests).toBe(BigInt(expected.ids.size));
      expect(truth.rollupCost).toBe(expected.cost);
      expect(truth.rollupTokens).toBe(expected.tokens);
      // A COMMIT whose reply was lost counts as duplicates when its batch is shipped again.
      const { shippedEvents, duplicateEvents } = replica.stats();
      expect(shippedEvents).toBeLessThanOrEqual(expected.ids.size);
      expect(shippedEvents + duplicateEvents).toBeGreaterThanOrEqual(expected.ids.size);
      expect(proxy.accepted).toBeGreaterThan(1); // it reconnected through the proxy
    },
    OUTAGE_MS * 2 + 60_000,
  );
});
