import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { PertokenError } from '../errors.js';
import { parseFormat, renderJson, type Cell } from '../output.js';
import { callApi, type ApiCall, type Method } from './api-client.js';
import type { CliIo, Env } from './ledger-store.js';

/**
 * What `pertoken tenants|keys|budgets` share: their flags, and calls to the admin API of a running
 * server through the CLI's one API client (api-client.ts), signed with the caller's login name.
 */

export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** The server the admin commands call: PERTOKEN_URL, else the local PERTOKEN_PORT, else :4000. */
export function defaultServerUrl(env: Env): string {
  if (env.PERTOKEN_URL) return env.PERTOKEN_URL;
  if (env.PERTOKEN_PORT) return `http://127.0.0.1:${env.PERTOKEN_PORT}`;
  return DEFAULT_URL;
}

export interface AdminFlags {
  url: string;
  format: 'table' | 'json';
}

/**
 * `--url` and `--format` on every admin subcommand. The format is checked as the flags are parsed,
 * before any call: `keys create --format xml` must fail before it creates a key shown only once.
 */
export function withAdminFlags(command: Command, env: Env): Command {
  return command
    .addOption(
      new Option(
        '--url <url>',
        'pertoken server (default PERTOKEN_URL, else http://127.0.0.1:$PERTOKEN_PORT, else :4000)',
      ).default(defaultServerUrl(env)),
    )
    .addOption(
      new Option('--format <format>', 'table | json')
        .default('table')
        .argParser((value) => parseFormat(value, '--format', ['table', 'json'])),
    );
}

export interface RangeFlags {
  from?: string;
  to?: string;
}

/** `--from` and `--to` on an admin subcommand that lists what happened in a time range. */
export function withRangeFlags(command: Command): Command {
  return command.option('--from <iso>', 'from, inclusive').option('--to <iso>', 'to, exclusive');
}

/** `?from=…&to=…` with the bounds that were given. */
export function rangeQuery(flags: RangeFlags): string {
  const params = new URLSearchParams();
  if (flags.from) params.set('from', flags.from);
  if (flags.to) params.set('to', flags.to);
  return `?${params.toString()}`;
}

export type CallOptions = Pick<ApiCall, 'flags'>;

function actor(): string | null {
  try {
    const name = userInfo().username;
    return /^[A-Za-z0-9._@:+-]{1,64}$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** What an admin subcommand needs: calls to the server's admin API, and its output. */
export interface AdminClient {
  call(
    flags: Pick<AdminFlags, 'url'>,
    method: Method,
    path: string,
    body?: unknown,
    options?: CallOptions,
  ): Promise<Record<string, unknown>>;
  /** `json` as JSON, or the table `table()` renders, on stdout. */
  print(format: AdminFlags['format'], json: unknown, table: () => string): void;
}

/** The admin client of one command: its token from env PERTOKEN_ADMIN_TOKEN, its output to io.stdout. */
export function adminClient(io: CliIo, env: Env): AdminClient {
  return {
    call: (flags, method, path, body, options = {}) => {
      const who = actor();
      const headers: Record<string, string> = who ? { 'x-pertoken-actor': who } : {};
      return callApi(env, { url: flags.url, method, path, body, flags: options.flags, headers });
    },
    print: (format, json, table) => {
      io.stdout.write(format === 'json' ? renderJson(json) : table());
    },
  };
}

/** Parses an integer flag; a bad value names the flag. */
export function intFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new PertokenError('invalid_request', `must be an integer >= ${min}, got "${value}"`, { param: flag });
  return n;
}

export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

/** A table cell from an API field: null when absent (shown '-'), lists comma-joined. */
export const cell = (v: unknown): Cell =>
  v === null || v === undefined ? null : Array.isArray(v) ? v.join(',') : String(v);
