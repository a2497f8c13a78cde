import { Command } from 'commander';
import { createPriceBook, describePrices, formatPriceTable } from '../pricing/index.js';
import { parseInstant } from '../ledger/index.js';
import { parseFormat, resolveConfig } from './context.js';

export function pricesCommand(): Command {
  return new Command('prices')
    .description('effective prices (USD per 1M tokens) and where each comes from')
    .argument('[model]', 'a model name or glob; all known models when omitted')
    .option('--provider <id>', 'limit to one provider (openai, anthropic, ...)')
    .option('--at <iso>', 'prices in effect at this instant (default now)')
    .option('--config <file>', 'pertoken.yaml with price overrides')
    .option('--format <format>', 'table | json', 'table')
    .action(
      async (
        model: string | undefined,
        options: { provider?: string; at?: string; config?: string; format: string },
      ) => {
        const format = parseFormat(options.format);
        const config = resolveConfig(options.config, process.env);
        const book = createPriceBook({ overrides: config.prices });
        const at = parseInstant(options.at ?? null, '--at') ?? new Date();
        const rows = await describePrices(book, {
          ...(model ? { model } : {}),
          ...(options.provider ? { provider: options.provider } : {}),
          at,
        });
        process.stdout.write(format === 'json' ? JSON.stringify(rows, null, 2) + '\n' : formatPriceTable(rows));
      },
    );
}
