import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { formatUsd } from '../pricing/index.js';
import { startHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';

/** Single process, memory counters: after a restart the ledger is the truth the counters start from. */
let demo: DemoUpstream;
let dir: string;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 41, maxOutputTokens: 100_000 });
  dir = mkdtempSync(join(tmpdir(), 'pertoken-restart-'));
});
afterAll(async () => {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('budgets across a restart', () => {
  it('seeds the in-memory counters from the ledger, so a spent budget stays spent', async () => {
    const options = {
      governance: true as const,
      adminToken: ADMIN,
      upstream: demo.url,
      dataDir: dir,
      governanceDb: join(dir, 'governance.sqlite'),
    };
    const first = await startHarness(options);
    await call(first.url, 'POST', '/api/v1/admin/tenants', { id: 'r' });
    await call(first.url, 'POST', '/api/v1/admin/budgets', {
      id: 'r-day',
      scope: { tenant: 'r' },
      period: 'day',
      limit_usd: '0.0025',
    });
    const headers = { 'x-pertoken-tenant': 'r' };
    expect((await chat(first.url, 'sk', 'gpt-4o', { max_tokens: 100 }, headers)).status).toBe(200);
    expect((await chat(first.url, 'sk', 'gpt-4o', { max_tokens: 100 }, headers)).status).toBe(200);
    await first.store.flush();
    const rows = await first.store.queryCosts({
      from: new Date(0),
      to: new Date(Date.now() + 86_400_000),
      groupBy: [],
      filter: { tenant: 'r' },
    });
    const spent = rows.reduce((n, row) => n + row.cost_nano, 0n);
    await first.close();

    const second = await startHarness(options);
    try {
      const status = await call(second.url, 'GET', '/api/v1/budgets');
      expect((status.json.budgets as Array<Record<string, unknown>>)[0]).toMatchObject({
        id: 'r-day',
        spent_usd: formatUsd(spent),
        reserved_usd: '0.000000000',
      });
      const refused = await chat(second.url, 'sk', 'gpt-4o', { max_tokens: 100 }, headers);
      expect(refused.status).toBe(402);
      expect((refused.json.error as { message: string }).message).toContain(`$${formatUsd(spent)} spent`);
    } finally {
      await second.close();
    }
  });
});
