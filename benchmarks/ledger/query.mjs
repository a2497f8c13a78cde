/**
 * `npm run bench:ledger-query`: the 30-day cost report grouped by tenant × model × day over a
 * ledger of LEDGER_QUERY_EVENTS (default 10M) seeded events, p50/p95 over LEDGER_QUERY_RUNS runs,
 * on SQLite and (when reachable) PostgreSQL. Baseline side by side: the same query answered from
 * raw events (`strategy: 'raw'`), which is what the rollups save. For context, fewer runs of two
 * shapes the daily rollup cannot answer: grouped by key (hourly rollup) and one user's 30 days
 * (raw events through the user index).
 *
 * Seeding 10M events takes minutes, so the data is kept between runs: SQLite under
 * LEDGER_QUERY_DIR (default $TMPDIR/pertoken-ledger-query), PostgreSQL in schema
 * pertoken_bench_query; a marker table records what was seeded. LEDGER_QUERY_RESEED=1 starts over.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresStore, createSqliteStore } from '../../dist/ledger/index.js';
import { createPriceBook } from '../../dist/pricing/index.js';
import { seedLedger } from '../../dist/seed/index.js';
import { END, canReach, fmt, machine, percentile } from './common.mjs';

const EVENTS = Number(process.env.LEDGER_QUERY_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.LEDGER_QUERY_RUNS ?? 20);
const RAW_RUNS = Number(process.env.LEDGER_QUERY_RAW_RUNS ?? 3);
const DIR = process.env.LEDGER_QUERY_DIR ?? join(tmpdir(), 'pertoken-ledger-query');
const PG_URL = process.env.LEDGER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_SCHEMA = 'pertoken_bench_query';
const DIALECTS = (process.env.LEDGER_QUERY_DIALECTS ?? 'sqlite,postgres').split(',');
const SEED = { events: EVENTS, tenants: 200, models: 30, days: 90, seed: 1, end: END };
// data: seed-v2 = `seed:` ids and `seed-` names; a ledger seeded before is loaded again.
const MARK = JSON.stringify({ ...SEED, schema: 'rollups-v2', data: 'seed-v2' });
/** The comparison run: PostgreSQL's stock planner settings (the ledger pool sets 32MB and 1.1). */
const STOCK_SETTINGS = '-c work_mem=4MB -c random_page_cost=4';

function withOptions(url, options) {
  const parsed = new URL(url);
  parsed.searchParams.set('options', options);
  return parsed.toString();
}
/** The user with the most events in the range (the worst case of a per-user report). */
const USER_SQL =
  'select user_id from events where user_id is not null and time_ms >= ? and time_ms < ? group by user_id order by count(*) desc limit 1';

const SIDE_RUNS = Number(process.env.LEDGER_QUERY_SIDE_RUNS ?? 5);
const FROM = new Date(END.getTime() - 30 * 86_400_000);
const query = { from: FROM, to: END, groupBy: ['tenant', 'model', 'day'], filter: {} };
/** The hourly rollup's shape: `key` is not in the daily one. */
const byKey = { from: FROM, to: END, groupBy: ['tenant', 'key', 'day'], filter: {} };
/** Raw events only (no rollup keeps the user): one of the busiest users, through events_user_time_idx. */
const oneUser = (user) => ({ from: FROM, to: END, groupBy: ['model', 'day'], filter: { user } });

async function time(store, q, strategy, runs) {
  const samples = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    rows = (await store.queryCosts(q, strategy)).length;
    samples.push(performance.now() - started);
  }
  return {
    runs,
    rows,
    p50_ms: percentile(samples, 0.5),
    p95_ms: percentile(samples, 0.95),
    min_ms: Math.min(...samples),
  };
}

async function measure(store, user) {
  await time(store, query, 'auto', 2); // warm caches and the JIT
  const rollup = await time(store, query, 'auto', RUNS);
  const raw = await time(store, query, 'raw', RAW_RUNS);
  const hourlyByKey = await time(store, byKey, 'auto', SIDE_RUNS);
  const userRaw = await time(store, oneUser(user), 'auto', SIDE_RUNS);
  return { rollup, raw, speedup_p50: raw.p50_ms / rollup.p50_ms, hourlyByKey, userRaw: { user, ...userRaw } };
}

async function sqlitePhase(book) {
  const path = join(DIR, 'ledger.sqlite');
  const markFile = join(DIR, 'seeded.json');
  let seedSeconds = null;
  if (process.env.LEDGER_QUERY_RESEED === '1' || !existsSync(markFile) || readFileSync(markFile, 'utf8') !== MARK) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    console.error(`seeding ${fmt(EVENTS)} events into ${path} ...`);
    const result = await seedLedger({ ...SEED, book, target: { kind: 'sqlite', path }, onProgress: progress });
    seedSeconds = result.elapsedMs / 1000;
    writeFileSync(markFile, MARK);
  }
  const db = new Database(path, { readonly: true });
  const range = [query.from.getTime(), query.to.getTime()];
  const counts = {
    events: db.prepare('select count(*) n from events').get().n,
    hourlyRows: db.prepare('select count(*) n from rollup_hourly').get().n,
    hourlyRowsInRange: db
      .prepare('select count(*) n from rollup_hourly where hour_ms >= ? and hour_ms < ?')
      .get(...range).n,
    dailyRows: db.prepare('select count(*) n from rollup_daily').get().n,
    dailyRowsInRange: db.prepare('select count(*) n from rollup_daily where day_ms >= ? and day_ms < ?').get(...range)
      .n,
  };
  const user = db.prepare(USER_SQL).get(...range).user_id;
  db.close();
  const store = createSqliteStore({ path });
  try {
    return { ...counts, seedSeconds, ...(await measure(store, user)) };
  } finally {
    await store.close();
  }
}

async function postgresPhase(book) {
  if (!(await canReach(PG_URL))) return { skipped: `PostgreSQL at ${new URL(PG_URL).host} is unreachable` };
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    let seeded = null;
    try {
      seeded = (await admin.query(`select mark from ${PG_SCHEMA}.bench_seeded`)).rows[0]?.mark ?? null;
    } catch {
      seeded = null;
    }
    let seedSeconds = null;
    if (process.env.LEDGER_QUERY_RESEED === '1' || seeded !== MARK) {
      await admin.query(`drop schema if exists ${PG_SCHEMA} cascade`);
      await admin.query(`create schema ${PG_SCHEMA}`);
      console.error(`seeding ${fmt(EVENTS)} events into PostgreSQL schema ${PG_SCHEMA} ...`);
      const result = await seedLedger({
        ...SEED,
        book,
        target: { kind: 'postgres', url: PG_URL, schema: PG_SCHEMA },
        onProgress: progress,
      });
      seedSeconds = result.elapsedMs / 1000;
      await admin.query(`create table ${PG_SCHEMA}.bench_seeded (mark text)`);
      await admin.query(`insert into ${PG_SCHEMA}.bench_seeded values ($1)`, [MARK]);
    }
    // What autovacuum does in a running system: a fresh bulk load leaves the rollups' superseded
    // row versions (one per upsert of a key already written by an earlier batch) in the table and
    // no statistics. Measured before vacuum the 30-day query took ~360 ms instead of ~250 ms.
    for (const table of ['events', 'rollup_hourly', 'rollup_daily'])
      await admin.query(`vacuum analyze ${PG_SCHEMA}.${table}`);
    const one = async (sqlText, params = []) => Number((await admin.query(sqlText, params)).rows[0].n);
    const range = [query.from.getTime(), query.to.getTime()];
    const counts = {
      events: await one(`select count(*) n from ${PG_SCHEMA}.events`),
      hourlyRows: await one(`select count(*) n from ${PG_SCHEMA}.rollup_hourly`),
      hourlyRowsInRange: await one(
        `select count(*) n from ${PG_SCHEMA}.rollup_hourly where hour_ms >= $1 and hour_ms < $2`,
        range,
      ),
      dailyRows: await one(`select count(*) n from ${PG_SCHEMA}.rollup_daily`),
      dailyRowsInRange: await one(
        `select count(*) n from ${PG_SCHEMA}.rollup_daily where day_ms >= $1 and day_ms < $2`,
        range,
      ),
    };
    const user = (
      await admin.query(
        USER_SQL.replace('from events', `from ${PG_SCHEMA}.events`).replace('?', '$1').replace('?', '$2'),
        range,
      )
    ).rows[0].user_id;
    const store = createPostgresStore({ url: PG_URL, schema: PG_SCHEMA, poolSize: 2 });
    let measured;
    try {
      measured = await measure(store, user);
    } finally {
      await store.close();
    }
    // The same report at PostgreSQL's stock planner settings (see src/ledger/postgres/pool.ts for
    // the ledger pool's own): it then scans the whole daily rollup and hashes or sorts the range,
    // spilling to disk. Passed the way an operator would, in the URL's `options`.
    const stock = createPostgresStore({ url: withOptions(PG_URL, STOCK_SETTINGS), schema: PG_SCHEMA, poolSize: 2 });
    try {
      await time(stock, query, 'auto', 2);
      measured.rollupStock = { settings: STOCK_SETTINGS, ...(await time(stock, query, 'auto', RUNS)) };
    } finally {
      await stock.close();
    }
    return { ...counts, seedSeconds, ...measured };
  } finally {
    await admin.end();
  }
}

let lastProgress = 0;
function progress(p) {
  const now = performance.now();
  if (now - lastProgress < 10_000 && p.written < p.total) return;
  lastProgress = now;
  console.error(`  ${fmt(p.written)}/${fmt(p.total)} (${fmt((p.written * 1000) / p.elapsedMs)}/s)`);
}

const book = createPriceBook();
const results = {
  machine: machine(),
  settings: { EVENTS, RUNS, RAW_RUNS, query: { ...query, from: query.from.toISOString(), to: query.to.toISOString() } },
  dialects: {},
};
for (const dialect of DIALECTS) {
  results.dialects[dialect] = dialect === 'sqlite' ? await sqlitePhase(book) : await postgresPhase(book);
}
results.machine.loadavgAtEnd = machine().loadavgAtStart;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/query.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
console.log(
  '| dialect | events | daily / hourly rows (30 d) | result rows | rollups p50 / p95 ms | raw events p50 ms | raw / rollups | by key (hourly) p50 ms | one user (raw) p50 ms |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(results.dialects)) {
  if (r.skipped) console.log(`| ${name} | skipped: ${r.skipped} | | | | | | | |`);
  else
    console.log(
      `| ${name} | ${fmt(r.events)} | ${fmt(r.dailyRowsInRange)} / ${fmt(r.hourlyRowsInRange)} | ${r.rollup.rows} | ${r.rollup.p50_ms.toFixed(0)} / ${r.rollup.p95_ms.toFixed(0)} | ${r.raw.p50_ms.toFixed(0)} | ${r.speedup_p50.toFixed(1)}× | ${r.hourlyByKey.p50_ms.toFixed(0)} | ${r.userRaw.p50_ms.toFixed(0)} |`,
    );
}
const pgStock = results.dialects.postgres?.rollupStock;
if (pgStock)
  console.log(
    `postgres with stock settings (${pgStock.settings}): p50 / p95 ${pgStock.p50_ms.toFixed(0)} / ${pgStock.p95_ms.toFixed(0)} ms`,
  );
console.log(`machine: ${JSON.stringify(results.machine)}`);
