/**
 * `pertoken reconcile`: the ledger's metered usage against the imported provider bills (DESIGN §3),
 * every gap explained. Exits 1 only when a gap past the threshold has no explanation, so a
 * scheduled run fails on what needs a person, not on a known batch discount or credit.
 */
import { Command } from 'commander';
import {
  appliedTable,
  applyReconciliation,
  checkDayWindow,
  hasUnexplainedGap,
  parseThreshold,
  reconcile,
  reconciliationCsv,
  reconciliationTable,
  DEFAULT_THRESHOLD_PCT,
} from '../attribution/index.js';
import { invalidInput } from '../errors.js';
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
  apply?: boolean;
}

export function reconcileCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('reconcile')
    .description('compare metered usage and cost with the imported provider bills; explain every gap')
    .requiredOption('--from <day>', 'first UTC day, inclusive (YYYY-MM-DD)')
    .requiredOption('--to <day>', 'last UTC day, exclusive')
    .option('--threshold <pct>', 'a gap within this percent of the metered side is a match', DEFAULT_THRESHOLD_PCT)
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--config <file>', 'pertoken.yaml with the price overrides the gateway prices with')
    .option(
      '--apply',
      'append an adjustment closing each price gap (price_mismatch, negotiated_discount, batch_discount, credit)',
    );
  return addLedgerOptions(command).action(async (flags: ReconcileFlags) => {
    const format = parseFormat(flags.format, '--format', ['table', 'json', 'csv'] as const);
    const from = requireInstant(parseInstant, flags.from, '--from');
    const to = requireInstant(parseInstant, flags.to, '--to');
    checkDayWindow(from, to, '--from', '--to');
    const threshold = parseThreshold(flags.threshold, '--threshold');
    // The same price book as `pertoken serve`: it splits each metered group's cost over its buckets.
    const book = createPriceBook({ overrides: resolveConfig(flags.config, env).prices });
    if (flags.apply === true && format === 'csv') throw invalidInput('--format', '--apply prints table or json');
    const { result, applied } = await withLedger(flags, env, async (store) => {
      const result = await reconcile(store, book, { from, to, threshold });
      return { result, applied: flags.apply === true ? await applyReconciliation(store, result) : null };
    });
    // With --apply, json is the adjustments alone; the table shows the reconciliation it closed from.
    if (applied !== null && format === 'json') io.stdout.write(renderJson(applied));
    else
      io.stdout.write(
        format === 'json'
          ? renderJson(result)
          : format === 'csv'
            ? reconciliationCsv(result)
            : reconciliationTable(result) + (applied === null ? '' : `\n${appliedTable(applied)}`),
      );
    if (hasUnexplainedGap(result))
      command.error(`error: ${result.totals.unexplained} unexplained gap(s) past ${result.threshold_pct} %`, {
        exitCode: 1,
        code: 'pertoken.reconcile.unexplained',
      });
  });
}
