import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, type CostQuery, type LedgerStore, type UsageEvent } from '../ledger/index.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { parseDecimalScaled, parseUsd } from '../money.js';
import { createPriceBook } from '../pricing/index.js';
import type { Buckets } from '../usage/index.js';
import type { Attribution } from './attribute.js';
import { focusCsv, focusRecords, UNALLOCATED_TENANT, type FocusDeps } from './focus.js';
import { FOCUS_COLUMNS, type FocusRecord } from './focus-columns.js';
import { AttributionService } from './service.js';
import { buildStatement } from './statement.js';
import { focusViolations, parseCsv, parseReference, referenceTexts, reproduces } from './testing/focus.js';
import { attributionConfig } from './testing/usage.js';
import type { Window } from './window.js';

const book = createPriceBook();
const texts = referenceTexts();
const reference = parseReference(texts.copy);

/** Two days of October 2026; the pool is provisioned from the first. */
const WINDOW: Window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-03T00:00:00Z') };

const config = attributionConfig({
  gpu_pools: [
    {
      name: 'h100-east',
      gpus: 8,
      rates: [{ from: '2026-10-01', usd_per_gpu_hour: 2.99 }],
      serves: ['acme-vllm'],
      capacity: { output_tokens_per_s: 12000 },
      output_weight: 4,
      idle: 'weighted',
    },
  ],
  shared_costs: [
    // $310 a month is $20 over two days of October's 31.
    { name: 'observability', usd: 310, per: 'month', from: '2026-10-01', allocate: 'by_cost' },
    {
      name: 'onboarding',
      usd: '12.345678901',
      per: 'one_off',
      from: '2026-10-02',
      allocate: 'even',
      tenants: ['acme', 'beta'],
    },
  ],
});

interface Call {
  at: string;
  tenant: string;
  project?: string | null;
  provider: string;
  model: string;
  buckets: Buckets;
  /** Self-hosted events carry their own per-token price; others are priced by the book. */
  costNano?: bigint | null;
}

const GPT4O = 'gpt-4o-2024-08-06';
const SONNET = 'claude-sonnet-4-20250514';
const LLAMA = 'llama-3.1-8b';
/** acme-vllm's own per-token price: $0.20 / $0.80 per 1M. */
const llamaCost = (input: number, output: number): bigint => BigInt(input) * 200n + BigInt(output) * 800n;

const CALLS: Call[] = [
  {
    at: '2026-10-01T10:15:00Z',
    tenant: 'acme',
    project: 'search',
    provider: 'openai',
    model: GPT4O,
    buckets: { input: 1_000_000, output: 100_000 },
  },
  {
    at: '2026-10-01T10:45:00Z',
    tenant: 'acme',
    project: 'search',
    provider: 'openai',
    model: GPT4O,
    buckets: { input: 200_000, cache_read: 50_000, output: 30_000 },
  },
  {
    at: '2026-10-02T08:00:00Z',
    tenant: 'acme',
    project: 'search',
    provider: 'openai',
    model: GPT4O,
    buckets: { input: 10_007, output: 999 },
  },
  {
    at: '2026-10-01T23:59:00Z',
    tenant: 'beta',
    project: 'support',
    provider: 'anthropic',
    model: SONNET,
    buckets: { input: 500_000, cache_read: 2_000_000, cache_write_5m: 200_000, output: 100_000 },
  },
  {
    at: '2026-10-02T12:00:00Z',
    tenant: 'beta',
    project: null,
    provider: 'openai',
    model: 'gpt-4o-mini-2024-07-18',
    buckets: { input: 3, output: 7 },
  },
  // Reported with its own cost: the group's output no longer costs a whole number of nano-USD per token.
  {
    at: '2026-10-02T12:30:00Z',
    tenant: 'beta',
    project: null,
    provider: 'openai',
    model: 'gpt-4o-mini-2024-07-18',
    buckets: { input: 3, output: 7 },
    costNano: 4651n,
  },
  {
    at: '2026-10-02T13:00:00Z',
    tenant: 'gamma',
    provider: 'openai',
    model: 'no-such-model',
    buckets: { input: 1000 },
    costNano: null,
  },
  {
    at: '2026-10-01T03:00:00Z',
    tenant: 'acme',
    project: 'search',
    provider: 'acme-vllm',
    model: LLAMA,
    buckets: { input: 20_000_000, output: 10_000_000 },
    costNano: llamaCost(20_000_000, 10_000_000),
  },
  {
    at: '2026-10-02T09:00:00Z',
    tenant: 'beta',
    project: 'support',
    provider: 'acme-vllm',
    model: LLAMA,
    buckets: { input: 10_000_000, output: 5_000_000 },
    costNano: llamaCost(10_000_000, 5_000_000),
  },
];

function event(call: Call): UsageEvent {
  const time = new Date(call.at);
  const cost =
    call.costNano !== undefined
      ? call.costNano
      : book.price({ provider: call.provider, model: call.model, at: time, buckets: call.buckets }).cost_nano;
  return makeEvent({
    time,
    tenant: call.tenant,
    project: call.project ?? null,
    provider: call.provider,
    requested_model: call.model,
    model: call.model,
    buckets: call.buckets,
    cost_nano: cost,
    price_ref: cost === null ? null : 'test',
  });
}

let store: LedgerStore;
const queries: CostQuery[] = [];

beforeAll(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  await store.insertEvents(CALLS.map(event));
  const adjust = (id: string, at: string, tenant: string, provider: string, model: string, usd: string) =>
    store.addAdjustment({
      id,
      time: new Date(at),
      tenant,
      project: tenant === 'acme' ? 'search' : 'support',
      provider,
      model,
      amount_nano: parseUsd(usd),
      reason: 'test',
    });
  await adjust('credit-1', '2026-10-02T08:30:00Z', 'acme', 'openai', GPT4O, '-1.5');
  await adjust('charge-1', '2026-10-01T23:10:00Z', 'beta', 'anthropic', SONNET, '0.25');
  await adjust('credit-2', '2026-10-01T03:20:00Z', 'acme', 'acme-vllm', LLAMA, '-0.1');
});

afterAll(async () => {
  await store.close();
});

function service(): AttributionService {
  return new AttributionService({
    store,
    priceBook: book,
    pools: config.gpu_pools,
    sharedCosts: config.shared_costs,
    plans: [],
  });
}

async function exportWindow(window: Window): Promise<{ records: FocusRecord[]; attribution: Attribution }> {
  const s = service();
  const attribution = await s.attribute(window);
  const deps: FocusDeps = {
    store: { queryCosts: (q) => (queries.push(q), store.queryCosts(q)) },
    priceBook: book,
    attribution,
    pools: s.pools,
    organization: 'Acme Corp',
    sharedCosts: config.shared_costs,
  };
  const records: FocusRecord[] = [];
  for await (const r of focusRecords(window, deps)) records.push(r);
  return { records, attribution };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

const nano = (usd: string | null): bigint => parseDecimalScaled(usd ?? '', 9, 'usd');
const billed = (records: readonly FocusRecord[]): bigint => records.reduce((sum, r) => sum + nano(r.BilledCost), 0n);

describe('the column list against the FOCUS 1.2 reference text', () => {
  it('reads the committed copy, which matches the original when it is there', () => {
    if (texts.original !== null) expect(texts.copy).toBe(texts.original);
    expect(reference.columns.size).toBe(57);
    expect(reference.parents.size).toBe(82);
    expect(reference.columns.get('ServiceCategory')?.allowed).toHaveLength(19);
  });

  it('has every Mandatory column, each as the spec types it, FOCUS columns first then x_ ones', () => {
    const names = FOCUS_COLUMNS.map((c) => c.name);
    const mandatory = [...reference.columns.values()].filter((c) => c.level === 'Mandatory').map((c) => c.name);
    expect(mandatory).toHaveLength(21);
    for (const name of mandatory) expect(names).toContain(name);
    const firstCustom = names.findIndex((n) => n.startsWith('x_'));
    const focus = names.slice(0, firstCustom);
    expect(names.slice(firstCustom).every((n) => n.startsWith('x_'))).toBe(true);
    expect(focus).toEqual([...focus].sort());
    for (const column of FOCUS_COLUMNS.slice(0, firstCustom)) {
      const spec = reference.columns.get(column.name);
      expect(spec, column.name).toBeDefined();
      expect([column.name, column.level, column.type, column.nullable]).toEqual([
        column.name,
        spec!.level,
        spec!.type,
        spec!.nullable,
      ]);
      if ('allowed' in column) expect(spec!.allowed, column.name).toEqual(column.allowed);
    }
    expect(names.every((n) => /^(x_)?[A-Za-z0-9]{1,50}$/.test(n))).toBe(true);
  });
});

describe('focusRecords over a ledger with a GPU pool (idle: weighted), shared costs and credits', () => {
  let records: FocusRecord[];
  let attribution: Attribution;
  beforeAll(async () => {
    queries.length = 0;
    ({ records, attribution } = await exportWindow(WINDOW));
  });

  it('breaks no FOCUS 1.2 rule, and neither does its CSV read back', async () => {
    expect(records.length).toBeGreaterThan(20);
    expect(focusViolations(records, reference)).toEqual([]);
    const rows = parseCsv(await text(focusCsv(records)));
    expect(rows[0]).toEqual(FOCUS_COLUMNS.map((c) => c.name));
    const back = rows.slice(1).map((row) => Object.fromEntries(FOCUS_COLUMNS.map((c, i) => [c.name, row[i] ?? null])));
    expect(back).toEqual(records);
  });

  it('sums BilledCost to vendor + pools + shared, which is Σ tenants + unallocated of the statement', async () => {
    const inputs = attribution.vendorNano + attribution.poolsNano + attribution.sharedNano;
    expect(billed(records)).toBe(inputs);
    const statement = buildStatement(await service().attribute(WINDOW), []);
    const tenants = statement.tenants.reduce((sum, t) => sum + parseUsd(t.cost_usd), 0n);
    const unallocated = parseUsd(statement.unallocated!.idle_usd) + parseUsd(statement.unallocated!.shared_usd);
    expect(tenants + unallocated).toBe(inputs);
    for (const t of statement.tenants) {
      expect(billed(records.filter((r) => r.SubAccountId === t.tenant)), t.tenant).toBe(parseUsd(t.cost_usd));
    }
    expect(attribution.poolsNano).toBe(1_148_160_000_000n); // 8 GPUs × 48 h × $2.99
    expect(attribution.sharedNano).toBe(20_000_000_000n + 12_345_678_901n);
  });

  it('writes each kind of row', () => {
    const kinds = new Set(records.map((r) => `${r.x_CostKind}/${r.ChargeCategory}/${r.ChargeFrequency}`));
    expect([...kinds].sort()).toEqual([
      'adjustment/Adjustment/One-Time',
      'adjustment/Credit/One-Time',
      'idle/Adjustment/Recurring',
      'pool_trueup/Adjustment/Usage-Based',
      'shared/Adjustment/One-Time',
      'shared/Adjustment/Recurring',
      'usage/Usage/Usage-Based',
    ]);
  });

  it('prices the hour group of gpt-4o exactly: one row per bucket at the price book’s unit price', () => {
    const hour = records.filter((r) => r.ChargePeriodStart === '2026-10-01T10:00:00Z' && r.x_CostKind === 'usage');
    expect(
      hour.map((r) => [r.x_TokenBucket, r.ConsumedQuantity, r.PricingQuantity, r.ListUnitPrice, r.BilledCost]),
    ).toEqual([
      ['input', '1200000.0', '1.2', '2.5', '3.0'],
      ['cache_read', '50000.0', '0.05', '1.25', '0.0625'],
      ['output', '130000.0', '0.13', '10.0', '1.3'],
    ]);
    expect(hour[0]).toMatchObject({
      BillingAccountId: 'Acme Corp',
      BillingPeriodStart: '2026-10-01T00:00:00Z',
      BillingPeriodEnd: '2026-11-01T00:00:00Z',
      ChargePeriodEnd: '2026-10-01T11:00:00Z',
      ChargeDescription: 'gpt-4o-2024-08-06 input tokens',
      ConsumedUnit: 'Tokens',
      PricingUnit: '1000000 Tokens',
      PricingCategory: 'Standard',
      ProviderName: 'OpenAI',
      PublisherName: 'OpenAI',
      InvoiceIssuerName: 'OpenAI',
      ServiceName: 'OpenAI API',
      ServiceCategory: 'AI and Machine Learning',
      ServiceSubcategory: 'Generative AI',
      SkuId: 'openai:gpt-4o-2024-08-06:input-tokens',
      SkuMeter: 'Input Tokens',
      SubAccountId: 'acme',
      Tags: '{"tenant":"acme","project":"search"}',
      x_Requests: '2',
      x_UnpricedRequests: '0',
    });
    expect(hour[1]?.x_Requests).toBeNull();
  });

  it('keeps uneven unit prices within half a unit of their 12th decimal, and counts every request once', () => {
    // 4650 + 4651 nano split 0.9 : 8.4 by price -> 900 + 8401; 8401 nano / 14 tokens is 0.6000714285714… per 1M.
    const mini = records.filter((r) => r.x_Model === 'gpt-4o-mini-2024-07-18');
    expect(mini.map((r) => [r.x_TokenBucket, r.BilledCost, r.PricingQuantity, r.ListUnitPrice, r.Tags])).toEqual([
      ['input', '0.0000009', '0.000006', '0.15', '{"tenant":"beta"}'],
      ['output', '0.000008401', '0.000014', '0.600071428571', '{"tenant":"beta"}'],
    ]);
    expect(reproduces('0.600071428571', '0.000014', '0.000008401')).toBe(true);
    expect(reproduces('0.600071428572', '0.000014', '0.000008401')).toBe(false);
    const odd = records.find((r) => r.ChargePeriodStart === '2026-10-02T08:00:00Z' && r.x_TokenBucket === 'input')!;
    expect(odd.PricingQuantity).toBe('0.010007');
    const requests = records.reduce((n, r) => n + Number(r.x_Requests ?? 0), 0);
    expect(requests).toBe(CALLS.length);
    const unpriced = records.find((r) => r.x_Model === 'no-such-model')!;
    expect(unpriced).toMatchObject({ BilledCost: '0.0', ListUnitPrice: '0.0', x_UnpricedRequests: '1' });
  });

  it('names the organisation for self-hosted rows and the pool, and books ledger credits as Credit', () => {
    const served = records.filter((r) => r.x_Provider === 'acme-vllm');
    expect(
      new Set(
        served.map((r) => [r.ProviderName, r.PublisherName, r.InvoiceIssuerName, r.ServiceName, r.x_Pool].join('|')),
      ),
    ).toEqual(new Set(['Acme Corp|Acme Corp|Acme Corp|Self-hosted inference|h100-east']));
    const credit = records.find((r) => r.ChargeCategory === 'Credit' && r.x_Provider === 'openai')!;
    expect(credit).toMatchObject({
      BilledCost: '-1.5',
      EffectiveCost: '-1.5',
      ChargePeriodStart: '2026-10-02T08:00:00Z',
      ConsumedQuantity: null,
      PricingQuantity: null,
      SkuId: null,
      SubAccountId: 'acme',
    });
    const trueups = records.filter((r) => r.x_CostKind === 'pool_trueup');
    expect(trueups.map((r) => r.SubAccountId)).toEqual(['acme', 'beta']);
    expect(trueups[0]).toMatchObject({
      ChargePeriodStart: '2026-10-01T00:00:00Z',
      ChargePeriodEnd: '2026-10-03T00:00:00Z',
      x_Pool: 'h100-east',
    });
    // Usage at the events' price + their adjustments + the true-up = the busy share the statement shows.
    const acme = attribution.tenants.get('acme')!;
    const acmeServed = records.filter(
      (r) => r.SubAccountId === 'acme' && r.x_Pool === 'h100-east' && r.x_CostKind !== 'idle',
    );
    expect(billed(acmeServed)).toBe(acme.selfhostedNano);
    const idle = records.filter((r) => r.x_CostKind === 'idle');
    expect(billed(idle)).toBe(attribution.pools[0]!.idleNano);
  });

  it('reads the ledger one UTC day at a time', () => {
    // One query lists the days that hold usage; then each of them is read.
    expect(queries[0]?.groupBy).toEqual(['day']);
    const reads = queries.slice(1);
    expect(reads.map((q) => [q.from.toISOString(), q.to.toISOString()])).toEqual([
      ['2026-10-01T00:00:00.000Z', '2026-10-02T00:00:00.000Z'],
      ['2026-10-02T00:00:00.000Z', '2026-10-03T00:00:00.000Z'],
    ]);
    expect(reads.every((q) => q.groupBy.join() === 'hour,tenant,project,provider,model')).toBe(true);
  });

  it('reads only the days that hold usage, so a long window is not a query a day', async () => {
    // Found by query.fuzz.test.ts: /api/v1/focus?from=0000-01-01&to=9999-12-31 ran ~740,000 queries
    // (90 s of CPU for one request, on an empty ledger).
    queries.length = 0;
    await exportWindow({ from: new Date('2016-01-01T00:00:00Z'), to: new Date('2026-10-03T00:00:00Z') });
    expect(queries.filter((q) => q.groupBy.join() !== 'day').map((q) => q.from.toISOString())).toEqual([
      '2026-10-01T00:00:00.000Z',
      '2026-10-02T00:00:00.000Z',
    ]);
  });
});

describe('focusViolations (the checker itself)', () => {
  it('catches each kind of broken value', async () => {
    const { records } = await exportWindow(WINDOW);
    const usage = records.find((r) => r.x_CostKind === 'usage')!;
    const broken: FocusRecord = {
      ...usage,
      BilledCost: '3',
      ChargePeriodStart: '2026-10-01T03:00:00.000Z',
      ChargeCategory: 'Refund',
      ServiceSubcategory: 'Bots',
      ServiceCategory: 'Compute',
      PricingUnit: '1M Tokens',
      Tags: '{"tenant":{"id":"acme"}}',
      BillingCurrency: null,
      SkuMeter: null,
      ListUnitPrice: '0.5',
    };
    const found = focusViolations([broken], reference).map((v) => v.split(':')[0]);
    expect(found).toEqual(
      expect.arrayContaining([
        'row 0 BilledCost',
        'row 0 ChargePeriodStart',
        'row 0 ChargeCategory',
        'row 0 ServiceSubcategory',
        'row 0 PricingUnit',
        'row 0 Tags',
        'row 0 BillingCurrency',
        'row 0 SkuMeter',
        'row 0 ListUnitPrice',
      ]),
    );
  });
});

describe('windows', () => {
  it('writes cost no tenant carries as unallocated rows over the window', async () => {
    // A day nobody used: the pool idles with no user to weigh by, and nobody carries the share.
    const window: Window = { from: new Date('2026-10-05T00:00:00Z'), to: new Date('2026-10-06T00:00:00Z') };
    const { records, attribution } = await exportWindow(window);
    expect(focusViolations(records, reference)).toEqual([]);
    expect(
      records.map((r) => [r.x_CostKind, r.SubAccountId, r.Tags, r.ServiceName, r.ChargePeriodStart, r.ChargePeriodEnd]),
    ).toEqual([
      [
        'idle',
        null,
        `{"tenant":"${UNALLOCATED_TENANT}"}`,
        'Self-hosted inference',
        '2026-10-05T00:00:00Z',
        '2026-10-06T00:00:00Z',
      ],
      [
        'shared',
        null,
        `{"tenant":"${UNALLOCATED_TENANT}"}`,
        'Shared costs',
        '2026-10-05T00:00:00Z',
        '2026-10-06T00:00:00Z',
      ],
    ]);
    expect(records[1]?.ServiceSubcategory).toBe('Other (AI and Machine Learning)');
    expect(billed(records)).toBe(attribution.vendorNano + attribution.poolsNano + attribution.sharedNano);
    expect(attribution.unallocatedIdleNano + attribution.unallocatedSharedNano).toBe(billed(records));
  });

  it('cuts the edge hours of a window that starts and ends inside an hour, and keeps the identity', async () => {
    const window: Window = { from: new Date('2026-10-01T10:30:00Z'), to: new Date('2026-10-02T08:30:00Z') };
    const { records, attribution } = await exportWindow(window);
    expect(focusViolations(records, reference)).toEqual([]);
    expect(records[0]).toMatchObject({
      ChargePeriodStart: '2026-10-01T10:30:00Z',
      ChargePeriodEnd: '2026-10-01T11:00:00Z',
    });
    const last = records.filter((r) => r.x_CostKind === 'usage').at(-1)!;
    expect([last.ChargePeriodStart, last.ChargePeriodEnd]).toEqual(['2026-10-02T08:00:00Z', '2026-10-02T08:30:00Z']);
    expect(records.some((r) => r.ChargeCategory === 'Credit' && r.x_Provider === 'openai')).toBe(false);
    expect(billed(records)).toBe(attribution.vendorNano + attribution.poolsNano + attribution.sharedNano);
  });

  it('refuses an empty window and an attribution of another window before reading anything', async () => {
    const attribution = await service().attribute(WINDOW);
    const deps: FocusDeps = { store, priceBook: book, attribution, pools: [] };
    expect(() => focusRecords({ from: WINDOW.to, to: WINDOW.from }, deps)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'to' }),
    );
    expect(() => focusRecords({ from: WINDOW.from, to: new Date('2026-10-02T00:00:00Z') }, deps)).toThrow(
      expect.objectContaining({ code: 'internal' }),
    );
    expect(() => focusRecords({ from: new Date('nope'), to: WINDOW.to }, deps)).toThrow(
      expect.objectContaining({ param: 'from' }),
    );
  });
});

describe('focusCsv', () => {
  const record = (i: number): FocusRecord => {
    const r = Object.fromEntries(FOCUS_COLUMNS.map((c) => [c.name, null])) as Record<string, string | null>;
    r.BilledCost = `${i}.0`;
    r.ChargeDescription = i === 0 ? 'a "quoted", comma\nand newline' : null;
    return r as FocusRecord;
  };

  it('streams the header and then batches of rows, quoting as RFC 4180 and leaving NULL empty', async () => {
    const chunks: string[] = [];
    for await (const c of focusCsv(Array.from({ length: 1001 }, (_, i) => record(i)))) chunks.push(c);
    expect(chunks.map((c) => parseCsv(c).length)).toEqual([501, 500, 1]);
    const rows = parseCsv(chunks.join(''));
    const description = FOCUS_COLUMNS.findIndex((c) => c.name === 'ChargeDescription');
    expect(rows[1]?.[description]).toBe('a "quoted", comma\nand newline');
    expect(chunks[0]).toContain('"a ""quoted"", comma\nand newline"');
    expect(rows[2]?.[description]).toBeNull();
    expect(rows.slice(1).every((r) => r.length === FOCUS_COLUMNS.length)).toBe(true);
  });

  it('writes the header alone for an empty export', async () => {
    expect(await text(focusCsv([]))).toBe(`${FOCUS_COLUMNS.map((c) => c.name).join(',')}\n`);
  });
});
