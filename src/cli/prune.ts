import { Command } from 'commander';
import { PertokenError } from '../errors.js';
import {
  addLedgerOptions,
  parsePositiveInt,
  processIo,
  withLedger,
  type CliIo,
  type Env,
  type LedgerFlags,
} from './ledger-store.js';

interface PruneFlags extends LedgerFlags {
  olderThan: string;
  batchSize?: string;
}

/** "90d" or "90" -> 90 (whole days; retention is a days matter). */
export function parseDays(value: string, flag: string): number {
  const match = /^(\d+)d?$/.exec(value.trim());
  const days = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(days) || days < 1 || days > 36_500) {
    throw new PertokenError('invalid_request', `must be a number of days such as 90d, got "${value}"`, { param: flag });
  }
  return days;
}

/**
 * Deletes raw events (and leftover reservations) older than N days in bounded batches. Rollups
 * and adjustments stay, so reports over whole hours keep their totals; the events themselves
 * (listings, exports, per-event repricing) are gone. SQLite keeps the freed pages for reuse
 * rather than shrinking the file (VACUUM would lock the ledger for its duration).
 */
export function pruneCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('prune')
    .description('delete raw events older than a retention period (rollups are kept forever)')
    .requiredOption('--older-than <days>', 'retention, e.g. 90d')
    .option('--batch-size <n>', 'rows per delete statement (default 5000)');
  return addLedgerOptions(command).action(async (flags: PruneFlags) => {
    const olderThanDays = parseDays(flags.olderThan, '--older-than');
    const batchSize =
      flags.batchSize === undefined ? undefined : parsePositiveInt(flags.batchSize, '--batch-size', 1_000_000);
    const result = await withLedger(flags, env, (store) =>
      store.pruneEvents({ olderThanDays, ...(batchSize !== undefined ? { batchSize } : {}) }),
    );
    io.stdout.write(
      `deleted ${result.deleted_events} events and ${result.deleted_reservations} reservations older than ${result.cutoff.toISOString()} ` +
        `in ${result.batches} batches; rollups and adjustments kept\n`,
    );
  });
}
