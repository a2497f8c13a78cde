/**
 * `pertoken reconcile`: the ledger's metered usage against the imported provider bills (DESIGN §3),
 * every gap explained. Exits 1 only when a gap past the threshold has no explanation, so a
 * scheduled run fails on what needs a person, not on a known batch discount or credit.
 */
import { Command } from 'commander';
import {
  checkDayWindow,
  hasUnexplainedGap,
  parseThreshold,
  reconcile,
  reconciliationCsv,
  reconciliationTable,
  DEFAULT_THRESHOLD_PCT,
} from '../attribution/reconcile/index.js';
import { parseInstant } from '../ledger/index.js';
import { parseFormat, renderJson } from '../output.js';
import { createPriceBook } from '../pricing/index.js';
import { resolveConfig } from './context.js';
import {
  addLedgerOptions,
  processIo,
  requireInstant,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';

interface ReconcileFlags extends LedgerFlags {
  from?: string;
  to?: string;
  threshold: string;
  format: string;
  config?: string;
}

export function reconcileCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('reconcile')
    .description('compare metered usage and cost with the imported provider bills; explain every gap')
    .requiredOption('--from <day>', 'first UTC day, inclusive (YYYY-MM-DD)')
    .requiredOption('--to <day>', 'last UTC day, exclusive')
    .option('--threshold <pct>', 'a gap within this percent of the metered side is a match', DEFAULT_THRESHOLD_PCT)
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--config <file>', 'pertoken.yaml with the price overrides the gateway prices with');
  return addLedgerOptions(command).action(async (flags: ReconcileFlags) => {
    const format = parseFormat(flags.format, '--format', ['table', 'json', 'csv'] as const);
    const from = requireInstant(parseInstant, flags.from, '--from');
    const to = requireInstant(parseInstant, flags.to, '--to');
    checkDayWindow(from, to, '--from', '--to');
    const threshold = parseThreshold(flags.threshold, '--threshold');
    // The same price book as `pertoken serve`: it splits each metered group's cost over its buckets.
    const book = createPriceBook({ overrides: resolveConfig(flags.config, env).prices });
    const result = await withLedger(flags, env, (store) => reconcile(store, book, { from, to, threshold }));
    io.stdout.write(
      format === 'json'
        ? renderJson(result)
        : format === 'csv'
          ? reconciliationCsv(result)
          : reconciliationTable(result),
    );
    if (hasUnexplainedGap(result))
      command.error(`error: ${result.totals.unexplained} unexplained gap(s) past ${result.threshold_pct} %`, {
        exitCode: 1,
        code: 'pertoken.reconcile.unexplained',
      });
  });
}
