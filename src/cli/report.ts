import { Command } from 'commander';
import { parseGroupBy, parseFilters, parseInstant, presentCosts, type CostsJson } from '../ledger/index.js';
import { PertokenError } from '../errors.js';
import { BUCKETS } from '../usage/index.js';
import { parseFormat, renderCsv, renderJson, renderTable, type OutputFormat } from '../output.js';
import { callApi } from './api-client.js';
import { addLedgerOptions, processIo, withLedger, type CliIo, type Env } from './ledger-store.js';

interface ReportOptions {
  from?: string;
  to?: string;
  groupBy: string;
  filter: string[];
  format: string;
  url?: string;
  dataDir?: string;
  databaseUrl?: string;
}

export function reportCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  return addLedgerOptions(new Command('report'))
    .description('cost report from the ledger (the embedded store, or a running server with --url)')
    .option('--from <iso>', 'start, inclusive (UTC date or ISO instant); default 30 days before --to')
    .option('--to <iso>', 'end, exclusive; default now')
    .option(
      '--group-by <keys>',
      'comma list of tenant,project,model,requested_model,provider,feature,user,key,day,hour',
      'tenant,model',
    )
    .option('--filter <key=value>', 'filter on a group key (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--url <url>', 'query a running pertoken server instead of the local store (uses PERTOKEN_ADMIN_TOKEN)')
    .action(async (options: ReportOptions) => {
      const format = parseFormat(options.format);
      const costs = options.url ? await fetchCosts(options, env) : await localCosts(options, env);
      io.stdout.write(renderCosts(costs, format));
    });
}

function queryParams(options: ReportOptions): URLSearchParams {
  const params = new URLSearchParams();
  if (options.from) params.set('from', options.from);
  if (options.to) params.set('to', options.to);
  params.set('group_by', options.groupBy);
  for (const pair of options.filter) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PertokenError('invalid_request', `expected key=value, got "${pair}"`, { param: '--filter' });
    params.set(`filter[${pair.slice(0, eq)}]`, pair.slice(eq + 1));
  }
  return params;
}

async function localCosts(options: ReportOptions, env: Env): Promise<CostsJson> {
  const params = queryParams(options);
  const to = parseInstant(params.get('to'), '--to') ?? new Date();
  const from = parseInstant(params.get('from'), '--from') ?? new Date(to.getTime() - 30 * 86_400_000);
  if (from >= to) throw new PertokenError('invalid_request', 'must be earlier than --to', { param: '--from' });
  const query = { from, to, groupBy: parseGroupBy(options.groupBy), filter: parseFilters(params) };
  // The configured store, as every ledger command opens it: PERTOKEN_DATABASE_URL wins over --data-dir.
  return withLedger(options, env, async (store) => presentCosts(query, await store.queryCosts(query)));
}

function fetchCosts(options: ReportOptions, env: Env): Promise<CostsJson> {
  return callApi<CostsJson>(env, { url: options.url ?? '', path: `/api/v1/costs?${queryParams(options).toString()}` });
}

export function renderCosts(costs: CostsJson, format: OutputFormat): string {
  if (format === 'json') return renderJson(costs);
  const buckets = BUCKETS.filter((b) => costs.totals.tokens[b]);
  // cost_usd is net (list + adjustments), as in the JSON; list and adjustments are shown beside it.
  const headers = [
    ...costs.group_by,
    'requests',
    'refused',
    ...buckets.map((b) => `tok_${b}`),
    'list_usd',
    'adjustments_usd',
    'cost_usd',
    'unpriced',
    'estimated',
  ];
  const toCells = (row: CostsJson['totals'] & Record<string, unknown>, keys: string[]): string[] => [
    ...keys.map((k) => String(row[k] ?? '')),
    String(row.requests),
    // Older servers (--url) do not send it yet.
    String(row.refused_requests ?? 0),
    ...buckets.map((b) => String(row.tokens[b] ?? 0)),
    row.list_cost_usd,
    row.adjustments_usd,
    row.cost_usd,
    String(row.unpriced_requests),
    String(row.estimated_requests),
  ];
  const rows = costs.rows.map((r) => toCells(r as CostsJson['totals'] & Record<string, unknown>, costs.group_by));
  if (format === 'csv') return renderCsv(headers, rows);
  const total = toCells(
    costs.totals as CostsJson['totals'] & Record<string, unknown>,
    costs.group_by.map(() => ''),
  );
  if (total.length > 0 && costs.group_by.length > 0) total[0] = 'TOTAL';
  return `pertoken cost report ${costs.from} .. ${costs.to} (USD)\n` + renderTable(headers, [...rows, total]);
}
