/**
 * `pertoken pull [--from DAY] [--to DAY]`: fetch the usage and cost reports of every
 * billing_accounts entry with an `admin_key` from the provider's Admin API and import them
 * (DESIGN §3). A rerun continues after the last completed day (`<data dir>/billing-pull.json`).
 * Exits 1 when a page was refused by the importer, like `pertoken import`.
 */
import { Command } from 'commander';
import { pullBilling, type PullSummary } from '../attribution/index.js';
import { parseInstant } from '../ledger/index.js';
import { parseFormat, renderJson, renderTable } from '../output.js';
import { resolveConfig } from './context.js';
import {
  addLedgerOptions,
  dataDirOf,
  processIo,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';

interface PullFlags extends LedgerFlags {
  config?: string;
  from?: string;
  to?: string;
  format?: string;
}

export function pullCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('pull')
    .description('fetch provider usage and cost reports (Admin APIs) for billing_accounts with an admin_key')
    .option('--config <file>', 'pertoken.yaml with billing_accounts')
    .option('--from <day>', 'first UTC day (default: after the last pull, else 7 days before --to)')
    .option('--to <day>', 'end, exclusive (default: today 00:00 UTC, completed days only)')
    .option('--format <format>', 'table or json', 'table');
  return addLedgerOptions(command).action(async (flags: PullFlags) => {
    const output = parseFormat(flags.format, '--format', ['table', 'json'] as const);
    const from = parseInstant(flags.from ?? null, '--from');
    const to = parseInstant(flags.to ?? null, '--to');
    const accounts = resolveConfig(flags.config, env).billing_accounts;
    const summary = await withLedger(flags, env, (store) =>
      pullBilling({
        store,
        accounts,
        dataDir: dataDirOf(flags, env),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      }),
    );
    io.stdout.write(output === 'json' ? renderJson(summary) : summaryTable(summary));
    const rejected = summary.reports.reduce((n, r) => n + (r.import?.rejected.length ?? 0), 0);
    if (rejected > 0)
      command.error(`error: ${rejected} rows rejected; their pages were not imported and will be fetched again`, {
        exitCode: 1,
        code: 'pertoken.pull.rejected',
      });
  });
}

function summaryTable(s: PullSummary): string {
  return renderTable(
    [
      'account',
      'report',
      'from',
      'to',
      'pages',
      'retries',
      'imported',
      'replaced',
      'duplicates',
      'unmapped',
      'rejected',
    ],
    s.reports.map((r) => [
      r.account,
      r.format,
      r.from ?? '-',
      r.to ?? 'up to date',
      r.pages,
      r.retries,
      r.import?.imported ?? 0,
      r.import?.replaced ?? 0,
      r.import?.duplicates ?? 0,
      r.import?.unmapped ?? 0,
      r.import?.rejected.length ?? 0,
    ]),
  );
}
