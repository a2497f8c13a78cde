import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseInstant, type LedgerTarget } from '../ledger/index.js';
import { invalidInput } from '../errors.js';
import { createPriceBook } from '../pricing/index.js';
import { SEED_LIMITS, SEED_MODELS, seedLedger, type SeedProgress } from '../seed/index.js';
import { resolveConfig } from './context.js';
import { ledgerTarget, parsePositiveInt, processIo, type CliIo, type Env, type LedgerFlags } from './ledger-store.js';

interface SeedFlags extends LedgerFlags {
  events: string;
  tenants: string;
  models: string;
  days: string;
  seed: string;
  end?: string;
  batchSize?: string;
  config?: string;
  force?: boolean;
}

/**
 * Where seed data goes unless a flag or PERTOKEN_DATABASE_URL names a ledger: its own directory,
 * never the live `./.pertoken`. PERTOKEN_DATA_DIR is not read: it names the ledger `pertoken
 * serve` uses, where fake tenants would count against real budgets.
 */
export const SEED_DATA_DIR = '.pertoken-seed';

export function seedTarget(flags: LedgerFlags, env: Env, cwd: string = process.cwd()): LedgerTarget {
  return ledgerTarget({ ...flags, dataDir: resolve(cwd, flags.dataDir ?? SEED_DATA_DIR) }, env);
}

const DAY_MS = 86_400_000;

function rate(progress: SeedProgress): number {
  return progress.elapsedMs > 0 ? (progress.written * 1000) / progress.elapsedMs : 0;
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

/** `[#########.........]  45%  4.5M/10M  212k ev/s  ETA 26s` */
export function progressBar(progress: SeedProgress, width = 30): string {
  const share = progress.total === 0 ? 1 : progress.written / progress.total;
  const filled = Math.floor(share * width);
  const perSecond = rate(progress);
  const eta = perSecond > 0 ? Math.ceil((progress.total - progress.written) / perSecond) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${compact(progress.written)}/${compact(progress.total)}  ${compact(perSecond)} ev/s  ETA ${eta}s`;
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal; otherwise (CI logs, files) one line
 * at most every 5 seconds, so a log is not flooded with carriage returns.
 */
export function progressReporter(
  stderr: CliIo['stderr'],
  now: () => number = () => performance.now(),
): (p: SeedProgress) => void {
  let lastLine = -Infinity;
  return (progress) => {
    const done = progress.written >= progress.total;
    if (stderr.isTTY === true) {
      stderr.write(`\r${progressBar(progress)}${done ? '\n' : ''}`);
      return;
    }
    const t = now();
    if (done || t - lastLine >= 5000) {
      lastLine = t;
      stderr.write(`seed: ${progress.written}/${progress.total} events (${Math.round(rate(progress))}/s)\n`);
    }
  };
}

/**
 * `pertoken seed`: realistic test and benchmark data (see src/seed). Deterministic for a given
 * --seed and --end; loading the same seed twice adds nothing (ids repeat, inserts are idempotent).
 * Safe by default: it loads into ./.pertoken-seed, names every tenant `seed-…`, and refuses a
 * ledger holding real events (ids without `seed:`) unless --force.
 */
export function seedCommand(io: CliIo = processIo(), env: Env = process.env): Command {
  const command = new Command('seed')
    .description(
      `generate realistic fake usage events (Zipf tenants/models, diurnal load, real prices) into ./${SEED_DATA_DIR}`,
    )
    .addHelpText(
      'after',
      `
Seed data goes into ./${SEED_DATA_DIR} unless --data-dir, --database-url or PERTOKEN_DATABASE_URL
names a ledger; look at it with \`pertoken serve --data-dir ${SEED_DATA_DIR}\`. Seeded events have
ids seed:<ULID> and tenants, projects, features and users named seed-…; a ledger holding any other
event is refused unless --force. Loading the same seed again adds nothing.`,
    )
    .option('--events <n>', 'events to generate', '1000000')
    .option('--tenants <n>', 'tenants', '200')
    .option('--models <n>', `models, most used first (1-${SEED_MODELS.length})`, '30')
    .option('--days <n>', 'days of history ending at --end', '90')
    .option('--seed <n>', 'random seed: the same seed and --end give the same data', '1')
    .option('--end <iso>', 'end of the period, exclusive (default: today 00:00 UTC)')
    .option('--batch-size <n>', 'events per transaction (default 50000)')
    .option('--config <file>', 'pertoken.yaml whose price overrides apply')
    .option('--data-dir <dir>', `seed ledger directory (default ./${SEED_DATA_DIR}; PERTOKEN_DATA_DIR is not read)`)
    .option('--database-url <url>', 'PostgreSQL ledger (default PERTOKEN_DATABASE_URL); overrides --data-dir')
    .option('--force', 'load even into a ledger that holds real (not seeded) events');
  return command.action(async (flags: SeedFlags) => {
    const events = parsePositiveInt(flags.events, '--events', SEED_LIMITS.events);
    const tenants = parsePositiveInt(flags.tenants, '--tenants', SEED_LIMITS.tenants);
    const models = parsePositiveInt(flags.models, '--models', SEED_LIMITS.models);
    const days = parsePositiveInt(flags.days, '--days', SEED_LIMITS.days);
    const seed = /^\d+$/.test(flags.seed) ? Number(flags.seed) : Number.NaN;
    if (!Number.isSafeInteger(seed) || seed > 2 ** 32 - 1) {
      throw invalidInput('--seed', `must be a whole number from 0 to ${2 ** 32 - 1}, got "${flags.seed}"`);
    }
    const batchSize =
      flags.batchSize === undefined ? undefined : parsePositiveInt(flags.batchSize, '--batch-size', 1_000_000);
    const end = parseInstant(flags.end ?? null, '--end') ?? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    const target = seedTarget(flags, env);
    const book = createPriceBook({ overrides: resolveConfig(flags.config, env).prices });
    const result = await seedLedger({
      events,
      tenants,
      models,
      days,
      seed,
      end,
      ...(batchSize !== undefined ? { batchSize } : {}),
      book,
      target,
      force: flags.force === true,
      onProgress: progressReporter(io.stderr),
    });
    const seconds = result.elapsedMs / 1000;
    const where = target.kind === 'sqlite' ? target.path : 'PostgreSQL';
    io.stdout.write(
      `seeded ${result.inserted} new events (${result.generated - result.inserted} already present) into ${where} ` +
        `in ${seconds.toFixed(1)} s: ${Math.round(result.generated / seconds)} events/s\n`,
    );
  });
}
