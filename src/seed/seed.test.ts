import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIMENSION_ID, EVENT_ID, KEY_ID, matchesId } from '../ids.js';
import {
  createPostgresStore,
  createSqliteStore,
  type CostQuery,
  type EventRow,
  type GroupKey,
  type LedgerStore,
} from '../ledger/index.js';
import { TEST_DATABASE_URL, createTestSchema, postgresSkipReason } from '../ledger/testing/dialects.js';
import { makeEvent, tempDir } from '../ledger/testing/fixtures.js';
import { createPriceBook } from '../pricing/index.js';
import { BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import { SEED_MODELS, UNPRICED_MODEL } from './catalog.js';
import { checkSeedOptions, generateSeedRows, hourlyCounts, type SeedOptions } from './generator.js';
import { seedLedger } from './index.js';
import { Zipf, createRandom } from './random.js';

const book = createPriceBook();
const END = new Date('2026-11-01T00:00:00Z');
const small: SeedOptions = { events: 20_000, tenants: 40, models: 30, days: 7, seed: 42, end: END, batchSize: 3000 };

function rows(options: SeedOptions): EventRow[] {
  return [...generateSeedRows(options, book)].flat();
}

function bucketsOf(row: EventRow): Buckets {
  const out: Buckets = {};
  for (const b of BUCKETS) {
    const n = Number(row[`tok_${b}` as keyof EventRow] ?? 0);
    if (n !== 0) out[b as Bucket] = n;
  }
  return out;
}

describe('seed generator', () => {
  it('is deterministic: same seed and end, same rows; another seed, other rows', () => {
    const a = rows({ ...small, events: 3000 });
    const b = rows({ ...small, events: 3000 });
    const c = rows({ ...small, events: 3000, seed: 43 });
    expect(a).toEqual(b);
    expect(a.map((r) => r.id)).not.toEqual(c.map((r) => r.id));
    expect(new Set(a.map((r) => r.id)).size).toBe(3000);
  });

  it('spreads events over the period with a diurnal and weekly shape, in time order', () => {
    const start = END.getTime() - 14 * 86_400_000;
    const counts = hourlyCounts(1_000_000, start, 14 * 24);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1_000_000);
    const byHourOfDay = Array.from({ length: 24 }, (_, h) =>
      counts.filter((_, i) => i % 24 === h).reduce((a, b) => a + b, 0),
    );
    expect(byHourOfDay[15]!).toBeGreaterThan(3 * byHourOfDay[3]!);
    const byWeekday = Array.from({ length: 7 }, (_, d) =>
      counts.filter((_, i) => new Date(start + i * 3_600_000).getUTCDay() === d).reduce((a, b) => a + b, 0),
    );
    expect(byWeekday[3]!).toBeGreaterThan(2 * byWeekday[0]!);
    const generated = rows({ ...small, events: 5000 });
    const times = generated.map((r) => Number(r.time_ms));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times[0]!).toBeGreaterThanOrEqual(END.getTime() - 7 * 86_400_000);
    expect(times[times.length - 1]!).toBeLessThan(END.getTime());
  });

  it('is skewed and realistic: Zipf tenants and models, cache reads, reasoning, unpriced, estimated, failures', () => {
    const all = rows(small);
    const share = (pred: (r: EventRow) => boolean): number => all.filter(pred).length / all.length;
    const tenantCounts = new Map<string, number>();
    for (const r of all) tenantCounts.set(r.tenant, (tenantCounts.get(r.tenant) ?? 0) + 1);
    const sorted = [...tenantCounts.values()].sort((a, b) => b - a);
    expect(sorted[0]! / all.length).toBeGreaterThan(0.1);
    expect(sorted[sorted.length - 1]! / all.length).toBeLessThan(0.01);
    expect(share((r) => r.model === 'gpt-4o-mini-2024-07-18')).toBeGreaterThan(
      share((r) => r.model === 'command-r-plus-08-2024'),
    );
    expect(share((r) => Number(r.tok_cache_read) > 0)).toBeGreaterThan(0.1);
    expect(share((r) => Number(r.tok_reasoning) > 0)).toBeGreaterThan(0.02);
    expect(share((r) => r.cost_nano === null)).toBeGreaterThan(0.0005);
    expect(all.filter((r) => r.cost_nano === null).every((r) => r.model === UNPRICED_MODEL.served)).toBe(true);
    expect(share((r) => r.usage_source === 'estimated')).toBeGreaterThan(0.002);
    expect(share((r) => r.price_ref === 'not-billed')).toBeGreaterThan(0.003);
    const models = new Set(all.map((r) => r.model));
    for (const m of models) expect([...SEED_MODELS, UNPRICED_MODEL].some((s) => s.served === m)).toBe(true);
  });

  it('prices every event exactly as the price book does, across a dated change and time-of-day windows', () => {
    // o3's price changed on 2025-06-10; DeepSeek is cheaper 16:30-00:30 UTC.
    for (const options of [small, { ...small, end: new Date('2025-06-14T00:00:00Z'), days: 8, seed: 7 }]) {
      let checked = 0;
      for (const row of rows(options)) {
        if (row.price_ref === 'not-billed') continue;
        const at = new Date(Number(row.time_ms));
        const buckets = bucketsOf(row);
        let expected = book.price({ provider: row.provider, model: row.model, at, buckets });
        if (expected.cost_nano === null && row.model !== row.requested_model) {
          expected = book.price({ provider: row.provider, model: row.requested_model, at, buckets });
        }
        expect([
          row.id,
          row.cost_nano === null || row.cost_nano === undefined ? null : BigInt(row.cost_nano),
          row.price_ref,
        ]).toEqual([row.id, expected.cost_nano, expected.cost_nano === null ? null : expected.price_ref]);
        checked++;
      }
      expect(checked).toBeGreaterThan(19_000);
    }
    const refs = new Set(
      rows({ ...small, end: new Date('2025-06-14T00:00:00Z'), days: 8, seed: 7 }).map((r) => r.price_ref),
    );
    expect(refs).toContain('genai-prices@0.1.8:openai/o3@2025-06-10');
    expect(refs).toContain('genai-prices@0.1.8:openai/o3');
    expect([...refs].some((r) => r?.includes('deepseek-chat@time='))).toBe(true);
    expect(refs).toContain('genai-prices@0.1.8:deepseek/deepseek-chat');
  });

  it('every catalogue model has a price', () => {
    for (const m of SEED_MODELS) {
      const priced = book.price({
        provider: m.provider,
        model: m.served,
        at: END,
        buckets: m.kind === 'embedding' ? { input: 10 } : { input: 10, output: 10 },
      });
      expect(priced.cost_nano, `${m.provider}/${m.served}`).not.toBeNull();
    }
  });

  it.each([
    [{ events: 0 }, 'events'],
    [{ tenants: 1.5 }, 'tenants'],
    [{ models: SEED_MODELS.length + 1 }, 'models'],
    [{ days: 0 }, 'days'],
    [{ seed: -1 }, 'seed'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ end: new Date('nope') }, 'end'],
  ])('rejects %j naming the option', (patch, param) => {
    expect(() => checkSeedOptions({ ...small, ...patch })).toThrow(
      expect.objectContaining({ code: 'invalid_request', param }),
    );
  });

  it('marks every event as seeded: ids seed:<ULID>, every made-up name seed-…, all valid ids', () => {
    const all = rows({ ...small, events: 5000 });
    for (const r of all) {
      expect(r.id).toMatch(/^seed:[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      expect(matchesId(EVENT_ID, r.id)).toBe(true);
      for (const name of [r.tenant, r.project, r.feature, r.user_id]) {
        if (name === null || name === undefined) continue;
        expect(name).toMatch(/^seed-/);
        expect(matchesId(DIMENSION_ID, name), name).toBe(true);
      }
      if (r.key_id !== null && r.key_id !== undefined) {
        expect(r.key_id).toMatch(/^seed_/);
        expect(matchesId(KEY_ID, r.key_id), r.key_id).toBe(true);
      }
    }
    // The README's real tenant and project (`acme`, `search`) never appear unprefixed.
    expect(all.some((r) => r.tenant === 'seed-acme')).toBe(true);
    expect(all.some((r) => r.tenant === 'acme' || r.project === 'search' || r.feature === 'chat')).toBe(false);
  });

  it('Zipf puts the most weight on rank 0 and sums to one', () => {
    const zipf = new Zipf(200, 1.05);
    expect(zipf.share(0)).toBeGreaterThan(zipf.share(1));
    expect(Array.from({ length: 200 }, (_, k) => zipf.share(k)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const random = createRandom(1);
    const hits = Array.from({ length: 10_000 }, () => zipf.sample(random)).filter((k) => k === 0).length;
    expect(hits / 10_000).toBeGreaterThan(zipf.share(0) - 0.02);
    expect(hits / 10_000).toBeLessThan(zipf.share(0) + 0.02);
  });
});

const GROUPINGS: GroupKey[][] = [
  [],
  ['tenant'],
  ['model', 'day'],
  ['tenant', 'project', 'feature', 'key', 'user', 'provider', 'requested_model', 'hour'],
];

async function snapshot(store: LedgerStore): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const groupBy of GROUPINGS) {
    const query: CostQuery = { from: new Date(END.getTime() - 8 * 86_400_000), to: END, groupBy, filter: {} };
    const auto = await store.queryCosts(query);
    expect(auto).toEqual(await store.queryCosts(query, 'raw'));
    out.push(auto);
  }
  return out;
}

describe('seedLedger', () => {
  let dir: string;
  let cleanup: () => void;
  let sqliteTotals: unknown[];

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterAll(() => cleanup());

  it('loads the events into SQLite with rollups equal to raw sums; loading the same seed again adds nothing', async () => {
    const path = join(dir, 'seed.sqlite');
    const progress: number[] = [];
    const result = await seedLedger({
      ...small,
      book,
      target: { kind: 'sqlite', path },
      onProgress: (p) => progress.push(p.written),
    });
    expect(result).toMatchObject({ generated: 20_000, inserted: 20_000 });
    expect(progress).toEqual([3000, 6000, 9000, 12000, 15000, 18000, 20000]);
    const store = createSqliteStore({ path });
    try {
      sqliteTotals = await snapshot(store);
      expect((sqliteTotals[0] as Array<{ requests: number }>)[0]?.requests).toBe(20_000);
      const again = await seedLedger({ ...small, book, target: { kind: 'sqlite', path } });
      expect(again).toMatchObject({ generated: 20_000, inserted: 0 });
      expect(await snapshot(store)).toEqual(sqliteTotals);
    } finally {
      await store.close();
    }
  });

  it('refuses a ledger holding a real event, writing nothing, unless forced', async () => {
    const path = join(dir, 'live.sqlite');
    const live = createSqliteStore({ path });
    await live.migrate();
    try {
      await live.insertEvents([
        makeEvent({ id: '01JREAL0000000000000000000', time: new Date('2026-10-30T10:00:00Z') }),
      ]);
      const before = await snapshot(live);
      await expect(seedLedger({ ...small, book, target: { kind: 'sqlite', path } })).rejects.toMatchObject({
        code: 'invalid_request',
        param: '--force',
        message: expect.stringContaining('already holds real events'),
      });
      expect(await snapshot(live)).toEqual(before);
      const forced = await seedLedger({ ...small, events: 3000, book, target: { kind: 'sqlite', path }, force: true });
      expect(forced).toMatchObject({ generated: 3000, inserted: 3000 });
      // Still a ledger with a real event: the next load needs --force again.
      await expect(seedLedger({ ...small, events: 3000, book, target: { kind: 'sqlite', path } })).rejects.toThrow(
        /already holds real events/,
      );
    } finally {
      await live.close();
    }
  });

  it('a different seed gives different totals', async () => {
    const path = join(dir, 'other.sqlite');
    await seedLedger({ ...small, seed: 43, book, target: { kind: 'sqlite', path } });
    const store = createSqliteStore({ path });
    try {
      expect(await snapshot(store)).not.toEqual(sqliteTotals);
    } finally {
      await store.close();
    }
  });

  it('loads the same data into PostgreSQL through unnest() batches; loading again adds nothing', async (context) => {
    const skip = await postgresSkipReason();
    if (skip !== null) context.skip(skip);
    const { schema, drop } = await createTestSchema();
    const store = createPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const result = await seedLedger({ ...small, book, target: { kind: 'postgres', url: TEST_DATABASE_URL, schema } });
      expect(result).toMatchObject({ generated: 20_000, inserted: 20_000 });
      expect(await snapshot(store)).toEqual(sqliteTotals);
      const again = await seedLedger({ ...small, book, target: { kind: 'postgres', url: TEST_DATABASE_URL, schema } });
      expect(again).toMatchObject({ generated: 20_000, inserted: 0 });
      expect(await snapshot(store)).toEqual(sqliteTotals);
      await store.insertEvents([
        makeEvent({ id: '01JREAL0000000000000000000', time: new Date('2026-10-30T10:00:00Z') }),
      ]);
      const withReal = await snapshot(store);
      await expect(
        seedLedger({ ...small, book, target: { kind: 'postgres', url: TEST_DATABASE_URL, schema } }),
      ).rejects.toMatchObject({ param: '--force' });
      expect(await snapshot(store)).toEqual(withReal);
    } finally {
      await store.close();
      await drop();
    }
  });
});
