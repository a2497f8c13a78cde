import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { createCounters } from '../counters/index.js';
import { createPriceBook } from '../pricing/index.js';
import { presentedKey } from './identity.js';
import { openGovernanceStore } from './open.js';
import { Governance } from './service.js';

/** GitOps: tenants, keys and budgets declared in pertoken.yaml, synced through the audited path. */
const dir = mkdtempSync(join(tmpdir(), 'pertoken-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CI_KEY = 'pt-ci_bot-' + 'c'.repeat(43);
const base = {
  tenants: [
    {
      id: 'acme',
      name: 'Acme',
      rpm: 100,
      model_limits: [{ model: 'gpt-4o*', tpm: 20_000 }],
      projects: [{ id: 'search', tpm: 50_000 }],
    },
  ],
  keys: [
    {
      id: 'ci_bot',
      tenant: 'acme',
      project: 'search',
      scopes: ['chat', 'read'],
      model_limits: [{ model: 'o1*', rpm: 2 }],
      key: '${CI_KEY}',
    },
  ],
  budgets: [
    {
      id: 'acme-month',
      scope: { tenant: 'acme' },
      period: 'month',
      tz: 'Europe/Berlin',
      limit_usd: 250,
      fail_mode: 'closed',
    },
  ],
};

async function boot(config: Config) {
  const store = openGovernanceStore({ sqlitePath: join(dir, 'gov.sqlite') });
  await store.migrate();
  const counters = createCounters();
  const governance = new Governance({
    config,
    store,
    counters,
    priceBook: createPriceBook(),
    ledgerCosts: async () => [],
    log: pino({ level: 'silent' }),
  });
  await governance.start();
  return {
    store,
    governance,
    async close() {
      await governance.close();
      await counters.close();
      await store.close();
    },
  };
}

describe('config sync', () => {
  it('writes what config declares, audited as `config`, and only what changed on the next start', async () => {
    const first = await boot(parseConfig(base, { CI_KEY }));
    const identity = await first.governance.authenticate({ authorization: `Bearer ${CI_KEY}` });
    expect(identity).toMatchObject({ key_id: 'ci_bot', tenant: 'acme', project: 'search' });
    expect(presentedKey({ authorization: `Bearer ${CI_KEY}` })).toBe(CI_KEY);
    expect((await first.store.getBudget('acme-month'))?.limit_nano).toBe(250_000_000_000n);
    expect((await first.store.getProject('search'))?.tpm).toBe(50_000);
    expect((await first.store.getTenant('acme'))?.model_limits).toEqual([{ model: 'gpt-4o*', rpm: null, tpm: 20_000 }]);
    expect((await first.store.getKey('ci_bot'))?.model_limits).toEqual([{ model: 'o1*', rpm: 2, tpm: null }]);
    const actions = (await first.store.listAudit({ limit: 100 })).map((a) => `${a.actor} ${a.action} ${a.target_id}`);
    expect(actions).toEqual([
      'config tenant.create acme',
      'config project.create search',
      'config key.create ci_bot',
      'config budget.create acme-month',
    ]);
    await first.close();

    // Same config again: nothing to write, nothing audited.
    const second = await boot(parseConfig(base, { CI_KEY }));
    expect(await second.store.listAudit({ limit: 100 })).toHaveLength(4);
    // The admin revokes the key in an emergency; config still declares it.
    await second.governance.admin.revokeKey('ci_bot', { name: 'admin', remote: null });
    await second.close();

    // Next start: the budget changed, the key was removed from config.
    const third = await boot(
      parseConfig({ ...base, keys: [], budgets: [{ ...base.budgets[0], limit_usd: '300' }] }, { CI_KEY }),
    );
    expect((await third.store.getBudget('acme-month'))?.limit_nano).toBe(300_000_000_000n);
    const later = (await third.store.listAudit({ limit: 100 }))
      .slice(4)
      .map((a) => `${a.actor} ${a.action} ${a.target_id}`);
    expect(later).toEqual(['admin key.revoke ci_bot', 'config budget.update acme-month']);
    await expect(third.governance.authenticate({ authorization: `Bearer ${CI_KEY}` })).rejects.toThrow(
      'virtual key ci_bot was revoked',
    );
    await third.close();

    // Removed from config: a config budget is deleted.
    const fourth = await boot(parseConfig({ ...base, keys: [], budgets: [] }, { CI_KEY }));
    expect(await fourth.store.getBudget('acme-month')).toBeNull();
    await fourth.close();
  });

  it('refuses config that points at undeclared tenants or projects, naming the field', () => {
    expect(() => parseConfig({ ...base, keys: [{ ...base.keys[0], tenant: 'ghost' }] }, { CI_KEY })).toThrow(
      expect.objectContaining({ param: 'keys[0].tenant' }),
    );
    expect(() => parseConfig({ ...base, keys: [{ ...base.keys[0], project: 'ghost' }] }, { CI_KEY })).toThrow(
      expect.objectContaining({ param: 'keys[0].project' }),
    );
    expect(() => parseConfig({ ...base, keys: [{ ...base.keys[0], key: 'pt-other-' + 'x'.repeat(43) }] })).toThrow(
      expect.objectContaining({ param: 'keys[0].key' }),
    );
    expect(() => parseConfig({ ...base, budgets: [base.budgets[0], base.budgets[0]] }, { CI_KEY })).toThrow(
      expect.objectContaining({ param: 'budgets[1].id' }),
    );
    expect(() => parseConfig({ routing: { aliases: { fast: 'smart', smart: 'gpt-4o' } } })).toThrow(
      expect.objectContaining({ param: 'routing.aliases.fast' }),
    );
    expect(() =>
      parseConfig({ budgets: [{ id: 'x', scope: { tenant: 'a' }, period: 'day', limit_usd: 1e-10 }] }),
    ).toThrow(expect.objectContaining({ param: 'budgets[0].limit_usd' }));
    // A budget names a declared tenant and project, as a key does.
    expect(() =>
      parseConfig({ ...base, budgets: [{ ...base.budgets[0], scope: { tenant: 'ghost' } }] }, { CI_KEY }),
    ).toThrow(expect.objectContaining({ param: 'budgets[0].scope.tenant', message: expect.stringMatching(/ghost/) }));
    expect(() =>
      parseConfig({ ...base, budgets: [{ ...base.budgets[0], scope: { project: 'ghost' } }] }, { CI_KEY }),
    ).toThrow(expect.objectContaining({ param: 'budgets[0].scope.project' }));
  });
});
