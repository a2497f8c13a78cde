/**
 * `npm run bench:ledger`: the CPU cost of the ledger's per-request writes (one reservation, one
 * settled event) through pertoken's store (Kysely over better-sqlite3, group commit), next to the
 * same rows and the same SQL run as cached better-sqlite3 statements inside the same group commit.
 * Row mapping and rollup deltas are pertoken's own (dist/ledger), so only statement building and
 * execution differ. Requests arrive in waves of WAVE concurrent calls, as under load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore, GroupCommitter, newEventId, openSqliteDatabase } from '../dist/ledger/index.js';
import { rollupDeltas } from '../dist/ledger/rollups.js';
import { eventToRow, reservationToRow } from '../dist/ledger/rows.js';
import { ROLLUP_DIMS } from '../dist/ledger/schema.js';

const REQUESTS = Number(process.env.LEDGER_REQUESTS ?? 20_000);
const WAVE = Number(process.env.LEDGER_WAVE ?? 32);

const attribution = {
  tenant: 'bench',
  project: null,
  user: null,
  feature: 'search',
  key_id: null,
  trace_id: null,
  tags: {},
};

function reservation(id, time) {
  return {
    ...attribution,
    id,
    time,
    source: 'demo',
    provider: 'openai',
    requested_model: 'gpt-4o-mini',
    route: 'openai.chat',
    streamed: false,
    estimated_input_tokens: 40,
  };
}

function event(id, time) {
  return {
    ...attribution,
    id,
    time,
    origin: 'gateway',
    source: 'demo',
    provider: 'openai',
    requested_model: 'gpt-4o-mini',
    model: 'gpt-4o-mini-2024-07-18',
    route: 'openai.chat',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: 61,
    ttft_ms: null,
    buckets: { input: 38, output: 32 },
    usage_source: 'provider',
    cost_nano: 24900n,
    price_ref: 'genai-prices@0.1.8',
    raw_usage: { prompt_tokens: 38, completion_tokens: 32, total_tokens: 70 },
    usage_issues: [],
  };
}

/** The same writes as pertoken's applyWriteOps, on statements prepared once. */
function rawStore(path) {
  const db = openSqliteDatabase({ path });
  const insert = (table, columns, conflict) => {
    const stmt = db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${conflict}`,
    );
    return (row) => stmt.run(columns.map((c) => row[c] ?? null));
  };
  const sample = eventToRow(event(newEventId(), new Date()));
  const insertEvent = insert('events', Object.keys(sample), 'ON CONFLICT (id) DO NOTHING');
  const insertReservation = insert(
    'reservations',
    Object.keys(reservationToRow(reservation(newEventId(), new Date()))),
    'ON CONFLICT (id) DO NOTHING',
  );
  const deleteReservation = db.prepare('DELETE FROM reservations WHERE id = ?');
  const rollupColumns = Object.keys(rollupDeltas([sample])[0]);
  const sums = rollupColumns.filter((c) => c !== 'hour_ms' && !ROLLUP_DIMS.includes(c));
  const upsertRollup = insert(
    'rollup_hourly',
    rollupColumns,
    `ON CONFLICT (hour_ms, ${ROLLUP_DIMS.join(', ')}) DO UPDATE SET ${sums.map((c) => `${c} = rollup_hourly.${c} + excluded.${c}`).join(', ')}`,
  );
  const apply = db.transaction((ops) => {
    const fresh = [];
    for (const op of ops) {
      if (op.kind === 'reserve') insertReservation(op.row);
      else {
        if (insertEvent(op.row).changes === 1) fresh.push(op.row);
        deleteReservation.run(op.row.id);
      }
    }
    for (const delta of rollupDeltas(fresh)) upsertRollup(delta);
  });
  const committer = new GroupCommitter({ write: async (ops) => apply(ops) });
  return {
    reserve: (r) => committer.submit({ kind: 'reserve', row: reservationToRow(r) }),
    settle: (e) => committer.submit({ kind: 'settle', row: eventToRow(e) }),
    count: () => db.prepare('SELECT count(*) AS n FROM events').get().n,
  };
}

/**
 * Each step reserves a wave of new requests and settles the previous wave. `interleaved` submits
 * them alternately (reserve, settle, reserve, ...), as concurrent requests do under load, so a
 * group-commit batch holds many short runs of one kind; otherwise all reserves come first.
 */
async function measure(store, interleaved) {
  const waves = Math.ceil(REQUESTS / WAVE);
  const run = async (n) => {
    let previous = [];
    for (let w = 0; w <= n; w++) {
      const ids = w < n ? Array.from({ length: WAVE }, () => newEventId()) : [];
      const time = new Date();
      const reserves = ids.map((id) => () => store.reserve(reservation(id, time)));
      const settles = previous.map((id) => () => store.settle(event(id, time)));
      const ops = interleaved
        ? reserves.flatMap((r, i) => [r, settles[i]].filter(Boolean)).concat(settles.slice(reserves.length))
        : [...reserves, ...settles];
      await Promise.all(ops.map((op) => op()));
      previous = ids;
    }
  };
  await run(Math.ceil(waves / 10)); // warm-up
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run(waves);
  const used = process.cpuUsage(cpu);
  return {
    cpuMicrosPerRequest: Math.round((used.user + used.system) / (waves * WAVE)),
    wallMs: Math.round(performance.now() - start),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pertoken-ledger-'));
try {
  console.log(
    `ledger writes per request (reserve + settle), ${REQUESTS} requests in waves of ${WAVE}; CPU µs/request (wall ms):`,
  );
  for (const interleaved of [false, true]) {
    const kysely = createSqliteStore({ path: join(dir, `kysely-${interleaved}.sqlite`) });
    await kysely.migrate();
    const viaKysely = await measure(kysely, interleaved);
    await kysely.close();

    const migrated = createSqliteStore({ path: join(dir, `raw-${interleaved}.sqlite`) });
    await migrated.migrate();
    await migrated.close();
    const viaRaw = await measure(rawStore(join(dir, `raw-${interleaved}.sqlite`)), interleaved);
    const order = interleaved ? 'interleaved' : 'grouped    ';
    console.log(
      `  ${order}  pertoken store (Kysely): ${viaKysely.cpuMicrosPerRequest} (${viaKysely.wallMs})   cached better-sqlite3 statements: ${viaRaw.cpuMicrosPerRequest} (${viaRaw.wallMs})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
