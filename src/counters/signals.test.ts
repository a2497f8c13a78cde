import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTcpProxy } from '../testing/tcp-proxy.js';
import { backendCases, deletePrefix, TEST_REDIS_URL, uniquePrefix, type Backend } from './testing/index.js';
import { createCounters } from './index.js';

const cases = await backendCases('signals');

for (const backendCase of cases) {
  describe.skipIf(backendCase.skip !== null)(`signals on ${backendCase.name}`, () => {
    let backend: Backend;
    beforeEach(async () => {
      backend = await backendCase.open();
    });
    afterEach(async () => {
      await backend.dispose();
    });

    it('tells every replica about a bump (key revocation), with the new version', async () => {
      const admin = backend.counters;
      const replicas = [backend.replica(), backend.replica()];
      const seen: number[][] = [[], []];
      for (const [i, replica] of replicas.entries()) {
        await replica.signals.watch('keys', (version) => seen[i]!.push(version));
      }
      expect(await admin.signals.version('keys')).toBe(0);
      expect(await admin.signals.bump('keys')).toBe(1);
      await vi.waitFor(() => expect(seen.map((s) => s.at(-1))).toEqual([1, 1]), { timeout: 2_000 });
      expect(await admin.signals.bump('keys')).toBe(2);
      await vi.waitFor(() => expect(seen.map((s) => s.at(-1))).toEqual([2, 2]), { timeout: 2_000 });
      expect(await replicas[0]!.signals.version('keys')).toBe(2);
    });

    it('stops calling a listener once unsubscribed and keeps topics apart', async () => {
      const replica = backend.replica();
      const keys: number[] = [];
      const other: number[] = [];
      const stop = await replica.signals.watch('keys', (v) => keys.push(v));
      await replica.signals.watch('config', (v) => other.push(v));
      await backend.counters.signals.bump('keys');
      await vi.waitFor(() => expect(keys).toContain(1), { timeout: 2_000 });
      await stop();
      await backend.counters.signals.bump('keys');
      await backend.counters.signals.bump('config');
      await vi.waitFor(() => expect(other).toContain(1), { timeout: 2_000 });
      expect(keys).not.toContain(2);
    });

    it('keeps calling other listeners when one throws', async () => {
      const replica = backend.replica();
      const seen: number[] = [];
      await replica.signals.watch('keys', () => {
        throw new Error('listener bug');
      });
      await replica.signals.watch('keys', (v) => seen.push(v));
      await backend.counters.signals.bump('keys');
      await vi.waitFor(() => expect(seen).toContain(1), { timeout: 2_000 });
    });
  });
}

describe.skipIf(cases[1]!.skip !== null)('signals on redis through outages', () => {
  it('delivers a bump made while the replica was cut off, once it reconnects', async () => {
    const proxy = await startTcpProxy(TEST_REDIS_URL);
    const keyPrefix = uniquePrefix('signals-outage');
    const admin = createCounters({ redisUrl: TEST_REDIS_URL, keyPrefix });
    const replica = createCounters({ redisUrl: proxy.url, keyPrefix, signalPollMs: 60_000 });
    try {
      const seen: number[] = [];
      await replica.signals.watch('keys', (v) => seen.push(v));
      await admin.signals.bump('keys');
      await vi.waitFor(() => expect(seen).toEqual([1]), { timeout: 2_000 });

      await proxy.setMode('refuse');
      await admin.signals.bump('keys'); // the pub/sub message is lost for the replica
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).toEqual([1]);
      await proxy.setMode('forward');
      await vi.waitFor(() => expect(seen).toEqual([1, 2]), { timeout: 5_000 });
    } finally {
      await replica.close();
      await admin.close();
      await proxy.close();
      await deletePrefix(keyPrefix);
    }
  });

  it('reaches a replica whose subscriber connection went silent, through the version poll', async () => {
    const proxy = await startTcpProxy(TEST_REDIS_URL);
    const keyPrefix = uniquePrefix('signals-poll');
    const admin = createCounters({ redisUrl: TEST_REDIS_URL, keyPrefix });
    const replica = createCounters({ redisUrl: proxy.url, keyPrefix, signalPollMs: 100, commandTimeoutMs: 200 });
    try {
      const seen: number[] = [];
      await replica.signals.watch('keys', (v) => seen.push(v));
      await vi.waitFor(() => expect(proxy.accepted).toBe(2), { timeout: 2_000 }); // commands + subscriber
      // Both sockets go silent; new ones work. The bump's message is lost on the silent subscriber;
      // the poll (after the command socket times out and reconnects) or the subscriber's
      // replacement (after its ping times out) delivers it.
      proxy.silenceExisting();
      await admin.signals.bump('keys');
      await vi.waitFor(() => expect(seen).toEqual([1]), { timeout: 5_000 });
      await vi.waitFor(() => expect(proxy.accepted).toBe(4), { timeout: 5_000 }); // both reconnected
      await admin.signals.bump('keys');
      await vi.waitFor(() => expect(seen).toEqual([1, 2]), { timeout: 5_000 });
    } finally {
      await replica.close();
      await admin.close();
      await proxy.close();
      await deletePrefix(keyPrefix);
    }
  });
});
