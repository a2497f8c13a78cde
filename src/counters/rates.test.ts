import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases, manualClock, type Backend } from './testing/index.js';
import { createCounters, type RateLimitSpec, type TakeRequest, type TakeResult } from './index.js';

const cases = await backendCases('rates');

function takeOf(limits: RateLimitSpec[], extra: Partial<TakeRequest> = {}): TakeRequest {
  return { id: randomUUID(), limits, failMode: 'closed', ...extra };
}

function admittedCount(results: TakeResult[]): number {
  return results.filter((r) => r.ok).length;
}

for (const backendCase of cases) {
  describe.skipIf(backendCase.skip !== null)(`rate limiter on ${backendCase.name}`, () => {
    let backend: Backend;
    beforeEach(async () => {
      backend = await backendCase.open();
    });
    afterEach(async () => {
      await backend.dispose();
    });

    it('admits exactly `limit` in a window, refuses with a wait, and recovers after it', async () => {
      const { rates } = backend.counters;
      const rpm = { key: 'rpm:k1', limit: 5, windowMs: 1_000, cost: 1 };
      const results: TakeResult[] = [];
      for (let i = 0; i < 8; i++) results.push(await rates.take(takeOf([rpm])));
      expect(admittedCount(results)).toBe(5);
      expect(results.map((r) => r.states[0]!.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0, 0]);
      const refused = results[7]!;
      if (refused.ok) throw new Error('expected a refusal');
      expect(refused.key).toBe('rpm:k1');
      expect(refused.tooLarge).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
      expect(refused.states[0]).toMatchObject({ used: 5, remaining: 0, limit: 5, windowMs: 1_000 });

      await backend.advance(1_000);
      const after = await Promise.all(Array.from({ length: 7 }, () => rates.take(takeOf([rpm]))));
      expect(admittedCount(after)).toBe(5);
    });

    it('admits exactly `limit` of many concurrent takes across three replicas', async () => {
      const replicas = [backend.counters, backend.replica(), backend.replica()];
      const tpm = { key: 'tpm:shared', limit: 10_000, windowMs: 60_000, cost: 100 };
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => replicas[i % 3]!.rates.take(takeOf([tpm]))),
      );
      expect(admittedCount(results)).toBe(100);
      const states = await replicas[1]!.rates.take(takeOf([{ ...tpm, cost: 0 }]));
      expect(states.states[0]).toMatchObject({ used: 10_000, remaining: 0 });
    });

    it('takes several limits all-or-nothing: a TPM refusal consumes no RPM', async () => {
      const { rates } = backend.counters;
      const rpm = { key: 'rpm:k', limit: 10, windowMs: 60_000, cost: 1 };
      const tpm = { key: 'tpm:k', limit: 1_000, windowMs: 60_000, cost: 800 };
      expect((await rates.take(takeOf([rpm, tpm]))).ok).toBe(true);
      const refused = await rates.take(takeOf([rpm, tpm]));
      expect(refused).toMatchObject({ ok: false, key: 'tpm:k', tooLarge: false });
      expect(refused.states.map((s) => [s.key, s.used, s.remaining])).toEqual([
        ['rpm:k', 1, 9],
        ['tpm:k', 800, 200],
      ]);
      const small = await rates.take(takeOf([rpm, { ...tpm, cost: 200 }]));
      expect(small.states.map((s) => s.used)).toEqual([2, 1_000]);
    });

    it('refuses a request larger than the limit as never fitting', async () => {
      const { rates } = backend.counters;
      const result = await rates.take(
        takeOf([
          { key: 'rpm:big', limit: 1, windowMs: 1_000, cost: 1 },
          { key: 'tpm:big', limit: 100, windowMs: 1_000, cost: 101 },
        ]),
      );
      expect(result).toMatchObject({ ok: false, key: 'tpm:big', retryAfterMs: null, tooLarge: true });
      const rpmStill = await rates.take(takeOf([{ key: 'rpm:big', limit: 1, windowMs: 1_000, cost: 1 }]));
      expect(rpmStill.ok).toBe(true);
    });

    it('corrects an admitted TPM reservation with adjust (down and up)', async () => {
      const { rates } = backend.counters;
      const tpm = { key: 'tpm:adj', limit: 1_500, windowMs: 60_000, cost: 1_000 };
      const first = await rates.take(takeOf([{ key: 'rpm:adj', limit: 100, windowMs: 60_000, cost: 1 }, tpm]));
      if (!first.ok) throw new Error('expected ok');
      expect((await rates.take(takeOf([{ ...tpm, cost: 1_000 }]))).ok).toBe(false);

      expect(await rates.adjust(first.ticket, [{ key: 'tpm:adj', cost: 200 }])).toBe(true);
      const second = await rates.take(takeOf([{ ...tpm, cost: 1_300 }]));
      expect(second.ok && second.states[0]!.used).toBe(1_500);

      await rates.adjust(first.ticket, [{ key: 'tpm:adj', cost: 400 }]);
      const probe = await rates.take(takeOf([{ ...tpm, cost: 0 }]));
      expect(probe.states[0]!.used).toBe(1_700); // over by the correction, as a late settle can be
      expect(await rates.adjust(first.ticket, [{ key: 'not-in-ticket', cost: 5 }])).toBe(true);
    });

    it('counts a retried take (same id) once', async () => {
      const { rates } = backend.counters;
      const request = takeOf([{ key: 'rpm:retry', limit: 2, windowMs: 60_000, cost: 1 }]);
      await rates.take(request);
      const again = await rates.take(request);
      expect(again.ok && again.states[0]!.used).toBe(1);
    });

    it('reports the longest wait when several limits refuse', async () => {
      const { rates } = backend.counters;
      const short = { key: 'short', limit: 1, windowMs: 300, cost: 1 };
      const long = { key: 'long', limit: 1, windowMs: 60_000, cost: 1 };
      await rates.take(takeOf([short, long]));
      const refused = await rates.take(takeOf([short, long]));
      expect(refused).toMatchObject({ ok: false, key: 'long' });
      if (refused.ok) throw new Error('expected a refusal');
      expect(refused.retryAfterMs).toBeGreaterThan(300);
    });

    it('rejects malformed limits', async () => {
      const { rates } = backend.counters;
      const bad: [RateLimitSpec[], string][] = [
        [[{ key: 'a', limit: 0, windowMs: 1_000, cost: 1 }], 'limits[0].limit'],
        [[{ key: 'a', limit: 1, windowMs: 0, cost: 1 }], 'limits[0].windowMs'],
        [[{ key: 'a', limit: 1, windowMs: 1_000, cost: -1 }], 'limits[0].cost'],
        [[{ key: 'a', limit: 1, windowMs: 1_000, cost: 0.5 }], 'limits[0].cost'],
        [[], 'limits'],
      ];
      for (const [limits, param] of bad) {
        await expect(rates.take(takeOf(limits))).rejects.toMatchObject({ code: 'invalid_request', param });
      }
      await expect(
        rates.take(takeOf([{ key: 'a', limit: 1, windowMs: 1, cost: 1 }], { id: '' })),
      ).rejects.toMatchObject({
        param: 'id',
      });
      const ticket = { id: 't', entries: [{ key: 'a', windowMs: 1_000, cost: 1 }] };
      await expect(rates.adjust(ticket, [{ key: 'a', cost: -1 }])).rejects.toMatchObject({ param: 'changes[0].cost' });
    });
  });
}

describe('rate limiter on memory, exact timing with a manual clock', () => {
  it('slides: entries leave the window one by one, with exact waits and resets', async () => {
    const clock = manualClock(0);
    const { rates } = createCounters({ now: clock.now });
    const limit = { key: 'rpm', limit: 5, windowMs: 1_000, cost: 1 };
    for (let i = 0; i < 3; i++) await rates.take(takeOf([limit]));
    clock.advance(500);
    const fourth = await rates.take(takeOf([limit]));
    expect(fourth.states[0]).toEqual({ key: 'rpm', limit: 5, windowMs: 1_000, used: 4, remaining: 1, resetMs: 1_000 });
    await rates.take(takeOf([limit]));
    const refused = await rates.take(takeOf([limit]));
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 500, tooLarge: false });

    clock.advance(499);
    expect((await rates.take(takeOf([limit]))).ok).toBe(false);
    clock.advance(1); // t = 1000: the three entries of t = 0 leave
    const results = await Promise.all(Array.from({ length: 4 }, () => rates.take(takeOf([limit]))));
    expect(admittedCount(results)).toBe(3);
    expect(results[2]!.states[0]).toMatchObject({ used: 5, resetMs: 1_000 });
    const last = results[3]!;
    expect(last).toMatchObject({ ok: false, retryAfterMs: 500 }); // the t = 500 entries go first
  });

  it('waits for just enough tokens to leave when costs differ', async () => {
    const clock = manualClock(0);
    const { rates } = createCounters({ now: clock.now });
    const tpm = (cost: number) => ({ key: 'tpm', limit: 1_000, windowMs: 60_000, cost });
    await rates.take(takeOf([tpm(300)]));
    clock.advance(10_000);
    await rates.take(takeOf([tpm(300)]));
    clock.advance(10_000);
    await rates.take(takeOf([tpm(300)]));
    // 900 used; 500 more needs the first two entries gone: the second leaves at t = 70 000.
    expect(await rates.take(takeOf([tpm(500)]))).toMatchObject({ ok: false, retryAfterMs: 50_000 });
    expect(await rates.take(takeOf([tpm(350)]))).toMatchObject({ ok: false, retryAfterMs: 40_000 });
    clock.advance(40_000);
    expect(await rates.take(takeOf([tpm(350)]))).toMatchObject({ ok: true });
  });

  it('ignores adjustments to entries that already left the window', async () => {
    const clock = manualClock(0);
    const { rates } = createCounters({ now: clock.now });
    const tpm = { key: 'tpm', limit: 1_000, windowMs: 1_000, cost: 600 };
    const first = await rates.take(takeOf([tpm]));
    if (!first.ok) throw new Error('expected ok');
    clock.advance(1_000);
    await rates.adjust(first.ticket, [{ key: 'tpm', cost: 900 }]);
    const probe = await rates.take(takeOf([{ ...tpm, cost: 1_000 }]));
    expect(probe.ok).toBe(true);
  });
});
