import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../../errors.js';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from '../testing/dialects.js';
import { makeEvent, makeReservation, tempDir } from '../testing/fixtures.js';
import { ledgerTruth, waitFor } from '../testing/outbox.js';
import { startTcpProxy, type TcpProxy } from '../../testing/tcp-proxy.js';
import type { InterruptedPricer } from '../types.js';
import {
  createReplicatedStore,
  type ReplicatedErrorContext,
  type ReplicatedStore,
  type ReplicatedStoreOptions,
} from './replicated-store.js';

/** The replicated store against a real PostgreSQL, reached through a proxy the tests can cut. */

const skip = await postgresSkipReason();

const TOTAL = { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2030-01-01T00:00:00Z'), groupBy: [], filter: {} };
const pricer: InterruptedPricer = (r) => ({
  buckets: { input: r.estimated_input_tokens },
  cost_nano: BigInt(r.estimated_input_tokens) * 10n,
  price_ref: 'test-price',
});

describe.skipIf(skip !== null)(`replicated store (outbox -> PostgreSQL)${skip ? ` — ${skip}` : ''}`, () => {
  let schema: string;
  let admin: pg.Client;
  let dropSchema: () => Promise<void>;
  let proxy: TcpProxy;
  let dir: string;
  let removeDir: () => void;
  let errors: Array<[ReplicatedErrorContext, unknown]>;
  const open: ReplicatedStore[] = [];

  beforeEach(async () => {
    ({ schema, admin, drop: dropSchema } = await createTestSchema());
    proxy = await startTcpProxy(TEST_DATABASE_URL);
    ({ dir, cleanup: removeDir } = tempDir('pertoken-outbox-'));
    errors = [];
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await proxy.close();
    await dropSchema();
    removeDir();
  });

  function replica(options: Partial<ReplicatedStoreOptions> = {}): ReplicatedStore {
    const store = createReplicatedStore({
      outboxPath: join(dir, 'outbox.db'),
      postgresUrl: proxy.url,
      schema,
      poolSize: 3,
      connectTimeoutMs: 500,
      queryTimeoutMs: 2000,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 200,
      onError: (err, context) => errors.push([context, err]),
      ...options,
    });
    open.push(store);
    return store;
  }

  async function started(options: Partial<ReplicatedStoreOptions> = {}): Promise<ReplicatedStore> {
    const store = replica(options);
    await store.migrate();
    return store;
  }

  it('settles commit to the outbox, ship to PostgreSQL, and reads come from there', async () => {
    const store = await started();
    const events = Array.from({ length: 50 }, (_, i) => makeEvent({ id: `ship-${i}`, cost_nano: 1000n + BigInt(i) }));
    await Promise.all(events.map((e) => store.settle(e)));
    expect(store.stats().local.committedItems).toBe(50);

    expect(await store.drain()).toEqual({ drained: true, remaining: 0 });
    const truth = await ledgerTruth(admin, schema);
    expect(truth.ids).toEqual(new Set(events.map((e) => e.id)));
    expect(truth.rollupRequests).toBe(50n);
    const [row] = await store.queryCosts(TOTAL);
    expect(row).toMatchObject({ requests: 50, cost_nano: 50n * 1000n + 1225n });
    expect((await store.listEvents({ filter: {}, limit: 100 })).events).toHaveLength(50);
    expect(await store.getEvent('ship-7')).toEqual(events[7]);
    expect(store.stats()).toMatchObject({
      backlog: 0,
      oldestAgeMs: null,
      spooling: false,
      shippedEvents: 50,
      duplicateEvents: 0,
      quarantined: 0,
    });
    expect(store.stats().lastShippedAt).toBeInstanceOf(Date);
    expect(store.dialect).toBe('postgres');
  });

  it('an event settled again after it shipped ships again and PostgreSQL keeps one', async () => {
    const store = await started();
    const event = makeEvent({ id: 'again', cost_nano: 500n });
    await store.settle(event);
    await store.drain();
    await store.settle({ ...event, cost_nano: 999n });
    await store.drain();
    expect(store.stats()).toMatchObject({ shippedEvents: 1, duplicateEvents: 1, backlog: 0 });
    const truth = await ledgerTruth(admin, schema);
    expect([truth.events, truth.cost, truth.rollupRequests, truth.rollupCost]).toEqual([1, 500n, 1n, 500n]);
  });

  it('PostgreSQL away: settles still resolve, the outbox spools, and all of it ships once it is back', async () => {
    const store = await started();
    await proxy.setMode('refuse');
    const events = Array.from({ length: 200 }, (_, i) => makeEvent({ id: `spool-${i}` }));
    await Promise.all(events.map((e) => store.settle(e)));
    await waitFor('spooling', () => store.stats().spooling && store.stats().backlog === 200);
    const spooling = store.stats();
    expect(spooling.shipFailures).toBeGreaterThan(0);
    expect(spooling.oldestAgeMs).toBeGreaterThan(0);
    expect(spooling.lastError).not.toBeNull();
    expect(errors.some(([context]) => context === 'ship')).toBe(true);
    await expect(store.ping()).resolves.toBeUndefined(); // still ready: it spools

    await proxy.setMode('forward');
    expect(await store.drain({ timeoutMs: 20_000 })).toEqual({ drained: true, remaining: 0 });
    expect(store.stats()).toMatchObject({ spooling: false, consecutiveFailures: 0, shippedEvents: 200 });
    const truth = await ledgerTruth(admin, schema);
    expect(truth.ids.size).toBe(200);
    expect(truth.rollupRequests).toBe(200n);
  });

  it('a COMMIT whose reply is lost: the batch ships again and PostgreSQL counts it once', async () => {
    const store = await started({ queryTimeoutMs: 500 });
    // pg sends Kysely's parameterless `commit` as a simple Query message: 'Q' … 'commit'.
    proxy.blackholeAfter((chunk) => chunk[0] === 0x51 && chunk.includes('commit'));
    const events = Array.from({ length: 30 }, (_, i) => makeEvent({ id: `lost-reply-${i}`, cost_nano: 7n }));
    await Promise.all(events.map((e) => store.settle(e)));
    await waitFor('the ship attempt to time out', () => store.stats().shipFailures > 0);
    expect((await ledgerTruth(admin, schema)).events).toBe(30); // committed, yet unacknowledged
    expect(store.stats().backlog).toBe(30);

    await proxy.setMode('forward');
    expect(await store.drain({ timeoutMs: 20_000 })).toEqual({ drained: true, remaining: 0 });
    expect(store.stats()).toMatchObject({ shippedEvents: 0, duplicateEvents: 30 });
    const truth = await ledgerTruth(admin, schema);
    expect([truth.events, truth.cost, truth.rollupRequests, truth.rollupCost]).toEqual([30, 210n, 30n, 210n]);
  });

  it('reads fail with store_unavailable while PostgreSQL is away; getEvent still finds queued events', async () => {
    const store = await started();
    await proxy.setMode('refuse');
    const event = makeEvent({ id: 'queued-here' });
    await store.settle(event);
    expect(await store.getEvent('queued-here')).toEqual(event);
    await expect(store.getEvent('elsewhere')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.queryCosts(TOTAL)).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.listEvents({ filter: {}, limit: 5 })).rejects.toBeInstanceOf(PertokenError);
  });

  it('insertEvents answers accepted/duplicate from PostgreSQL, across what settles shipped too', async () => {
    const store = await started();
    await store.settle(makeEvent({ id: 'settled' }));
    await store.drain();
    const a = makeEvent({ id: 'a' });
    const b = makeEvent({ id: 'b' });
    expect(await store.insertEvents([a, b, makeEvent({ id: 'settled' })])).toEqual({
      accepted: ['a', 'b'],
      duplicate: ['settled'],
    });
    expect(await store.insertEvents([b, makeEvent({ id: 'c' })])).toEqual({ accepted: ['c'], duplicate: ['b'] });
    expect(store.stats().backlog).toBe(0); // straight to PostgreSQL, not through the outbox
    expect((await ledgerTruth(admin, schema)).events).toBe(4);
  });

  it('insertEvents rejects an invalid event and writes nothing anywhere', async () => {
    const store = await started();
    await expect(store.insertEvents([makeEvent({ id: 'fine' }), makeEvent({ id: 'bad id' })])).rejects.toMatchObject({
      code: 'invalid_request',
      param: 'events[1].id',
    });
    await store.drain();
    expect((await ledgerTruth(admin, schema)).events).toBe(0);
  });

  it('insertEvents spools to the outbox while PostgreSQL is away and ships later', async () => {
    const store = await started();
    await proxy.setMode('refuse');
    expect(await store.insertEvents([makeEvent({ id: 'x' }), makeEvent({ id: 'y' })])).toEqual({
      accepted: ['x', 'y'],
      duplicate: [],
    });
    expect(store.stats()).toMatchObject({ spooling: true, backlog: 2 });
    // Known to be away now: the next call goes straight to the outbox.
    expect(await store.insertEvents([makeEvent({ id: 'z' })])).toEqual({ accepted: ['z'], duplicate: [] });
    await proxy.setMode('forward');
    await store.drain();
    expect((await ledgerTruth(admin, schema)).ids).toEqual(new Set(['x', 'y', 'z']));
  });

  it('starts while PostgreSQL is away, serves from the outbox, and migrates and ships when it answers', async () => {
    await proxy.setMode('refuse');
    const store = await started();
    expect(store.stats().spooling).toBe(true);
    expect(errors.map(([context]) => context)).toContain('migrate');
    await store.settle(makeEvent({ id: 'early' }));
    await proxy.setMode('forward');
    expect(await store.drain({ timeoutMs: 20_000 })).toEqual({ drained: true, remaining: 0 });
    expect((await ledgerTruth(admin, schema)).ids).toEqual(new Set(['early']));
  });

  it('a configuration error (unknown database) fails migrate instead of spooling', async () => {
    const url = new URL(proxy.url);
    url.pathname = '/pertoken_no_such_database';
    const store = replica({ postgresUrl: url.toString() });
    await expect(store.migrate()).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('quarantines a row PostgreSQL refuses (NUL in text), ships the rest, and keeps the row', async () => {
    const store = await started({ shipBatchSize: 64 });
    const good = Array.from({ length: 40 }, (_, i) => makeEvent({ id: `good-${i}` }));
    const bad = makeEvent({ id: 'nul-tenant', tenant: 'ac\u0000me' });
    await Promise.all([...good.slice(0, 20), bad, ...good.slice(20)].map((e) => store.settle(e)));
    const result = await store.drain();
    expect(result).toEqual({ drained: true, remaining: 1 });
    expect(store.stats()).toMatchObject({ quarantined: 1, backlog: 1, shippedEvents: 40 });
    expect(errors.filter(([context]) => context === 'quarantine')).toHaveLength(1);
    expect((await ledgerTruth(admin, schema)).ids).toEqual(new Set(good.map((e) => e.id)));

    // Kept across a restart: retried once, set aside again; gaps do not skew the backlog count.
    await store.close();
    const again = await started();
    expect(again.stats().backlog).toBe(1);
    await again.settle(makeEvent({ id: 'after-restart' }));
    expect(await again.drain()).toEqual({ drained: true, remaining: 1 });
    expect(again.stats()).toMatchObject({ quarantined: 1, backlog: 1 });
    expect(await again.getEvent('nul-tenant')).toMatchObject({ tenant: 'ac\u0000me' });
  });

  it('crash recovery settles open reservations into the outbox, and they ship', async () => {
    const first = await started();
    await first.reserve(makeReservation({ id: 'in-flight', estimated_input_tokens: 300 }));
    await first.reserve(makeReservation({ id: 'completed' }));
    await first.settle(makeEvent({ id: 'completed' }));
    await first.close();

    const second = await started();
    expect(await second.recoverInterrupted(pricer)).toBe(1);
    await second.drain();
    const shipped = await second.getEvent('in-flight');
    expect(shipped).toMatchObject({ status: 'interrupted', origin: 'recovery', cost_nano: 3000n });
    expect((await ledgerTruth(admin, schema)).ids).toEqual(new Set(['in-flight', 'completed']));
  });

  it('drain stops at its deadline while PostgreSQL is away; a restarted replica ships the rest', async () => {
    const first = await started();
    await proxy.setMode('refuse');
    await Promise.all(Array.from({ length: 20 }, (_, i) => first.settle(makeEvent({ id: `left-${i}` }))));
    expect(await first.drain({ timeoutMs: 300 })).toEqual({ drained: false, remaining: 20 });
    await first.close();

    await proxy.setMode('forward');
    const second = await started();
    expect(second.stats().backlog).toBe(20);
    expect(await second.drain()).toEqual({ drained: true, remaining: 0 });
    expect((await ledgerTruth(admin, schema)).events).toBe(20);
  });

  it('close stops shipping and refuses further use; the shared store stays reachable before it', async () => {
    const store = await started();
    expect(store.shared.dialect).toBe('postgres');
    await store.settle(makeEvent({ id: 'before-close' }));
    await store.close();
    await expect(store.settle(makeEvent())).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.queryCosts(TOTAL)).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.insertEvents([makeEvent()])).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(await store.drain()).toMatchObject({ drained: false });
    await store.close(); // twice is fine

    const reopened = await started();
    expect(await reopened.drain()).toEqual({ drained: true, remaining: 0 });
    expect((await ledgerTruth(admin, schema)).ids).toEqual(new Set(['before-close']));
  });
});
