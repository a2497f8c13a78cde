import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { createCounters, type Counters } from '../counters/index.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import { createPriceBook, formatUsd } from '../pricing/index.js';
import type { AdmitRequest } from './gate.js';
import { openGovernanceStore } from './open.js';
import { Governance } from './service.js';
import type { GovernanceStore } from './store.js';
import { worstCaseCost } from './worst-case.js';

/** The admission logic on its own, with a clock the test moves (memory counters). */
let dir: string;
let store: GovernanceStore;
let counters: Counters;
let governance: Governance;
let clock = Date.parse('2026-11-23T12:00:00Z');
const book = createPriceBook();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-gate-'));
  store = openGovernanceStore({ sqlitePath: join(dir, 'gov.sqlite') });
  await store.migrate();
  counters = createCounters({ now: () => clock });
  const config = parseConfig({
    governance: { reservation_ttl_ms: 1000 },
    tenants: ['lease', 'soft', 'chain'].map((id) => ({ id })),
    budgets: [
      { id: 'lease-total', scope: { tenant: 'lease' }, period: 'total', limit_usd: '1' },
      {
        id: 'soft',
        scope: { tenant: 'soft' },
        period: 'total',
        limit_usd: '1',
        action: 'downgrade',
        downgrade_to: 'gpt-4o-mini',
        downgrade_at: 0.5,
      },
      { id: 'chain', scope: { tenant: 'chain' }, period: 'total', limit_usd: '1' },
    ],
  });
  governance = new Governance({
    config,
    store,
    counters,
    priceBook: book,
    ledgerCosts: async () => [],
    log: pino({ level: 'silent' }),
    now: () => new Date(clock),
  });
  await governance.start();
});
afterAll(async () => {
  await governance.close();
  await counters.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const attribution = (tenant: string): Attribution => ({
  tenant,
  project: null,
  user: null,
  feature: null,
  key_id: null,
  trace_id: null,
  tags: {},
});
const candidate = (model: string) => ({ model, upstream: 'oa', provider: 'openai' });
let n = 0;
function admitRequest(tenant: string, models: string[], maxOutputTokens = 1000): AdmitRequest {
  return {
    id: `req-${++n}`,
    route: 'openai.chat',
    identity: { key_id: null, tenant: null, project: null },
    attribution: attribution(tenant),
    chain: models.map(candidate),
    replan: (model) => [candidate(model)],
    promptText: '',
    pretokenizedInputTokens: 0,
    hasNonTextInput: false,
    maxOutputTokens,
    at: new Date(clock),
  };
}
const event = (cost: bigint): UsageEvent => ({ cost_nano: cost, buckets: { output: 10 } }) as unknown as UsageEvent;
async function budget(id: string): Promise<Record<string, unknown>> {
  return (await governance.budgets(null)).find((b) => b.id === id) as Record<string, unknown>;
}

describe('admission', () => {
  it('reclaims a reservation nobody settled once its lease expires, and still counts a late settle', async () => {
    const admission = await governance.admit(admitRequest('lease', ['gpt-4o']));
    // 1000 output tokens of gpt-4o at $10/1M.
    expect(await budget('lease-total')).toMatchObject({ reserved_usd: '0.010000000', spent_usd: '0.000000000' });
    clock += 1001;
    expect(await budget('lease-total')).toMatchObject({ reserved_usd: '0.000000000', spent_usd: '0.000000000' });
    await admission.settle([event(7_000_000n)]);
    expect(await budget('lease-total')).toMatchObject({ reserved_usd: '0.000000000', spent_usd: '0.007000000' });
  });

  it('releases everything when the request fails before costing anything', async () => {
    const admission = await governance.admit(admitRequest('lease', ['gpt-4o']));
    expect((await budget('lease-total')).reserved_usd).toBe('0.010000000');
    await admission.release();
    await admission.settle([event(5n)]);
    expect(await budget('lease-total')).toMatchObject({ reserved_usd: '0.000000000', spent_usd: '0.007000000' });
  });

  it('downgrades from downgrade_at of the limit, keeps counting, and never blocks', async () => {
    // $0.40 of worst case fits under 50% of $1; the next $0.40 would pass it.
    const first = await governance.admit(admitRequest('soft', ['gpt-4o'], 40_000));
    expect(first.downgradedFrom).toBeNull();
    await first.settle([event(400_000_000n)]);
    const second = await governance.admit(admitRequest('soft', ['gpt-4o'], 40_000));
    expect(second.downgradedFrom).toBe('gpt-4o');
    expect(second.chain.map((c) => c.model)).toEqual(['gpt-4o-mini']);
    expect(second.headers['x-pertoken-downgraded-from']).toBe('gpt-4o');
    await second.settle([event(900_000_000n)]);
    const third = await governance.admit(admitRequest('soft', ['gpt-4o'], 40_000));
    expect(third.downgradedFrom).toBe('gpt-4o');
    expect((await budget('soft')).spent_usd).toBe('1.300000000');
  });

  it('reserves the dearest model of a fallback chain', async () => {
    const admission = await governance.admit(admitRequest('chain', ['gpt-4o-mini', 'gpt-4o'], 1000));
    const dearest = worstCaseCost(book, {
      provider: 'openai',
      model: 'gpt-4o',
      at: new Date(clock),
      inputTokens: 0,
      outputTokens: 1000,
      hasNonTextInput: false,
    }) as bigint;
    expect((await budget('chain')).reserved_usd).toBe(formatUsd(dearest));
    expect(admission.headers['x-pertoken-budget-remaining-usd']).toBe(formatUsd(1_000_000_000n - dearest));
    await admission.release();
  });

  it('admits without touching counters when nothing applies', async () => {
    const before = counters.stats().calls;
    const admission = await governance.admit(admitRequest('nobody', ['gpt-4o']));
    expect(admission.headers).toEqual({});
    await admission.settle([event(1n)]);
    expect(counters.stats().calls).toBe(before);
  });
});
