import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/index.js';
import { createSqliteStore, type LedgerStore } from '../../ledger/index.js';
import { createPriceBook } from '../../pricing/index.js';
import { bill, DAY, metered } from '../reconcile/testing/fixtures.js';
import type { ReconciliationJson } from '../reconcile/index.js';
import type { PullSummary } from './pull.js';
import { startBillingSchedule } from './schedule.js';

let dir: string;
let store: LedgerStore;
const accounts = configSchema.parse({
  billing_accounts: [
    { provider: 'openai', project_id: 'proj_a', tenant: 'acme', project: 'p', admin_key: 'sk-admin-x' },
  ],
}).billing_accounts;
/** What a pull of the test day reports (the pull itself is pull.test.ts's subject). */
const pulledDay = async (): Promise<PullSummary> => ({
  reports: [
    {
      account: 'openai/proj_a',
      format: 'openai-costs',
      from: DAY,
      to: '2026-11-11',
      pages: 1,
      retries: 0,
      import: null,
    },
  ],
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-schedule-'));
  store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await store.migrate();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the daily billing pull of serve', () => {
  it('does not start without an admin key', () => {
    const plain = configSchema.parse({
      billing_accounts: [{ provider: 'openai', project_id: 'proj_a', tenant: 'acme' }],
    });
    const schedule = startBillingSchedule({
      store,
      priceBook: createPriceBook(),
      accounts: plain.billing_accounts,
      dataDir: dir,
    });
    expect(schedule).toBeNull();
  });

  it('pulls, reconciles the days pulled, and reports an unexplained gap as drift', async () => {
    // Billed half the tokens the gateway metered, at the same price: nothing explains that.
    await store.insertEvents([metered('acme', { id: 'm1', usd: '2.5' })]);
    await store.importBillingRows({ importId: 'i1', rows: [bill({ quantity: 500_000n, usd: '1.25' })] });
    const runs: Array<ReconciliationJson | null> = [];
    const drifts: ReconciliationJson[] = [];
    const errors: unknown[] = [];
    const schedule = startBillingSchedule({
      store,
      priceBook: createPriceBook(),
      accounts,
      dataDir: dir,
      firstRunMs: 3_600_000,
      pull: pulledDay,
      onRun: (_pulled, reconciled) => runs.push(reconciled),
      onDrift: (r) => drifts.push(r),
      onError: (err) => errors.push(err),
    })!;
    await schedule.runNow();
    await schedule.stop();
    expect(errors).toEqual([]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ from: '2026-11-10T00:00:00.000Z', to: '2026-11-11T00:00:00.000Z', status: 'gaps' });
    expect(drifts).toHaveLength(1);
    expect(drifts[0]!.rows.some((r) => r.explanation.code === 'unexplained')).toBe(true);
  });

  it('reports a failed pull to onError and keeps the server up; a stopped schedule runs nothing', async () => {
    const errors: unknown[] = [];
    const schedule = startBillingSchedule({
      store,
      priceBook: createPriceBook(),
      accounts,
      dataDir: dir,
      firstRunMs: 3_600_000,
      pull: async () => {
        throw new Error('provider down');
      },
      onError: (err) => errors.push(err),
    })!;
    await schedule.runNow();
    expect(errors).toHaveLength(1);
    await schedule.stop();
    await schedule.runNow();
    expect(errors).toHaveLength(1);
  });
});
