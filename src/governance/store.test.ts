import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSchemaName } from '../testing/global-setup.js';
import { canReach } from '../testing/net.js';
import { hashSecret } from './keys.js';
import { definitionToBudget } from './rows.js';
import { openGovernanceStore, type GovernanceStoreOptions } from './open.js';
import type { GovernanceStore } from './store.js';
import type { KeyRecord } from './types.js';

/** The governance store on both dialects: SQLite (embedded) and PostgreSQL (shared by replicas). */
const PG_URL = process.env.PERTOKEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const pgUp = await canReach(PG_URL, 1000);
if (!pgUp && process.env.CI === 'true')
  throw new Error(`PostgreSQL is required under CI and is not reachable at ${PG_URL}`);
if (!pgUp) console.warn(`SKIPPED: governance store on PostgreSQL needs ${PG_URL}`);

const dir = mkdtempSync(join(tmpdir(), 'pertoken-govstore-'));
const schema = testSchemaName('pertoken_gov_test');
// The PostgreSQL schema is dropped by the run's global teardown.
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dialects: Array<[string, boolean, () => GovernanceStoreOptions]> = [
  ['sqlite', true, () => ({ sqlitePath: join(dir, 'gov.sqlite') })],
  ['postgres', pgUp, () => ({ postgresUrl: PG_URL, schema })],
];

describe.each(dialects)('governance store on %s', (_name, runnable, options) => {
  it.skipIf(!runnable)('round-trips tenants, keys and budgets, appends audit, records an alert once', async () => {
    const store: GovernanceStore = openGovernanceStore(options());
    try {
      await store.migrate();
      await store.migrate();
      const t0 = new Date('2026-05-01T10:00:00.000Z');
      await store.putTenant({
        id: 'acme',
        name: 'Acme',
        rpm: 10,
        tpm: null,
        model_limits: [{ model: 'gpt-4o*', rpm: 2, tpm: null }],
        metadata: { cost_center: '42' },
        origin: 'api',
        created_at: t0,
        updated_at: t0,
      });
      expect(await store.getTenant('acme')).toEqual({
        id: 'acme',
        name: 'Acme',
        rpm: 10,
        tpm: null,
        model_limits: [{ model: 'gpt-4o*', rpm: 2, tpm: null }],
        metadata: { cost_center: '42' },
        origin: 'api',
        created_at: t0,
        updated_at: t0,
      });

      const key: KeyRecord = {
        id: 'k_store',
        tenant: 'acme',
        project: null,
        name: 'n',
        scopes: ['chat', 'read'],
        models: ['gpt-*'],
        rpm: null,
        tpm: 1000,
        model_limits: [],
        metadata: {},
        origin: 'api',
        created_at: t0,
        expires_at: new Date('2027-01-01T00:00:00Z'),
        revoked_at: null,
        rotated_at: null,
        previous_valid_until: null,
        current: hashSecret('pt-k_store-secret'),
        previous: null,
      };
      await store.putKey(key);
      expect(await store.getKey('k_store')).toEqual(key);
      await store.putKey({ ...key, revoked_at: t0 });
      expect((await store.getKey('k_store'))?.revoked_at).toEqual(t0);
      expect(await store.keyCount()).toBe(1);

      const budget = definitionToBudget(
        {
          id: 'b1',
          scope: { tenant: 'acme' },
          period: 'month',
          tz: 'UTC',
          limit_usd: '12.5',
          action: 'block',
          downgrade_at: 1,
          thresholds: [1, 0.5],
          fail_mode: 'closed',
        },
        'api',
        t0,
        t0,
      );
      await store.putBudget(budget);
      expect(await store.getBudget('b1')).toEqual({ ...budget, thresholds: [0.5, 1], limit_nano: 12_500_000_000n });

      await store.transaction(async (repo) => {
        await repo.appendAudit({
          time: t0,
          actor: 'admin',
          action: 'tenant.create',
          target: 'tenant',
          target_id: 'acme',
          before: null,
          after: { id: 'acme' },
          remote: '127.0.0.1',
        });
        await repo.appendAudit({
          time: new Date(t0.getTime() + 1),
          actor: 'admin',
          action: 'tenant.update',
          target: 'tenant',
          target_id: 'acme',
          before: { id: 'acme' },
          after: { id: 'acme', rpm: 10 },
          remote: null,
        });
      });
      // A failed transaction leaves no audit entry behind.
      await expect(
        store.transaction(async (repo) => {
          await repo.appendAudit({
            time: t0,
            actor: 'admin',
            action: 'doomed',
            target: 'tenant',
            target_id: 'x',
            before: null,
            after: null,
            remote: null,
          });
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      const audit = await store.listAudit({ limit: 10 });
      expect(audit.map((a) => a.action)).toEqual(['tenant.create', 'tenant.update']);
      expect(audit[1]?.after).toEqual({ id: 'acme', rpm: 10 });
      expect(await store.listAudit({ limit: 10, from: new Date(t0.getTime() + 1) })).toHaveLength(1);

      const alert = {
        time: t0,
        budget_id: 'b1',
        period_start: t0,
        threshold: 0.8,
        spent_nano: 10_000_000_001n,
        limit_nano: 12_500_000_000n,
      };
      expect(await store.insertAlert(alert)).not.toBeNull();
      expect(await store.insertAlert(alert)).toBeNull();
      expect(
        await store.insertAlert({ ...alert, time: new Date(t0.getTime() + 1), period_start: null }),
      ).not.toBeNull();
      const alerts = await store.listAlerts({ budgetIds: ['b1'], limit: 10 });
      expect(alerts.map((a) => [a.threshold, a.spent_nano, a.period_start])).toEqual([
        [0.8, 10_000_000_001n, t0],
        [0.8, 10_000_000_001n, null],
      ]);
    } finally {
      await store.close();
    }
  });
});
