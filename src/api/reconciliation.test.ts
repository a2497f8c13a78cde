import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationJson } from '../attribution/reconcile/index.js';
import { bill, metered } from '../attribution/reconcile/testing/fixtures.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { call } from '../testing/http.js';
import { ADMIN } from '../testing/http.js';

let gw: GovernedHarness;
let acmeReader: string;
const WINDOW = 'from=2026-11-10&to=2026-11-11';

beforeAll(async () => {
  gw = await startHarness({ upstream: 'http://127.0.0.1:9', governance: true, adminToken: ADMIN });
  await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
  acmeReader = String(
    (await call(gw.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', name: 'finance', scopes: ['read'] })).json.key,
  );
  await gw.store.insertEvents([metered('acme'), metered('beta')]);
  await gw.store.importBillingRows({
    importId: 'i1',
    rows: [bill({ tenant: 'acme' }), bill({ tenant: 'beta', usd: '3' })],
  });
});
afterAll(async () => {
  await gw.close();
});

describe('GET /api/v1/reconciliation', () => {
  it("joins metered and billed per key and explains each row (DESIGN's shape)", async () => {
    const reply = await call(gw.url, 'GET', `/api/v1/reconciliation?${WINDOW}`);
    expect(reply.status).toBe(200);
    const r = reply.json as unknown as ReconciliationJson;
    expect(r).toMatchObject({ from: '2026-11-10T00:00:00.000Z', to: '2026-11-11T00:00:00.000Z', status: 'gaps' });
    expect(Object.keys(r.rows[0]!)).toEqual([
      'day',
      'provider',
      'tenant',
      'project',
      'model',
      'bucket',
      'metered_tokens',
      'billed_tokens',
      'metered_usd',
      'billed_usd',
      'delta_usd',
      'delta_pct',
      'explanation',
    ]);
    expect(r.rows.map((row) => [row.tenant, row.explanation.code])).toEqual([
      ['acme', 'match'],
      ['beta', 'price_mismatch'],
    ]);
    // A wider threshold turns beta's 20 % into a match.
    const wide = (await call(gw.url, 'GET', `/api/v1/reconciliation?${WINDOW}&threshold_pct=25`))
      .json as unknown as ReconciliationJson;
    expect(wide.status).toBe('ok');
  });

  it('a read key sees its own tenant only, and gets 403 for another', async () => {
    const own = await call(gw.url, 'GET', `/api/v1/reconciliation?${WINDOW}`, undefined, acmeReader);
    expect(own.status).toBe(200);
    expect((own.json as unknown as ReconciliationJson).rows.map((row) => row.tenant)).toEqual(['acme']);
    const other = await call(gw.url, 'GET', `/api/v1/reconciliation?${WINDOW}&tenant=beta`, undefined, acmeReader);
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ code: 'forbidden', param: 'tenant' });
    expect((await call(gw.url, 'GET', `/api/v1/reconciliation?${WINDOW}`, undefined, null)).status).toBe(401);
  });

  it('a bad threshold or window names its parameter', async () => {
    for (const [query, param] of [
      [`${WINDOW}&threshold_pct=abc`, 'threshold_pct'],
      [`${WINDOW}&threshold_pct=-1`, 'threshold_pct'],
      [`${WINDOW}&threshold_pct=101`, 'threshold_pct'],
      ['to=2026-11-11', 'from'],
      ['from=2026-11-10T12:00:00Z&to=2026-11-11', 'from'],
      ['from=2026-11-11&to=2026-11-10', 'from'],
    ]) {
      const reply = await call(gw.url, 'GET', `/api/v1/reconciliation?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.json.error, query).toMatchObject({ code: 'invalid_request', param });
    }
  });

  it('/summary gives metered vs billed per provider × month and the share explained', async () => {
    const reply = await call(gw.url, 'GET', `/api/v1/reconciliation/summary?${WINDOW}`);
    expect(reply.status).toBe(200);
    expect(reply.json.months).toEqual([
      {
        month: '2026-11',
        provider: 'openai',
        rows: 2,
        gaps: 1,
        unexplained: 0,
        metered_usd: '5.000000000',
        billed_usd: '5.500000000',
        delta_usd: '0.500000000',
        gap_usd: '0.500000000',
        explained_usd: '0.500000000',
        explained_pct: 100,
      },
    ]);
  });
});
