/**
 * `npm run bench:focus`: the FOCUS 1.2 export streams in bounded memory. Over one seeded ledger of
 * FOCUS_EVENTS (default 10M) events spanning 90 days, it exports a 1-day and a 30-day window
 * FOCUS_RUNS times (default 3) and the whole 90 days (every event) once, each in a fresh process
 * (focus-child.mjs) whose V8 old space is capped at FOCUS_HEAP_MB (default 128): an export that held
 * its rows would die of heap exhaustion, so finishing is the proof. Figures: peak RSS, and the peak
 * live heap (sampled after a forced GC every 100 chunks: garbage not yet collected is not memory
 * the export holds). The
 * baseline is the 1-day window in the same run: the 90-day export writes ~90× the rows.
 *
 * The ledger is the one `npm run bench:ledger-query` seeds (same directory, seed and marker), so
 * either benchmark reuses the other's data; FOCUS_RESEED=1 starts over.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPriceBook } from '../../dist/pricing/index.js';
import { seedLedger } from '../../dist/seed/index.js';
import { END, fmt, machine, percentile } from './common.mjs';

const EVENTS = Number(process.env.FOCUS_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.FOCUS_RUNS ?? 3);
const DIR = process.env.LEDGER_QUERY_DIR ?? join(tmpdir(), 'pertoken-ledger-query');
const SEED = { events: EVENTS, tenants: 200, models: 30, days: 90, seed: 1, end: END };
const MARK = JSON.stringify({ ...SEED, schema: 'rollups-v2', data: 'seed-v2' });
const CHILD = fileURLToPath(new URL('./focus-child.mjs', import.meta.url));
const HEAP_MB = Number(process.env.FOCUS_HEAP_MB ?? 128);
/** [days, runs]: the whole ledger once (it is the long one), the short windows for medians. */
const WINDOWS = [
  [1, RUNS],
  [30, RUNS],
  [90, 1],
];

const path = join(DIR, 'ledger.sqlite');
const markFile = join(DIR, 'seeded.json');
if (process.env.FOCUS_RESEED === '1' || !existsSync(markFile) || readFileSync(markFile, 'utf8') !== MARK) {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  console.error(`seeding ${fmt(EVENTS)} events into ${path} ...`);
  await seedLedger({ ...SEED, book: createPriceBook(), target: { kind: 'sqlite', path } });
  writeFileSync(markFile, MARK);
}

const results = [];
for (const [days, runs] of WINDOWS) {
  const from = new Date(END.getTime() - days * 86_400_000).toISOString();
  const samples = [];
  for (let run = 0; run < runs; run++) {
    const args = [`--max-old-space-size=${HEAP_MB}`, '--expose-gc', CHILD, path, from, END.toISOString()];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    samples.push(JSON.parse(out.trim().split('\n').pop()));
  }
  const median = (key) =>
    percentile(
      samples.map((s) => s[key]),
      0.5,
    );
  const row = {
    days,
    runs,
    rows: samples[0].rows,
    mb: samples[0].bytes / 2 ** 20,
    seconds: median('ms') / 1000,
    maxRssMb: median('maxRssMb'),
    peakHeapMb: median('peakHeapMb'),
    peakLiveHeapMb: median('peakLiveHeapMb'),
    rssRange: [Math.min(...samples.map((s) => s.maxRssMb)), Math.max(...samples.map((s) => s.maxRssMb))],
  };
  results.push(row);
  console.error(
    `${days} d: ${fmt(row.rows)} rows, ${row.mb.toFixed(0)} MB CSV, ${row.seconds.toFixed(1)} s, ` +
      `peak RSS ${row.maxRssMb.toFixed(0)} MB (heap ${row.peakHeapMb.toFixed(0)} MB, live ${row.peakLiveHeapMb.toFixed(0)} MB)`,
  );
}
const base = results[0];
const summary = {
  machine: machine(),
  events: EVENTS,
  heap_cap_mb: HEAP_MB,
  windows: results,
  rss_ratio_90d_vs_1d: results[results.length - 1].maxRssMb / base.maxRssMb,
  rows_ratio_90d_vs_1d: results[results.length - 1].rows / base.rows,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/focus.json', import.meta.url), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
