/**
 * `npm run bench:ledger-ingest`: how fast events get into the SQLite ledger, three ways, on the
 * same generated events, side by side in one run:
 *   seed    pertoken's bulk loader (prepared statements, 50k-row transactions, rollups summed in memory)
 *   direct  store.insertEvents() in-process, 5000-event batches: the ledger's idempotent insert path
 *           as the ingestion API uses it (the same prepared statements on SQLite), without HTTP
 *           and JSON
 *   api     POST /v1/usage/events to a `pertoken serve` process: JSON, zod validation, pricing,
 *           budget hooks, insertEvents — what a client sending usage sees
 * plus the seed loader and store.insertEvents() into PostgreSQL when PostgreSQL is reachable.
 * Writes results/ingest.json next to this file. Sizes: LEDGER_SEED_EVENTS, LEDGER_INGEST_EVENTS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import pg from 'pg';
import { createPostgresStore, createSqliteStore } from '../../dist/ledger/index.js';
import { rowToEvent } from '../../dist/ledger/rows.js';
import { createPriceBook } from '../../dist/pricing/index.js';
import { generateSeedRows, seedLedger } from '../../dist/seed/index.js';
import { END, canReach, fmt, machine, startServe } from './common.mjs';

const SEED_EVENTS = Number(process.env.LEDGER_SEED_EVENTS ?? 2_000_000);
const INGEST_EVENTS = Number(process.env.LEDGER_INGEST_EVENTS ?? 300_000);
const BATCH = Number(process.env.LEDGER_INGEST_BATCH ?? 5000);
const CONCURRENCY = Number(process.env.LEDGER_INGEST_CONCURRENCY ?? 4);
const PG_URL = process.env.LEDGER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = 'bench-admin-token';

const book = createPriceBook();
const work = mkdtempSync(join(tmpdir(), 'pertoken-ledger-ingest-'));
const results = { machine: machine(), settings: { SEED_EVENTS, INGEST_EVENTS, BATCH, CONCURRENCY }, phases: {} };
// 10M events over 90 days is ~4.6k events per hour; keep that density whatever the size.
const days = (events) => Math.max(1, Math.round((90 * events) / 10_000_000));

function seedOptions(events, seed) {
  return { events, tenants: 200, models: 30, days: days(events), seed, end: END };
}

async function phaseSeedSqlite() {
  const result = await seedLedger({
    ...seedOptions(SEED_EVENTS, 1),
    book,
    target: { kind: 'sqlite', path: join(work, 'seed.sqlite') },
  });
  return {
    events: result.inserted,
    seconds: result.elapsedMs / 1000,
    eventsPerSecond: result.inserted / (result.elapsedMs / 1000),
  };
}

async function phaseSeedPostgres() {
  if (!(await canReach(PG_URL))) return { skipped: `PostgreSQL at ${new URL(PG_URL).host} is unreachable` };
  const schema = `pertoken_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
    const result = await seedLedger({
      ...seedOptions(SEED_EVENTS, 1),
      book,
      target: { kind: 'postgres', url: PG_URL, schema },
    });
    return {
      events: result.inserted,
      seconds: result.elapsedMs / 1000,
      eventsPerSecond: result.inserted / (result.elapsedMs / 1000),
    };
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

/** The generated rows as ledger events (for the direct phase) and as event-API JSON bodies. */
function ingestData() {
  const events = [];
  for (const rows of generateSeedRows(seedOptions(INGEST_EVENTS, 2), book))
    for (const row of rows) events.push(rowToEvent(row));
  const bodies = [];
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH).map((e) => ({
      id: e.id,
      time: e.time.toISOString(),
      source: 'bench',
      tenant: e.tenant,
      ...(e.project ? { project: e.project } : {}),
      ...(e.user ? { user: e.user } : {}),
      ...(e.feature ? { feature: e.feature } : {}),
      ...(e.key_id ? { key_id: e.key_id } : {}),
      provider: e.provider,
      model: e.model,
      requested_model: e.requested_model,
      route: e.route,
      status: e.status,
      streamed: e.streamed,
      ...(e.latency_ms !== null ? { latency_ms: e.latency_ms } : {}),
      tokens: e.buckets,
    }));
    bodies.push(JSON.stringify({ events: batch }));
  }
  return { events, bodies };
}

async function phaseDirect(events) {
  const store = createSqliteStore({ path: join(work, 'direct.sqlite') });
  await store.migrate();
  const started = performance.now();
  for (let i = 0; i < events.length; i += BATCH) await store.insertEvents(events.slice(i, i + BATCH));
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return { events: events.length, seconds, eventsPerSecond: events.length / seconds };
}

/** store.insertEvents() into PostgreSQL (Kysely multi-row INSERT … RETURNING, rollup upserts). */
async function phaseDirectPostgres(events) {
  if (!(await canReach(PG_URL))) return { skipped: `PostgreSQL at ${new URL(PG_URL).host} is unreachable` };
  const schema = `pertoken_bench_direct_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
    const store = createPostgresStore({ url: PG_URL, schema, poolSize: 2 });
    try {
      await store.migrate();
      const started = performance.now();
      for (let i = 0; i < events.length; i += BATCH) await store.insertEvents(events.slice(i, i + BATCH));
      const seconds = (performance.now() - started) / 1000;
      return { events: events.length, seconds, eventsPerSecond: events.length / seconds };
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

async function phaseApi(bodies, total) {
  const dir = join(work, 'serve');
  mkdirSync(dir, { recursive: true });
  const server = await startServe(dir, { PERTOKEN_ADMIN_TOKEN: ADMIN });
  try {
    let next = 0;
    let accepted = 0;
    const post = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await request(`${server.url}/v1/usage/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
          body,
        });
        const reply = await res.body.json();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(reply).slice(0, 300)}`);
        if (reply.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(reply.rejected[0])}`);
        accepted += reply.accepted.length;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, post));
    const seconds = (performance.now() - started) / 1000;
    if (accepted !== total) throw new Error(`accepted ${accepted} of ${total}`);
    return { events: accepted, seconds, eventsPerSecond: accepted / seconds, concurrency: CONCURRENCY, batch: BATCH };
  } finally {
    await server.stop();
  }
}

try {
  console.error(`seed ${fmt(SEED_EVENTS)} events into SQLite ...`);
  results.phases.seedSqlite = await phaseSeedSqlite();
  console.error(`seed ${fmt(SEED_EVENTS)} events into PostgreSQL ...`);
  results.phases.seedPostgres = await phaseSeedPostgres();
  console.error(`generate ${fmt(INGEST_EVENTS)} events for direct and API ingestion ...`);
  const { events, bodies } = ingestData();
  console.error('direct store.insertEvents ...');
  results.phases.direct = await phaseDirect(events);
  console.error('direct store.insertEvents into PostgreSQL ...');
  results.phases.directPostgres = await phaseDirectPostgres(events);
  console.error(`POST /v1/usage/events x${CONCURRENCY} ...`);
  results.phases.api = await phaseApi(bodies, events.length);
  results.phases.api.ratioToDirect = results.phases.api.eventsPerSecond / results.phases.direct.eventsPerSecond;
  results.machine.loadavgAtEnd = machine().loadavgAtStart;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/ingest.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  const p = results.phases;
  const line = (name, r) =>
    r.skipped ? `| ${name} | skipped: ${r.skipped} | |` : `| ${name} | ${fmt(r.events)} | ${fmt(r.eventsPerSecond)} |`;
  console.log(
    [
      '| path | events | events/s |',
      '|---|---:|---:|',
      line('seed → SQLite', p.seedSqlite),
      line('seed → PostgreSQL', p.seedPostgres),
      line('store.insertEvents (SQLite)', p.direct),
      line('store.insertEvents (PostgreSQL)', p.directPostgres),
      line(`POST /v1/usage/events ×${CONCURRENCY} (SQLite)`, p.api),
    ].join('\n'),
  );
  console.log(`API / direct: ${p.api.ratioToDirect.toFixed(2)}   machine: ${JSON.stringify(results.machine)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
