import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { canReach } from './net.js';

/**
 * PostgreSQL test schemas are dropped once, after every test file has finished: dropping one while
 * another file runs a Kysely migration breaks that migration's catalog scan (3F000), so files
 * never drop schemas themselves. Each run tags its schemas with PERTOKEN_TEST_RUN.
 */
const DATABASE_URL = process.env.PERTOKEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export default function setup(): () => Promise<void> {
  const run = randomBytes(3).toString('hex');
  process.env.PERTOKEN_TEST_RUN = run;
  return async () => {
    if (!(await canReach(DATABASE_URL, 1000))) return;
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        `select nspname as name from pg_namespace where nspname like $1`,
        [`pertoken\\_%\\_${run}\\_%`],
      );
      for (const { name } of rows) await client.query(`drop schema if exists "${name}" cascade`);
    } finally {
      await client.end();
    }
  };
}

/** A schema name that this run's teardown drops. */
export function testSchemaName(prefix: string): string {
  return `${prefix}_${process.env.PERTOKEN_TEST_RUN ?? 'norun'}_${randomBytes(5).toString('hex')}`;
}
