import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type BillingAccountConfig } from '../../config/index.js';
import type { LedgerStore } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { formatUsd } from '../../money.js';
import { fileSources, importBilling, textSource, type BillingFormat } from './index.js';
import { DAY1, DAY2, fixturePath, fixtureText } from './testing/fixtures.js';

const ACCOUNTS: readonly BillingAccountConfig[] = parseConfig({
  billing_accounts: [
    { provider: 'openai', project_id: 'proj_FixtureChat0000000000', tenant: 'acme', project: 'chat' },
    { provider: 'anthropic', workspace_id: null, tenant: 'acme', project: 'default' },
    { provider: 'aws', account_id: '111122223333', tenant: 'platform' },
  ],
}).billing_accounts;

const WEEK = { from: new Date(DAY1), to: new Date(DAY1 + 7 * 86_400_000) };

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `billing imports [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;
      let dir: string;

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
        dir = mkdtempSync(join(tmpdir(), 'pertoken-billing-'));
      });
      afterEach(async () => {
        await target.dispose();
        rmSync(dir, { recursive: true, force: true });
      });

      const run = (format: BillingFormat, paths: string[]) =>
        fileSources(paths, format, 'paths').then((sources) =>
          importBilling({ store, accounts: ACCOUNTS, format, sources }),
        );
      const usd = async (filter: { provider?: string; day?: number } = {}): Promise<string> => {
        const rows = await store.queryBillingRows({
          ...WEEK,
          ...(filter.provider ? { provider: filter.provider } : {}),
        });
        return formatUsd(
          rows
            .filter((r) => filter.day === undefined || r.start_ms === filter.day)
            .reduce((n, r) => n + (r.amount_nano ?? 0n), 0n),
        );
      };

      it('stores each fixture with the README totals; unmapped rows are kept with a null tenant and counted', async () => {
        const costs = await run('openai-costs', [fixturePath('openai-costs.json')]);
        expect(costs).toMatchObject({ rows: 14, imported: 14, replaced: 0, duplicates: 0, rejected: [] });
        expect(await usd({ provider: 'openai', day: DAY1 })).toBe('9.700000000');
        expect(await usd({ provider: 'openai', day: DAY2 })).toBe('7.255000000');
        const support = costs.rows - costs.unmapped;
        expect(costs.unmapped).toBeGreaterThan(0);
        const stored = await store.queryBillingRows({ ...WEEK, source: 'openai-costs' });
        expect(stored.filter((r) => r.tenant === 'acme' && r.project === 'chat')).toHaveLength(support);
        expect(
          stored.filter((r) => r.tenant === null).every((r) => r.account_id === 'proj_FixtureSupport0000000'),
        ).toBe(true);

        const cost = await run('anthropic-cost', [fixturePath('anthropic-cost-report.json')]);
        expect(cost.rejected).toEqual([]);
        expect(await usd({ provider: 'anthropic', day: DAY1 })).toBe('13.200000000');
        expect(await usd({ provider: 'anthropic', day: DAY2 })).toBe('6.715009840');
        const anthropic = await store.queryBillingRows({ ...WEEK, provider: 'anthropic' });
        expect(anthropic.filter((r) => r.account_id === 'wrkspc_default').every((r) => r.tenant === 'acme')).toBe(true);

        const focus = await run('focus', [fixturePath('focus-sample.csv')]);
        expect(focus).toMatchObject({ rows: 28, imported: 28, rejected: [] });
        const focusRows = await store.queryBillingRows({ ...WEEK, source: 'focus' });
        expect(formatUsd(focusRows.reduce((n, r) => n + (r.amount_nano ?? 0n), 0n))).toBe('958.790000000');
        expect(focusRows.filter((r) => r.provider === 'aws').every((r) => r.tenant === 'platform')).toBe(true);

        for (const [format, file] of [
          ['openai-usage', 'openai-usage-completions.json'],
          ['anthropic-usage', 'anthropic-usage-report.json'],
        ] as const) {
          const usage = await run(format, [fixturePath(file)]);
          expect(usage.rejected).toEqual([]);
          expect(usage.imported).toBe(usage.rows);
        }
      });

      it('pages split across two files (a directory) store what one file stores', async () => {
        const page = JSON.parse(fixtureText('openai-costs.json')) as { data: unknown[] };
        writeFileSync(
          join(dir, 'page-1.json'),
          JSON.stringify({
            ...page,
            data: [page.data[0]],
            has_more: true,
            next_page: 'page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=',
          }),
        );
        writeFileSync(join(dir, 'page-2.json'), JSON.stringify({ ...page, data: [page.data[1]] }));
        writeFileSync(join(dir, 'notes.txt'), 'not a page');
        const split = await run('openai-costs', [dir]);
        expect(split).toMatchObject({ rows: 14, imported: 14, rejected: [] });
        const once = await run('openai-costs', [fixturePath('openai-costs.json')]);
        // The raw text differs (numbers re-rendered by JSON.stringify: 3.0 -> 3) but not one value does.
        expect(once).toMatchObject({ rows: 14, imported: 0, replaced: 0, duplicates: 14 });
      });

      it('re-import changes nothing; a corrected re-export of one day replaces that day only', async () => {
        await run('anthropic-cost', [fixturePath('anthropic-cost-report.json')]);
        const again = await run('anthropic-cost', [fixturePath('anthropic-cost-report.json')]);
        expect(again).toMatchObject({ imported: 0, replaced: 0, duplicates: again.rows });
        const before = await store.queryBillingRows(WEEK);

        const report = JSON.parse(fixtureText('anthropic-cost-report.json')) as {
          data: { results: { amount: string }[] }[];
        };
        const day1 = report.data[0]!;
        day1.results[0]!.amount = '151.00';
        day1.results.splice(1, 1);
        const corrected = join(dir, 'day1.json');
        writeFileSync(corrected, JSON.stringify({ ...report, data: [day1] }));
        const result = await run('anthropic-cost', [corrected]);
        expect(result).toMatchObject({ imported: 1, replaced: 2, duplicates: day1.results.length - 1 });
        expect(await usd({ day: DAY1 })).toBe('10.960000000');
        expect(await usd({ day: DAY2 })).toBe('6.715009840');
        const after = await store.queryBillingRows(WEEK);
        expect(after.filter((r) => r.start_ms === DAY2)).toEqual(before.filter((r) => r.start_ms === DAY2));
      });

      it('a file with a malformed row is refused whole and listed; the other files are imported', async () => {
        const bad = join(dir, 'bad.json');
        writeFileSync(bad, fixtureText('openai-costs.json').replace('"value": 0.6,', '"value": 0.6.1,'));
        const text = fixtureText('openai-costs.json').replace(/"value": 0\.15,/, '"value": -,');
        const result = await importBilling({
          store,
          accounts: ACCOUNTS,
          format: 'openai-costs',
          sources: [textSource('body.json', text), textSource('good.json', fixtureText('openai-costs.json'))],
        });
        expect(result.rejected).toEqual([
          {
            file: 'body.json',
            at: '$',
            reason: expect.stringMatching(/invalid JSON at line \d+, column \d+/) as string,
          },
        ]);
        expect(result).toMatchObject({ rows: 14, imported: 14 });
        const missing = await importBilling({
          store,
          accounts: ACCOUNTS,
          format: 'anthropic-cost',
          sources: [
            textSource(
              'cost.json',
              fixtureText('anthropic-cost-report.json').replace('"amount": "150.00",', '"amount": 150.00,'),
            ),
          ],
        });
        expect(missing).toMatchObject({ rows: 0, imported: 0 });
        expect(missing.rejected).toEqual([
          {
            file: 'cost.json',
            at: '$.data[0].results[0].amount',
            reason: 'expected a decimal string of cents (e.g. "123.45")',
          },
        ]);
        expect(await store.queryBillingRows({ ...WEEK, provider: 'anthropic' })).toEqual([]);
      });
    },
  );
}
