import { Command } from 'commander';
import { createPriceBook, describePrices, formatPriceTable } from '../pricing/index.js';
import { parseInstant } from '../ledger/index.js';
import { parseFormat, renderJson } from '../output.js';
import { resolveConfig } from './context.js';
import { processIo, type CliIo, type Env } from './ledger-store.js';

export function pricesCommand(io: CliIo = processIo(), env: Env = process.env): Command {
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
        const format = parseFormat(options.format, '--format', ['table', 'json']);
        const config = resolveConfig(options.config, env);
        const book = createPriceBook({ overrides: config.prices });
        const at = parseInstant(options.at ?? null, '--at') ?? new Date();
        const rows = await describePrices(book, {
          ...(model ? { model } : {}),
          ...(options.provider ? { provider: options.provider } : {}),
          at,
        });
        io.stdout.write(format === 'json' ? renderJson(rows) : formatPriceTable(rows));
      },
    );
}
