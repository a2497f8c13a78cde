/**
 * Redis going away and coming back, through a TCP proxy that can refuse (Redis stopped) or
 * blackhole (network partition) connections. Asserts states and counters, never durations.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PertokenError } from '../errors.js';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy.js';
import { deletePrefix, rawClient, redisSkipReason, TEST_REDIS_URL, uniquePrefix } from './testing/index.js';
import { createCounters, type Counters, type CountersOptions, type ReserveRequest } from './index.js';

const skip = await redisSkipReason();
const CENT = 10_000_000n;
const budget = { key: 'outage', limit: 100n * CENT };
const rpm = { key: 'rpm:outage', limit: 100, windowMs: 60_000, cost: 1 };

function reserveOf(failMode: 'open' | 'closed', amount = CENT): ReserveRequest {
  return { leaseId: randomUUID(), counters: [budget], amount, ttlMs: 60_000, failMode };
}

describe.skipIf(skip !== null)('counters when Redis is down', () => {
  let proxy: TcpProxy;
  let keyPrefix: string;
  let direct: Counters;
  const opened: Counters[] = [];

  const throughProxy = (options: Partial<CountersOptions> = {}): Counters => {
    const counters = createCounters({ redisUrl: proxy.url, keyPrefix, commandTimeoutMs: 300, ...options });
    opened.push(counters);
    return counters;
  };
  const waitConnected = (counters: Counters) =>
    vi.waitFor(async () => expect(await counters.ping()).toBe(true), { timeout: 5_000, interval: 50 });

  beforeEach(async () => {
    proxy = await startTcpProxy(TEST_REDIS_URL);
    keyPrefix = uniquePrefix('outage');
    direct = createCounters({ redisUrl: TEST_REDIS_URL, keyPrefix });
    opened.push(direct);
  });
  afterEach(async () => {
    for (const counters of opened.splice(0)) await counters.close();
    await proxy.close();
    await deletePrefix(keyPrefix);
  });

  it('fails open (admits and counts) or closed (503 counters_unavailable) as asked, then recovers', async () => {
    const replica = throughProxy();
    expect((await replica.budgets.reserve(reserveOf('closed'))).ok).toBe(true);
    await proxy.setMode('refuse');

    const open = await replica.budgets.reserve(reserveOf('open'));
    expect(open).toMatchObject({ ok: true, failedOpen: true, counters: [] });
    const openTake = await replica.rates.take({ id: randomUUID(), limits: [rpm], failMode: 'open' });
    expect(openTake).toMatchObject({ ok: true, failedOpen: true });
    expect(openTake.states[0]).toMatchObject({ used: 0, remaining: 100 });

    const closed = await replica.budgets.reserve(reserveOf('closed')).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(PertokenError);
    expect(closed).toMatchObject({ code: 'counters_unavailable', status: 503, headers: { 'retry-after': '1' } });
    expect((closed as PertokenError).message).toMatch(/shared counters \(Redis\) are unavailable.*fail-closed/);
    await expect(replica.rates.take({ id: randomUUID(), limits: [rpm], failMode: 'closed' })).rejects.toMatchObject({
      code: 'counters_unavailable',
    });
    await expect(replica.budgets.status([budget])).rejects.toMatchObject({ code: 'counters_unavailable' });
    await expect(replica.signals.bump('keys')).rejects.toMatchObject({ code: 'counters_unavailable' });
    expect(await replica.ping()).toBe(false);

    expect(replica.stats()).toMatchObject({
      backend: 'redis',
      connected: false,
      failOpenAdmits: 2,
      failClosedRefusals: 2,
    });
    expect(replica.stats().failures).toBeGreaterThanOrEqual(6);

    await proxy.setMode('forward');
    await waitConnected(replica);
    expect(replica.stats().connected).toBe(true);
    const after = await replica.budgets.reserve(reserveOf('closed'));
    expect(after).toMatchObject({ ok: true, failedOpen: false });
    expect(after.ok && after.counters[0]!.reserved).toBe(2n * CENT); // the first and this one
  });

  it('queues settles and releases while down and applies them once on reconnect', async () => {
    const replica = throughProxy();
    const settled = await replica.budgets.reserve(reserveOf('closed', 5n * CENT));
    const released = await replica.budgets.reserve(reserveOf('closed', 7n * CENT));
    if (!settled.ok || !released.ok) throw new Error('expected ok');
    await proxy.setMode('refuse');

    const failedOpen = await replica.budgets.reserve(reserveOf('open', 9n * CENT));
    if (!failedOpen.ok) throw new Error('expected a fail-open admit');
    expect(await replica.budgets.settle(settled.lease, 4n * CENT)).toEqual({ outcome: 'queued', counters: [] });
    expect(await replica.budgets.release(released.lease)).toEqual({ outcome: 'queued' });
    // The fail-open request finished too: its cost must reach the counter once Redis is back.
    expect((await replica.budgets.settle(failedOpen.lease, 3n * CENT)).outcome).toBe('queued');
    expect(replica.stats().queuedWrites).toBe(3);

    await proxy.setMode('forward');
    await waitConnected(replica);
    await vi.waitFor(() => expect(replica.stats().queuedWrites).toBe(0), { timeout: 5_000 });
    expect(await direct.budgets.status([budget])).toEqual([
      { key: 'outage', spent: 7n * CENT, reserved: 0n, limit: 100n * CENT },
    ]);
    // Replaying them again changes nothing (idempotent per lease).
    expect((await replica.budgets.settle(settled.lease, 4n * CENT)).outcome).toBe('duplicate');
  });

  it('drops (and counts) writes beyond the queue bound', async () => {
    const replica = throughProxy({ maxQueuedWrites: 1 });
    expect(await replica.ping()).toBe(true);
    await proxy.setMode('refuse');
    const lease = { id: randomUUID(), counters: [budget] };
    expect((await replica.budgets.settle(lease, CENT)).outcome).toBe('queued');
    expect((await replica.budgets.settle({ ...lease, id: randomUUID() }, CENT)).outcome).toBe('dropped');
    expect((await replica.budgets.release({ ...lease, id: randomUUID() })).outcome).toBe('dropped');
    expect(replica.stats()).toMatchObject({ queuedWrites: 1, droppedWrites: 2 });
  });

  it('detects a silent (blackholed) connection by timeout, fails as configured, and reconnects', async () => {
    const replica = throughProxy({ commandTimeoutMs: 200 });
    expect(await replica.ping()).toBe(true);
    await proxy.setMode('blackhole');

    const open = await replica.budgets.reserve(reserveOf('open'));
    expect(open).toMatchObject({ ok: true, failedOpen: true });
    await expect(replica.budgets.reserve(reserveOf('closed'))).rejects.toMatchObject({ code: 'counters_unavailable' });
    expect(replica.stats()).toMatchObject({ failOpenAdmits: 1, failClosedRefusals: 1 });

    await proxy.setMode('forward');
    await waitConnected(replica);
    expect((await replica.budgets.reserve(reserveOf('closed'))).ok).toBe(true);
    expect(proxy.accepted).toBeGreaterThanOrEqual(2); // it really reconnected
  });

  it('starts while Redis is unreachable and connects once it is there', async () => {
    await proxy.setMode('refuse');
    const replica = throughProxy({ connectTimeoutMs: 300 });
    await expect(replica.budgets.reserve(reserveOf('closed'))).rejects.toMatchObject({ code: 'counters_unavailable' });
    expect(await replica.rates.take({ id: randomUUID(), limits: [rpm], failMode: 'open' })).toMatchObject({
      ok: true,
      failedOpen: true,
    });
    await proxy.setMode('forward');
    await waitConnected(replica);
    expect((await replica.rates.take({ id: randomUUID(), limits: [rpm], failMode: 'closed' })).ok).toBe(true);
  });

  it('gives up on a connection that accepts but never becomes ready, and recovers', async () => {
    await proxy.setMode('blackhole');
    const replica = throughProxy({ connectTimeoutMs: 200 });
    await expect(replica.budgets.status([budget])).rejects.toMatchObject({ code: 'counters_unavailable' });
    await proxy.setMode('forward');
    await waitConnected(replica);
    expect(await replica.budgets.status([budget])).toEqual([
      { key: 'outage', spent: 0n, reserved: 0n, limit: 100n * CENT },
    ]);
  });

  it('lets a replica watch signals while Redis is down and delivers bumps once it is back', async () => {
    await proxy.setMode('refuse');
    const replica = throughProxy({ signalPollMs: 100 });
    const seen: number[] = [];
    await replica.signals.watch('keys', (v) => seen.push(v));
    await direct.signals.bump('keys');
    await proxy.setMode('forward');
    await vi.waitFor(() => expect(seen).toEqual([1]), { timeout: 5_000 });
  });

  it('adjust is best effort: false while down, never throws', async () => {
    const replica = throughProxy();
    const taken = await replica.rates.take({ id: randomUUID(), limits: [rpm], failMode: 'closed' });
    if (!taken.ok) throw new Error('expected ok');
    await proxy.setMode('refuse');
    expect(await replica.rates.adjust(taken.ticket, [{ key: rpm.key, cost: 0 }])).toBe(false);
  });

  it('reports a Redis error reply as internal, not as an outage', async () => {
    const client = rawClient();
    await client.set(`${keyPrefix}b:${budget.key}`, 'not a hash');
    client.disconnect();
    const error = await direct.budgets.reserve(reserveOf('open')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PertokenError);
    expect(error).toMatchObject({ code: 'internal' });
    expect((error as Error).message).toMatch(/WRONGTYPE/);
    expect(direct.stats()).toMatchObject({ failOpenAdmits: 0, failures: 0 });
  });

  it('applies nothing twice after a reply is lost mid-flight', async () => {
    const replica = throughProxy({ commandTimeoutMs: 200 });
    const request = reserveOf('closed', 10n * CENT);
    expect(await replica.ping()).toBe(true);
    proxy.silenceExisting('replies');
    // The script runs but its answer is lost: the caller sees an outage and retries later.
    await expect(replica.budgets.reserve(request)).rejects.toMatchObject({ code: 'counters_unavailable' });
    expect((await direct.budgets.status([budget]))[0]!.reserved).toBe(10n * CENT);
    await sleep(100);
    await waitConnected(replica);
    const retried = await replica.budgets.reserve(request);
    expect(retried).toMatchObject({ ok: true, replayed: true });
    expect((await direct.budgets.status([budget]))[0]!.reserved).toBe(10n * CENT);
  });
});
