import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { PertokenError } from '../../errors.js';
import { isTransientDatabaseError } from './errors.js';

/**
 * The pg pool behind the PostgreSQL ledger, configured per pool and never globally:
 * - BIGINT (int8) parses to a JS bigint through this pool's own `types`, so nano-USD amounts never
 *   pass through a float; `pg.types` stays untouched for anyone else in the process. SUM() of a
 *   BIGINT is NUMERIC and keeps pg's string form, which `toBigInt` reads exactly.
 * - `search_path` is set per connection (`options=-c search_path=…`), so every unqualified table
 *   name in the shared Kysely statements lands in this ledger's schema.
 * - A connection whose query timed out or lost its socket is destroyed on release instead of
 *   going back to the pool half-dead, and socket errors of idle or checked-out connections are
 *   reported instead of crashing the process (pg emits them as unhandled 'error' events).
 */

export interface PostgresPoolOptions {
  /** postgres://user:password@host:port/database[?…] */
  url: string;
  /** Schema holding the ledger tables (created by migrate() if missing). Default 'public'. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How long opening a connection may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Client-side limit on one statement, so that a silently dropped network (no RST) fails a
   * batch instead of hanging it. Default 30 000 ms.
   */
  queryTimeoutMs?: number;
  /** Connection-level errors that no query was waiting for (logged by the caller). */
  onError?: (err: unknown) => void;
  /**
   * `work_mem` of the ledger's connections. Default '32MB': a report that cannot read a rollup in
   * key order groups its rows in a hash table or a sort, and at PostgreSQL's stock 4MB a 30-day
   * report's ~130k daily rows spill to disk. A `-c work_mem=…` in the URL's `options` wins.
   */
  workMem?: string;
}

const INT8_OID = 20;
const WORK_MEM = /^[1-9][0-9]{0,6}(kB|MB|GB)$/;
/**
 * The usual setting for SSD and cloud volumes (stock 4 assumes spinning disks). It matters here
 * because the rollups' primary keys start (bucket, tenant, model, …): at 1.1 PostgreSQL reads a
 * report's range in key order and aggregates it group by group with no sort or hash table; at 4
 * it scans the whole table and hashes (30-day tenant × model × day report over 10M events:
 * ~190–215 ms vs ~275–365 ms, benchmarks/README.md).
 */
const RANDOM_PAGE_COST = 1.1;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const parseInt8 = (text: string): bigint => BigInt(text);

/** pg's own parsers, except int8 -> bigint (text format; the pool never asks for binary). */
const LEDGER_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new PertokenError(
      'config_invalid',
      `schema must match ${SCHEMA_NAME.source}, got ${JSON.stringify(schema)}`,
      {
        param: 'schema',
      },
    );
  }
  return schema;
}

/**
 * pg lets a connection string's own parameters override the config object, so an `options`
 * parameter in the URL would silently drop our search_path. It is moved into the config instead.
 */
function splitUrlOptions(url: string): { url: string; options: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err: unknown) {
    throw new PertokenError('config_invalid', 'database URL is not a valid URL', { param: 'url', cause: err });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PertokenError('config_invalid', 'database URL must start with postgres:// or postgresql://', {
      param: 'url',
    });
  }
  const options = parsed.searchParams.get('options') ?? undefined;
  if (options === undefined) return { url, options };
  parsed.searchParams.delete('options');
  return { url: parsed.toString(), options };
}

export interface LedgerPool extends PostgresPool {
  /** The schema every connection's search_path points at. */
  readonly schema: string;
  /** The underlying pg pool (sizes, counts; tests). */
  readonly pg: pg.Pool;
}

function positiveInt(value: number, param: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PertokenError('config_invalid', `${param} must be a positive integer, got ${value}`, { param });
  }
  return value;
}

function checkWorkMem(value: string): string {
  if (!WORK_MEM.test(value)) {
    throw new PertokenError(
      'config_invalid',
      `workMem must be a size such as 32MB (kB, MB or GB), got ${JSON.stringify(value)}`,
      { param: 'workMem' },
    );
  }
  return value;
}

export function createPostgresPool(options: PostgresPoolOptions): LedgerPool {
  const schema = checkSchemaName(options.schema ?? 'public');
  const workMem = checkWorkMem(options.workMem ?? '32MB');
  const { url, options: urlOptions } = splitUrlOptions(options.url);
  const onError = options.onError ?? (() => undefined);
  const pool = new pg.Pool({
    connectionString: url,
    max: positiveInt(options.poolSize ?? 10, 'poolSize'),
    connectionTimeoutMillis: positiveInt(options.connectTimeoutMs ?? 5000, 'connectTimeoutMs'),
    query_timeout: positiveInt(options.queryTimeoutMs ?? 30_000, 'queryTimeoutMs'),
    keepAlive: true,
    types: LEDGER_TYPES,
    // Later settings win: the URL's own options override ours, search_path overrides all.
    options: [
      `-c work_mem=${workMem}`,
      `-c random_page_cost=${RANDOM_PAGE_COST}`,
      urlOptions,
      `-c search_path=${schema}`,
    ]
      .filter((o) => o !== undefined)
      .join(' '),
  });
  pool.on('error', onError);
  // A checked-out connection has no pool listener; without this one a socket dying between two
  // statements of a transaction would be an unhandled 'error' event.
  pool.on('connect', (client) => client.on('error', onError));

  return {
    schema,
    pg: pool,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken = false;
      const query = (text: unknown, parameters?: ReadonlyArray<unknown>): unknown => {
        // Kysely passes either (sql, parameters) or a cursor object; only the first is guarded.
        if (typeof text !== 'string') return client.query(text as pg.Submittable);
        return client.query(text, parameters as unknown[]).catch((err: unknown) => {
          if (isTransientDatabaseError(err)) broken = true;
          throw err;
        }) as Promise<PostgresQueryResult<unknown>>;
      };
      return {
        query: query as PostgresPoolClient['query'],
        release(): void {
          client.release(broken);
        },
      };
    },
    end(): Promise<void> {
      return pool.end();
    },
  };
}
