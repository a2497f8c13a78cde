import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { createPriceBook, formatUsd, parseUsd } from '../pricing/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';
import { worstCaseCost } from './worst-case.js';

/**
 * Budgets through the real gateway, single process (memory counters): block, downgrade,
 * alert-only thresholds, status, and 1,000 concurrent requests against a $1.00 budget.
 */
let demo: DemoUpstream;
let gw: GovernedHarness;

beforeAll(async () => {
  // Every generation runs to its max_tokens: a request's actual cost is its worst case.
  demo = await startDemoUpstream({ ttftMs: 2, itlMs: 0, seed: 7, maxOutputTokens: 100_000 });
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url });
  // A budget names a tenant that exists (an unknown one is refused, see admin.test.ts).
  for (const id of ['blocked', 'dg', 'watch', 'ingested', 'thousand'])
    expect((await call(gw.url, 'POST', '/api/v1/admin/tenants', { id })).status).toBe(201);
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

const budget = (body: Record<string, unknown>) => call(gw.url, 'POST', '/api/v1/admin/budgets', body);
const tenantHeader = (tenant: string) => ({ 'x-pertoken-tenant': tenant });

async function ledgerSpend(tenant: string): Promise<bigint> {
  await gw.store.flush();
  const rows = await gw.store.queryCosts({
    from: new Date(0),
    to: new Date(Date.now() + 86_400_000),
    groupBy: [],
    filter: { tenant },
  });
  return rows.reduce((n, r) => n + r.cost_nano, 0n);
}

async function status(id: string): Promise<Record<string, unknown>> {
  const reply = await call(gw.url, 'GET', '/api/v1/budgets');
  return (reply.json.budgets as Array<Record<string, unknown>>).find((b) => b.id === id) as Record<string, unknown>;
}

describe('budgets', () => {
  it('blocks with 402 naming the budget once the worst case no longer fits', async () => {
    expect(
      (
        await budget({
          id: 'blocked-day',
          scope: { tenant: 'blocked' },
          period: 'day',
          tz: 'Europe/Berlin',
          limit_usd: '0.003',
        })
      ).status,
    ).toBe(201);
    let admitted = 0;
    let refusal: Awaited<ReturnType<typeof chat>> | null = null;
    for (let i = 0; i < 20 && refusal === null; i++) {
      const reply = await chat(gw.url, 'sk-x', 'gpt-4o', { max_tokens: 100 }, tenantHeader('blocked'));
      if (reply.status === 200) {
        admitted++;
        expect(reply.headers['x-pertoken-budget-remaining-usd']).toMatch(/^0\.00\d{7}$/);
      } else refusal = reply;
    }
    expect(admitted).toBe(2);
    expect(refusal?.status).toBe(402);
    expect(refusal?.json.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect((refusal?.json.error as { message: string }).message).toMatch(
      /^budget "blocked-day" is exhausted: \$0\.00\d+ spent and \$0\.000000000 reserved of its \$0\.003000000 limit this day \(Europe\/Berlin\)/,
    );
    expect(refusal?.headers['x-pertoken-budget-id']).toBe('blocked-day');
    expect(Number(refusal?.headers['retry-after'])).toBeGreaterThan(0);
    // Other tenants are not affected.
    expect((await chat(gw.url, 'sk-x', 'gpt-4o', { max_tokens: 100 }, tenantHeader('unrelated'))).status).toBe(200);

    const spent = await ledgerSpend('blocked');
    const s = await status('blocked-day');
    expect(s).toMatchObject({
      spent_usd: formatUsd(spent),
      reserved_usd: '0.000000000',
      remaining_usd: formatUsd(3_000_000n - spent),
      limit_usd: '0.003000000',
      source: 'counters',
      tenant: 'blocked',
    });
    expect(spent).toBeLessThanOrEqual(3_000_000n);
    const start = new Date(String(s.period_start));
    const end = new Date(String(s.period_end));
    expect(end.getTime() - start.getTime()).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(parseUsd(String(s.projected_usd))).toBeGreaterThanOrEqual(spent);
  });

  it('downgrades to the cheaper model and says so', async () => {
    await budget({
      id: 'dg-month',
      scope: { tenant: 'dg' },
      period: 'month',
      limit_usd: '0.000001',
      action: 'downgrade',
      downgrade_to: 'gpt-4o-mini',
    });
    const reply = await chat(gw.url, 'sk-x', 'gpt-4o', { max_tokens: 20 }, tenantHeader('dg'));
    expect(reply.status).toBe(200);
    expect(reply.headers['x-pertoken-downgraded-from']).toBe('gpt-4o');
    expect(reply.json.model).toBe('gpt-4o-mini-2024-07-18');
    await gw.store.flush();
    const event = await gw.store.getEvent(String(reply.headers['x-pertoken-request-id']));
    expect(event).toMatchObject({ requested_model: 'gpt-4o', model: 'gpt-4o-mini-2024-07-18', tenant: 'dg' });
    // A downgrade budget counts the downgraded spend but never blocks.
    expect((await chat(gw.url, 'sk-x', 'gpt-4o', { max_tokens: 20 }, tenantHeader('dg'))).status).toBe(200);
    expect((await status('dg-month')).spent_usd).toBe(formatUsd(await ledgerSpend('dg')));
  });

  it('raises each threshold alert once and keeps serving under alert_only', async () => {
    await budget({
      id: 'watch-total',
      scope: { tenant: 'watch' },
      period: 'total',
      limit_usd: '0.0005',
      action: 'alert_only',
      thresholds: [0.5, 1, 2],
    });
    for (let i = 0; i < 4; i++)
      expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', { max_tokens: 400 }, tenantHeader('watch'))).status).toBe(200);
    const spent = await ledgerSpend('watch');
    // 4 × (400 × $0.60/1M + prompt) > $0.00096 = 192% of the limit: 0.5 and 1 crossed, 2 not.
    expect(spent).toBeGreaterThan(960_000n);
    expect(spent).toBeLessThan(1_000_000n);
    const s = await status('watch-total');
    expect(s).toMatchObject({
      period_start: null,
      period_end: null,
      projected_usd: null,
      spent_usd: formatUsd(spent),
      remaining_usd: '0.000000000',
    });
    expect((s.alerts as Array<{ threshold: number }>).map((a) => a.threshold)).toEqual([0.5, 1]);
    const alerts = await call(gw.url, 'GET', '/api/v1/admin/alerts');
    const mine = (alerts.json.alerts as Array<{ budget_id: string; threshold: number; limit_usd: string }>).filter(
      (a) => a.budget_id === 'watch-total',
    );
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({ threshold: 0.5, limit_usd: '0.000500000' });
  });

  it('counts events ingested through the API', async () => {
    await budget({
      id: 'ingest-total',
      scope: { tenant: 'ingested' },
      period: 'total',
      limit_usd: '1',
      thresholds: [0.5],
    });
    const events = [1, 2].map((n) => ({
      id: `ing-${n}`,
      time: new Date().toISOString(),
      source: 'batch',
      tenant: 'ingested',
      provider: 'openai',
      model: 'gpt-4o',
      tokens: { input: 10 },
      cost_usd: '0.25',
    }));
    expect((await call(gw.url, 'POST', '/v1/usage/events', events)).json.accepted).toEqual(['ing-1', 'ing-2']);
    // A re-sent event is a duplicate in the ledger and is not counted twice.
    await call(gw.url, 'POST', '/v1/usage/events', events.slice(0, 1));
    const s = await status('ingest-total');
    expect(s.spent_usd).toBe('0.500000000');
    expect(s.alerts).toEqual([expect.objectContaining({ threshold: 0.5, spent_usd: '0.500000000' })]);
    const reply = await chat(gw.url, 'sk-x', 'gpt-4o', { max_tokens: 100 }, tenantHeader('ingested'));
    expect(reply.headers['x-pertoken-budget-remaining-usd']).toMatch(/^0\.49/);
  });

  it('holds 1,000 concurrent requests to $1.00 plus at most one request', async () => {
    await budget({ id: 'thousand', scope: { tenant: 'thousand' }, period: 'month', limit_usd: '1.00' });
    const agent = new Agent({ connections: 1000, pipelining: 1 });
    const body = JSON.stringify({
      model: 'gpt-4o',
      max_tokens: 400,
      messages: [{ role: 'user', content: 'Write about budgets' }],
    });
    const results = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const res = await request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            'x-pertoken-tenant': 'thousand',
            authorization: 'Bearer sk-x',
          },
          body,
        });
        const json = (await res.body.json()) as { error?: { message: string; code: string } };
        return { status: res.statusCode, error: json.error ?? null };
      }),
    );
    await agent.close();
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 402);
    expect(ok + refused.length).toBe(1000);
    for (const r of refused) expect(r.error?.message).toMatch(/^budget "thousand" is exhausted/);

    const maxCost = worstCaseCost(createPriceBook(), {
      provider: 'openai',
      model: 'gpt-4o',
      at: new Date(),
      inputTokens: 64,
      outputTokens: 400,
      hasNonTextInput: false,
    }) as bigint;
    const spent = await ledgerSpend('thousand');
    expect(spent).toBeLessThanOrEqual(1_000_000_000n + maxCost);
    // Every request cost its worst case: the budget was used up, not left idle.
    expect(spent).toBeGreaterThan(1_000_000_000n - 2n * maxCost);
    expect(ok).toBeGreaterThan(200);
    const s = await status('thousand');
    expect(s).toMatchObject({ spent_usd: formatUsd(spent), reserved_usd: '0.000000000' });
  });
});
