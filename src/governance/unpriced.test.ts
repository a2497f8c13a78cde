import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { createPriceBook, parseUsd } from '../pricing/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';
import { ledgerUsage } from './budgets.js';
import { FallbackPrices } from './fallback.js';
import { periodBounds } from './period.js';

/**
 * The probe that found it, through the whole app: 40 requests for a model the price book cannot
 * price, under a $0.01 `block` budget. They all passed as $0; now they are reserved and charged
 * at the fallback price (the dearest OpenAI rates by default) until the budget is used up, and
 * under `unpriced_models: refuse` they are refused naming the model.
 */
let demo: DemoUpstream;
let reserve: GovernedHarness;
let refuse: GovernedHarness;

const budget = { id: 'penny', scope: { tenant: 'probe' }, period: 'month', limit_usd: '0.01' };
const config = (unpriced_models: string) => ({
  governance: { unpriced_models },
  tenants: [{ id: 'probe' }],
  budgets: [budget],
});
const probe = (url: string) =>
  chat(url, 'sk-x', 'mystery-model-9000', { max_tokens: 5 }, { 'x-pertoken-tenant': 'probe' });

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 40 });
  reserve = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url, config: config('reserve') });
  refuse = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url, config: config('refuse') });
});
afterAll(async () => {
  await reserve.close();
  await refuse.close();
  await demo.close();
});

describe('an unpriced model under a $0.01 block budget', () => {
  it('is charged at the fallback price and refused once the budget is used (reserve, the default)', async () => {
    const statuses: number[] = [];
    let refusal: Awaited<ReturnType<typeof probe>> | null = null;
    const served: string[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await probe(reserve.url);
      statuses.push(reply.status);
      if (reply.status === 200) {
        expect(reply.headers['x-pertoken-budget-price']).toBe('fallback');
        served.push(String(reply.headers['x-pertoken-request-id']));
      } else refusal ??= reply;
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(10);
    expect(statuses.slice(admitted).every((s) => s === 402)).toBe(true);
    expect(refusal?.json.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect((refusal?.json.error as { message: string }).message).toMatch(/^budget "penny" is exhausted/);

    // The ledger keeps them unpriced (never $0, never rewritten); the budget counted them.
    await reserve.store.flush();
    for (const id of served) expect(await reserve.store.getEvent(id)).toMatchObject({ cost_nano: null });
    const status = (await call(reserve.url, 'GET', '/api/v1/budgets')).json.budgets as Array<Record<string, string>>;
    const spent = parseUsd(status.find((b) => b.id === 'penny')?.spent_usd ?? '0');
    expect(spent).toBeGreaterThan(0n);
    expect(spent).toBeLessThanOrEqual(parseUsd('0.01'));
    // After a restart or a Redis flush the counter is seeded from the ledger: the unpriced usage is
    // charged at the same fallback price (per day rather than per event: a few nano-USD of rounding).
    const [penny] = await reserve.governance.budgetDefinitions();
    if (!penny) throw new Error('budget penny is declared in config');
    const seeded = await ledgerUsage(
      (q) => reserve.store.queryCosts(q),
      new FallbackPrices(createPriceBook(), undefined),
      penny,
      periodBounds(penny.period, penny.tz, new Date()),
    );
    expect(seeded.nano).toBeGreaterThan(spent - BigInt(2 * served.length));
    expect(seeded.nano).toBeLessThanOrEqual(spent);
  });

  it('is refused naming the model under `unpriced_models: refuse`', async () => {
    const reply = await probe(refuse.url);
    expect(reply.status).toBe(402);
    expect(reply.json.error).toMatchObject({ code: 'unpriced_model', param: 'model', type: 'insufficient_quota' });
    expect((reply.json.error as { message: string }).message).toMatch(/^model "mystery-model-9000" has no price/);
    // A priced model passes the same budget.
    const priced = await chat(refuse.url, 'sk-x', 'gpt-4o-mini', { max_tokens: 5 }, { 'x-pertoken-tenant': 'probe' });
    expect(priced.status).toBe(200);
  });
});
