import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { invalidInput, PertokenError } from '../errors.js';
import { createPostgresStore, createSqliteStore, type LedgerStore, type LedgerTarget } from '../ledger/index.js';

/**
 * Where the maintenance commands (reprice, adjust, prune, export, seed) find the ledger: PostgreSQL
 * when --database-url or PERTOKEN_DATABASE_URL names one (the shared truth of every replica),
 * otherwise the embedded SQLite file under --data-dir / PERTOKEN_DATA_DIR / ./.pertoken, as
 * `pertoken serve` and `pertoken report` use it.
 */

export interface LedgerFlags {
  dataDir?: string;
  databaseUrl?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Output streams, injectable so that commands can be tested in-process. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

export function addLedgerOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'embedded store directory (default PERTOKEN_DATA_DIR or ./.pertoken)')
    .option('--database-url <url>', 'PostgreSQL ledger (default PERTOKEN_DATABASE_URL); overrides --data-dir');
}

export function ledgerTarget(flags: LedgerFlags, env: Env): LedgerTarget {
  const url = flags.databaseUrl ?? env.PERTOKEN_DATABASE_URL;
  if (url !== undefined && url !== '') {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new PertokenError('invalid_request', 'must be a postgres:// URL', {
        param: flags.databaseUrl ? '--database-url' : 'PERTOKEN_DATABASE_URL',
      });
    }
    return { kind: 'postgres', url };
  }
  return { kind: 'sqlite', path: join(dataDirOf(flags, env), 'ledger.sqlite') };
}

/**
 * The data directory of serve's other state (bench pools, run-time pools): --data-dir, else
 * PERTOKEN_DATA_DIR, else ./.pertoken — also when the ledger itself is on PostgreSQL.
 */
export function dataDirOf(flags: LedgerFlags, env: Env): string {
  return resolve(flags.dataDir ?? env.PERTOKEN_DATA_DIR ?? '.pertoken');
}

/**
 * Opens and migrates the configured ledger; the caller closes it. A SQLite data dir without a
 * ledger is refused rather than created: a mistyped --data-dir, or a command run from another
 * directory, would otherwise report $0 from a fresh empty ledger and exit 0.
 */
export async function openLedger(flags: LedgerFlags, env: Env): Promise<LedgerStore> {
  const target = ledgerTarget(flags, env);
  if (target.kind === 'sqlite' && !existsSync(target.path)) {
    const param =
      flags.dataDir !== undefined
        ? '--data-dir'
        : env.PERTOKEN_DATA_DIR !== undefined
          ? 'PERTOKEN_DATA_DIR'
          : '--data-dir';
    throw invalidInput(
      param,
      `no ledger at ${target.path}: point --data-dir at the directory \`pertoken serve\` uses, or set PERTOKEN_DATABASE_URL`,
    );
  }
  const store =
    target.kind === 'postgres'
      ? createPostgresStore({
          url: target.url,
          ...(env.PERTOKEN_DATABASE_SCHEMA ? { schema: env.PERTOKEN_DATABASE_SCHEMA } : {}),
        })
      : createSqliteStore({ path: target.path, checkpoint: 'inline' });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

export async function withLedger<T>(
  flags: LedgerFlags,
  env: Env,
  work: (store: LedgerStore) => Promise<T>,
): Promise<T> {
  const store = await openLedger(flags, env);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** A required ISO date/instant flag, or a one-line error naming it. */
export function requireInstant(
  parse: (value: string | null, param: string) => Date | null,
  value: string | undefined,
  flag: string,
): Date {
  const date = parse(value ?? null, flag);
  if (date === null) throw new PertokenError('invalid_request', 'is required', { param: flag });
  return date;
}

export function parsePositiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new PertokenError('invalid_request', `must be a whole number from 1 to ${max}, got "${value}"`, {
      param: flag,
    });
  }
  return n;
}
