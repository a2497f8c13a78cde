import { Command, Option } from 'commander';
import { PertokenError } from '../errors.js';
import { renderTable } from '../output.js';
import {
  adminClient,
  cell,
  listFlag,
  rangeQuery,
  withAdminFlags,
  withRangeFlags,
  type AdminFlags,
  type RangeFlags,
} from './admin-client.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

const DIMS = ['tenant', 'project', 'key', 'user', 'feature'] as const;
const FLAGS: Record<string, string> = {
  id: '<id>',
  scope: '--tenant',
  'scope.tenant': '--tenant',
  'scope.project': '--project',
  'scope.key': '--key',
  'scope.user': '--user',
  'scope.feature': '--feature',
  'scope.model': '--model',
  period: '--period',
  tz: '--tz',
  limit_usd: '--limit',
  limit_tokens: '--limit-tokens',
  action: '--action',
  downgrade_to: '--downgrade-to',
  downgrade_at: '--downgrade-at',
  thresholds: '--thresholds',
  fail_mode: '--fail-mode',
  tenant: '--tenant',
};

interface SetFlags extends AdminFlags {
  tenant?: string;
  project?: string;
  key?: string;
  user?: string;
  feature?: string;
  model?: string;
  period: string;
  tz?: string;
  limit?: string;
  limitTokens?: string;
  action?: string;
  downgradeTo?: string;
  downgradeAt?: string;
  thresholds?: string;
  failMode?: string;
}

function count(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new PertokenError('invalid_request', `must be a positive whole number of tokens, got "${value}"`, {
      param: flag,
    });
  return n;
}

function fraction(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new PertokenError('invalid_request', `must be a positive fraction like 0.8, got "${value}"`, { param: flag });
  return n;
}

/** `pertoken budgets set|list|delete|alerts` over the admin API of a running server. */
export function budgetsCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const api = adminClient(io, env);
  const budgets = new Command('budgets').description(
    'budgets: limits per tenant/project/key/user/feature with reserve-and-settle',
  );

  budgets.addCommand(
    withAdminFlags(new Command('set'), env)
      .description('create or update a budget')
      .argument('<id>', 'budget id')
      .option('--tenant <id>', 'scope: this tenant')
      .option('--project <id>', 'scope: this project')
      .option('--key <id>', 'scope: this virtual key')
      .option('--user <id>', 'scope: this user (x-pertoken-user)')
      .option('--feature <id>', 'scope: this feature (x-pertoken-feature)')
      .option('--model <glob>', 'only calls served by these models, e.g. gpt-4o (with its dated snapshots) or claude-*')
      .addOption(
        new Option('--period <period>', 'calendar period or total')
          .choices(['day', 'week', 'month', 'total'])
          .makeOptionMandatory(),
      )
      .option('--tz <zone>', 'IANA time zone of the period (default UTC)')
      .option('--limit <usd>', 'limit in USD, e.g. 100 or 0.25')
      .option('--limit-tokens <n>', 'allowance in tokens, instead of or as well as --limit')
      .addOption(new Option('--action <action>', 'at the limit').choices(['block', 'downgrade', 'alert_only']))
      .option('--downgrade-to <model>', 'model served once a downgrade budget is used up')
      .option('--downgrade-at <fraction>', 'share of the limit from which to downgrade (default 1)')
      .option('--thresholds <list>', 'alert thresholds, e.g. 0.5,0.8,1')
      .addOption(new Option('--fail-mode <mode>', 'when Redis is down').choices(['open', 'closed']))
      .action(async (id: string, f: SetFlags) => {
        const scope = Object.fromEntries(DIMS.filter((d) => f[d] !== undefined).map((d) => [d, f[d]]));
        if (Object.keys(scope).length === 0)
          throw new PertokenError(
            'invalid_request',
            'name the scope with at least one of --tenant, --project, --key, --user, --feature',
            { param: '--tenant' },
          );
        if (f.limit === undefined && f.limitTokens === undefined)
          throw new PertokenError('invalid_request', 'give --limit (USD), --limit-tokens, or both', {
            param: '--limit',
          });
        const body = {
          id,
          scope: f.model === undefined ? scope : { ...scope, model: f.model },
          period: f.period,
          ...(f.limit !== undefined ? { limit_usd: f.limit } : {}),
          ...(f.limitTokens !== undefined ? { limit_tokens: count(f.limitTokens, '--limit-tokens') } : {}),
          ...(f.tz ? { tz: f.tz } : {}),
          ...(f.action ? { action: f.action } : {}),
          ...(f.downgradeTo ? { downgrade_to: f.downgradeTo } : {}),
          ...(f.downgradeAt ? { downgrade_at: fraction(f.downgradeAt, '--downgrade-at') } : {}),
          ...(f.thresholds !== undefined
            ? { thresholds: (listFlag(f.thresholds) ?? []).map((t) => fraction(t, '--thresholds')) }
            : {}),
          ...(f.failMode ? { fail_mode: f.failMode } : {}),
        };
        const saved = await api.call(f, 'POST', '/api/v1/admin/budgets', body, { flags: FLAGS });
        api.print(f.format, saved, () =>
          renderTable(
            ['id', 'scope', 'period', 'tz', 'limit_usd', 'limit_tokens', 'action', 'fail_mode'],
            [
              [
                saved.id,
                JSON.stringify(saved.scope),
                saved.period,
                saved.tz,
                saved.limit_usd,
                saved.limit_tokens,
                saved.action,
                saved.fail_mode,
              ].map(cell),
            ],
          ),
        );
      }),
  );

  budgets.addCommand(
    withAdminFlags(new Command('list'), env)
      .description('budget status: spent, reserved, remaining, period and projection')
      .option('--tenant <id>', 'only this tenant')
      .action(async (f: AdminFlags & { tenant?: string }) => {
        const status = await api.call(
          f,
          'GET',
          `/api/v1/budgets${f.tenant ? `?tenant=${encodeURIComponent(f.tenant)}` : ''}`,
          undefined,
          { flags: FLAGS },
        );
        const rows = (status.budgets as Array<Record<string, unknown>>).map((b) =>
          [
            b.id,
            b.tenant,
            b.period,
            b.period_end,
            b.limit_usd,
            b.spent_usd,
            b.reserved_usd,
            b.remaining_usd,
            b.projected_usd,
            b.action,
          ].map(cell),
        );
        api.print(f.format, status, () =>
          renderTable(
            [
              'id',
              'tenant',
              'period',
              'period_end',
              'limit_usd',
              'spent_usd',
              'reserved_usd',
              'remaining_usd',
              'projected_usd',
              'action',
            ],
            rows,
          ),
        );
      }),
  );

  budgets.addCommand(
    withAdminFlags(new Command('delete'), env)
      .description('delete a budget')
      .argument('<id>', 'budget id')
      .action(async (id: string, f: AdminFlags) => {
        const deleted = await api.call(f, 'DELETE', `/api/v1/admin/budgets/${encodeURIComponent(id)}`, undefined, {
          flags: FLAGS,
        });
        api.print(f.format, deleted, () => `deleted budget ${String(deleted.id)}\n`);
      }),
  );

  budgets.addCommand(
    withRangeFlags(withAdminFlags(new Command('alerts'), env))
      .description('threshold alerts raised by budgets')
      .action(async (f: AdminFlags & RangeFlags) => {
        const alerts = await api.call(f, 'GET', `/api/v1/admin/alerts${rangeQuery(f)}`, undefined, {
          flags: { from: '--from', to: '--to' },
        });
        const rows = (alerts.alerts as Array<Record<string, unknown>>).map((a) =>
          [a.time, a.budget_id, a.threshold, a.spent_usd, a.limit_usd].map(cell),
        );
        api.print(f.format, alerts, () =>
          renderTable(['time', 'budget_id', 'threshold', 'spent_usd', 'limit_usd'], rows),
        );
      }),
  );
  return budgets;
}
