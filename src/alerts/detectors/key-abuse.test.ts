import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertsSchema } from '../../config/index.js';
import { createSqliteStore, type LedgerStore, type UsageEvent } from '../../ledger/index.js';
import { makeEvent, tempDir } from '../../ledger/testing/fixtures.js';
import type { DetectContext } from '../detect.js';
import type { Finding } from '../types.js';
import { keyAbuseDetector, MAX_NEW_ADDRESSES_PER_KEY, requestLoopDetector } from './key-abuse.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** A Monday noon: the evaluation instant of every scenario. */
const AT = Date.parse('2026-11-23T12:00:00Z');

let seq = 0;
const hash = (n: number): string => n.toString(16).padStart(32, '0');

/** `count` events of `key` from `fromMs`, `stepMs` apart, each a distinct request unless `same` is given. */
function requests(
  key: string,
  fromMs: number,
  count: number,
  stepMs: number,
  over: Partial<UsageEvent> & { same?: string } = {},
): UsageEvent[] {
  const { same, ...rest } = over;
  return Array.from({ length: count }, (_, i) => {
    const n = ++seq;
    return makeEvent({
      id: `ka-${n}`,
      time: new Date(fromMs + i * stepMs),
      key_id: key,
      request_hash: same ?? hash(n),
      client_address: '10.0.0.1',
      ...rest,
    });
  });
}

let store: LedgerStore;
let cleanup: () => void;

beforeEach(async () => {
  const dir = tempDir('pertoken-key-abuse-');
  cleanup = dir.cleanup;
  store = createSqliteStore({ path: join(dir.dir, 'ledger.db') });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  cleanup();
});

async function insert(events: UsageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 2000) await store.insertEvents(events.slice(i, i + 2000));
}

function ctx(at = AT, keyAbuse: Record<string, unknown> = {}): DetectContext {
  return { at: new Date(at), store, config: alertsSchema.parse({ key_abuse: keyAbuse }), budgets: [] };
}

const run = async (at = AT, keyAbuse: Record<string, unknown> = {}): Promise<Finding[]> => [
  ...(await keyAbuseDetector(ctx(at, keyAbuse))),
  ...(await requestLoopDetector(ctx(at, keyAbuse))),
];

/** Something after `at`: a loop and a new address of another key. The detectors must not see it. */
function future(): UsageEvent[] {
  return [
    ...requests('later', AT - 20 * DAY, 1, 1),
    ...requests('later', AT, 100, 1000, { same: hash(999_999), client_address: '198.51.100.1' }),
  ];
}

describe('request_loop', () => {
  it('pages for an SDK retry loop: one body 50 times in 5 minutes from one key', async () => {
    await insert([
      ...requests('sdk-key', AT - 5 * MIN, 50, 6000, { same: 'c0ffee'.padEnd(32, '0') }),
      // The same key's other traffic, and a prompt sent 19 times (one under loop_repeats), do not loop.
      ...requests('sdk-key', AT - 9 * MIN, 40, 10_000),
      ...requests('sdk-key', AT - 9 * MIN, 19, 20_000, { same: hash(123_456) }),
      // Another key sending the very same fingerprint is another caller.
      ...requests('other-key', AT - 5 * MIN, 10, 6000, { same: 'c0ffee'.padEnd(32, '0') }),
      ...future(),
    ]);
    expect(await run()).toEqual([
      {
        kind: 'request_loop',
        severity: 'page',
        scope: { tenant: 'acme', key: 'sdk-key' },
        summary: 'key sdk-key (tenant acme) sent the same request 50 times in 10 min (fingerprint c0ffee000000…)',
        value: 50,
        baseline: null,
      },
    ]);
    // Before the loop began there was nothing to see; a smaller repeat count catches the 19.
    expect(await run(AT - 5 * MIN)).toEqual([]);
    const strict = await requestLoopDetector(ctx(AT, { loop_repeats: 19 }));
    expect(strict.map((f) => [f.scope.key, f.value, f.summary.endsWith('; 1 more repeating request)')])).toEqual([
      ['sdk-key', 50, true],
    ]);
  });
});

describe('key_abuse', () => {
  it('pages and opens a ticket for a leaked key: a new address after 3 weeks, at 15× its rate', async () => {
    await insert([
      // Three weeks from one address at 15 requests an hour (every 4 minutes).
      ...requests('leaky', AT - 21 * DAY, 21 * 24 * 15 - 15, 4 * MIN),
      // The last hour: 225 requests from an address the key never used.
      ...requests('leaky', AT - HOUR, 225, 16_000, { client_address: '203.0.113.7' }),
      ...future(),
    ]);
    expect(await run()).toEqual([
      {
        kind: 'key_abuse',
        severity: 'page',
        scope: { tenant: 'acme', key: 'leaky' },
        summary:
          'key leaky (tenant acme): 225 requests in the last hour, 15.0× its usual 15/h (mean of the previous 24 h)',
        value: 225,
        baseline: 15,
      },
      {
        kind: 'key_abuse',
        severity: 'ticket',
        scope: { tenant: 'acme', key: 'leaky' },
        summary:
          'key leaky (tenant acme) used from a new address 203.0.113.7: 225 requests in the last hour, ' +
          'none from it in the 14 days before',
        value: 225,
        baseline: null,
        variant: 'new_address:203.0.113.7',
      },
    ]);
    // An hour earlier, before the leak, nothing; with new_address off, only the page.
    expect(await run(AT - HOUR)).toEqual([]);
    expect((await run(AT, { new_address: false })).map((f) => f.severity)).toEqual(['page']);
  });

  it('judges a key older than the seasonal weeks by the median of its same hour of the week', async () => {
    await insert([
      ...requests('batch', AT - 6 * WEEK, 1, 1),
      // 20, 20, 25 and 0 requests in this hour of the last four weeks: median 20.
      ...[1, 2, 3].flatMap((w) => requests('batch', AT - w * WEEK - HOUR, w === 3 ? 25 : 20, 2 * MIN)),
      ...requests('batch', AT - HOUR, 200, 15_000),
    ]);
    expect(await keyAbuseDetector(ctx())).toEqual([
      {
        kind: 'key_abuse',
        severity: 'page',
        scope: { tenant: 'acme', key: 'batch' },
        summary:
          'key batch (tenant acme): 200 requests in the last hour, 10.0× its usual 20/h (median of the same hour over 4 weeks)',
        value: 200,
        baseline: 20,
      },
    ]);
    // One request under the factor: nothing.
    expect(await keyAbuseDetector(ctx(AT, { rate_factor: 10.1 }))).toEqual([]);
  });

  it('raises nothing for normal busy keys, old or young, nor for a young key’s first addresses', async () => {
    await insert([
      // Five weeks old, 300 requests in this hour every week; this week's address was used last week.
      ...requests('busy', AT - 5 * WEEK, 1, 1),
      ...[0, 1, 2, 3, 4].flatMap((w) =>
        requests('busy', AT - w * WEEK - HOUR, 300, 12_000, { client_address: w <= 1 ? '10.0.0.8' : '10.0.0.9' }),
      ),
      // A day-old key at a steady 240 an hour, the last hour from a second address.
      ...requests('steady', AT - 25 * HOUR, 24 * 240, 15_000),
      ...requests('steady', AT - HOUR, 240, 15_000, { client_address: '10.0.0.2' }),
      // A brand-new key: busy at once, from its first address. Learning, not abuse.
      ...requests('fresh', AT - HOUR, 400, 9000, { client_address: '192.0.2.44' }),
      ...future(),
    ]);
    expect(await run()).toEqual([]);
  });

  it('lists at most a few new addresses per key, the busiest first', async () => {
    const spread = Array.from({ length: MAX_NEW_ADDRESSES_PER_KEY + 2 }, (_, i) =>
      requests('spread', AT - 30 * MIN, i + 1, 1000, { client_address: `198.51.100.${10 + i}` }),
    );
    await insert([...requests('spread', AT - 20 * DAY, 10, HOUR), ...spread.flat()]);
    const found = await keyAbuseDetector(ctx());
    expect(found.map((f) => [f.variant, f.value])).toEqual([
      ['new_address:198.51.100.16', 7],
      ['new_address:198.51.100.15', 6],
      ['new_address:198.51.100.14', 5],
      ['new_address:198.51.100.13', 4],
      ['new_address:198.51.100.12', 3],
    ]);
    for (const finding of found) expect(finding.summary).toMatch(/; 2 more new addresses not listed$/);
  });
});
