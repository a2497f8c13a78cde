import { Command } from 'commander';
import { parseInstant } from '../ledger/index.js';
import { invalidInput, PertokenError } from '../errors.js';
import type { RepricePricer, RepriceResult } from '../ledger/index.js';
import { parseFormat, renderJson } from '../output.js';
import { createPriceBook, formatUsd, type PriceBook } from '../pricing/index.js';
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

interface RepriceFlags extends LedgerFlags {
  provider: string;
  model: string;
  from?: string;
  to?: string;
  dryRun?: boolean;
  includeReported?: boolean;
  reason?: string;
  config?: string;
  format: string;
}

/**
 * Prices an event as the gateway does (pricing-step.ts): by the served model, then by the
 * requested model when the served name has no price. The gateway folder is not importable from
 * here (nothing imports gateway), so the two lines are repeated.
 */
export function gatewayPricer(book: PriceBook): RepricePricer {
  return (event) => {
    const served = book.price({ provider: event.provider, model: event.model, at: event.time, buckets: event.buckets });
    if (served.cost_nano !== null || event.model === event.requested_model) return served;
    const requested = book.price({
      provider: event.provider,
      model: event.requested_model,
      at: event.time,
      buckets: event.buckets,
    });
    return requested.cost_nano === null ? served : requested;
  };
}

export function formatRepriceSummary(result: RepriceResult, header: string): string {
  const lines: Array<[string, string]> = [
    ['events scanned', String(result.scanned)],
    ['adjusted', `${result.adjusted} (${result.newly_priced} previously unpriced)`],
    ['total delta USD', formatUsd(result.delta_nano)],
    ['already at price', String(result.unchanged)],
    ['no price now', String(result.no_price)],
    ['not billed (skipped)', String(result.skipped_not_billed)],
    ['sender-reported (skipped)', String(result.skipped_reported)],
  ];
  if (result.conflicts > 0) lines.push(['concurrent conflicts', `${result.conflicts} (run again)`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return `${header}\n${lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

export function repriceCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('reprice')
    .description(
      'append adjustments so that past events cost what the current price book says (events are never rewritten)',
    )
    .requiredOption('--provider <id>', 'provider of the events (openai, anthropic, ...)')
    .requiredOption('--model <name>', 'served model: a family (gpt-4o matches gpt-4o-2024-08-06) or a glob')
    .requiredOption('--from <iso>', 'start of the event time range, inclusive (UTC date or ISO instant)')
    .requiredOption('--to <iso>', 'end, exclusive')
    .option('--dry-run', 'compute and print the summary, write nothing')
    .option('--include-reported', 'also reprice events whose cost the sender reported')
    .option('--reason <text>', 'stored on each adjustment', 'reprice')
    .option('--config <file>', 'pertoken.yaml with the price overrides to apply')
    .option('--format <format>', 'table | json', 'table');
  return addLedgerOptions(command).action(async (flags: RepriceFlags) => {
    const format = parseFormat(flags.format, '--format', ['table', 'json']);
    const from = requireInstant(parseInstant, flags.from, '--from');
    const to = requireInstant(parseInstant, flags.to, '--to');
    if (from >= to) throw new PertokenError('invalid_request', 'must be earlier than --to', { param: '--from' });
    const config = resolveConfig(flags.config, env);
    const book = createPriceBook({ overrides: config.prices });
    const dryRun = flags.dryRun === true;
    const result = await withLedger(flags, env, (store) =>
      store.reprice({
        provider: flags.provider,
        model: flags.model,
        from,
        to,
        pricer: gatewayPricer(book),
        dryRun,
        includeReported: flags.includeReported === true,
        ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
      }),
    );
    if (result.models.length === 0) {
      const held = result.models_in_range.length > 0 ? result.models_in_range.join(', ') : 'none';
      throw invalidInput(
        '--model',
        `no ${flags.provider} events of "${flags.model}" in the range; its ${flags.provider} models: ${held}`,
      );
    }
    if (format === 'json') {
      io.stdout.write(
        renderJson({
          provider: flags.provider,
          model: flags.model,
          from: from.toISOString(),
          to: to.toISOString(),
          dry_run: dryRun,
          ...result,
          delta_nano: undefined,
          delta_usd: formatUsd(result.delta_nano),
        }),
      );
      return;
    }
    const header = `reprice ${flags.provider}/${flags.model} ${from.toISOString()} .. ${to.toISOString()}${dryRun ? ' (dry run: nothing written)' : ''}`;
    io.stdout.write(formatRepriceSummary(result, header));
  });
}
