/**
 * `pertoken import FORMAT FILE_OR_DIR...`: the providers' own bills into the ledger's billing rows
 * (DESIGN §3). Prints the import summary; exits 1 when any row was rejected (its file was refused
 * whole, the other files imported), so a scheduled import fails loudly instead of silently short.
 */
import { Command } from 'commander';
import { BILLING_FORMATS, fileSources, importBilling, parseBillingFormat } from '../attribution/index.js';
import type { BillingImportSummary } from '../attribution/index.js';
import { parseFormat, renderJson, renderTable } from '../output.js';
import { resolveConfig } from './context.js';
import { addLedgerOptions, processIo, withLedger, type CliIo, type Env, type LedgerFlags } from './ledger-store.js';

interface ImportFlags extends LedgerFlags {
  config?: string;
  format?: string;
}

/** Inputs above this size get a progress line on a terminal. */
const PROGRESS_BYTES = 8 * 1024 * 1024;

export function importCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('import')
    .description('import provider bills (OpenAI costs/usage, Anthropic cost/usage reports, FOCUS CSV)')
    .argument('<format>', BILLING_FORMATS.join(' | '))
    .argument('<paths...>', 'files, or directories of pages (read in name order)')
    .option('--config <file>', 'pertoken.yaml with billing_accounts')
    .option('--format <format>', 'table or json', 'table');
  return addLedgerOptions(command).action(async (formatArg: string, paths: string[], flags: ImportFlags) => {
    const output = parseFormat(flags.format, '--format', ['table', 'json'] as const);
    const format = parseBillingFormat(formatArg, 'format');
    const accounts = resolveConfig(flags.config, env).billing_accounts;
    const sources = await fileSources(paths, format, 'paths');
    const total = sources.reduce((n, s) => n + (s.bytes ?? 0), 0);
    const tty = io.stderr.isTTY === true && total >= PROGRESS_BYTES;
    const summary = await withLedger(flags, env, (store) =>
      importBilling({
        store,
        accounts,
        format,
        sources,
        ...(tty
          ? {
              onProgress: (done: number, files: number, bytes: number) =>
                io.stderr.write(
                  `\rimport: ${done}/${files} files, ${Math.round((100 * bytes) / Math.max(total, 1))}%${done === files ? '\n' : ''}`,
                ),
            }
          : {}),
      }),
    );
    io.stdout.write(output === 'json' ? renderJson(summary) : summaryTable(summary));
    if (summary.rejected.length > 0)
      command.error(`error: ${summary.rejected.length} rows rejected; their files were not imported`, {
        exitCode: 1,
        code: 'pertoken.import.rejected',
      });
  });
}

function summaryTable(s: BillingImportSummary): string {
  let out = renderTable(
    ['format', 'rows', 'imported', 'replaced', 'duplicates', 'unmapped', 'rejected'],
    [[s.format, s.rows, s.imported, s.replaced, s.duplicates, s.unmapped, s.rejected.length]],
  );
  if (s.rejected.length > 0)
    out +=
      '\n' +
      renderTable(
        ['file', 'at', 'reason'],
        s.rejected.map((r) => [r.file, r.at, r.reason]),
      );
  return out;
}
