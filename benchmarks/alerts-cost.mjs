/**
 * The cost figure of `bench:alerts` (alerts.mjs): one evaluation of every default detector on a
 * bulk-loaded seed ledger. The seed generator (dist/seed) makes the events; keyed requests get a
 * fingerprint (2% repeat the key's previous one: a retry) and one of two client addresses per key
 * (80/20), which the seed leaves empty, so the key-abuse and loop reads have real work. 23 budgets
 * are sized from the ledger itself. Each detector's `detect(ctx)` is timed on its own, ALERTS_RUNS
 * times, then once more with every ledger read timed (one at a time, as SQLite runs them anyway)
 * to name what dominates, then `AlertService.evaluate` (the lifecycle included) ALERTS_RUNS times.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlertService,
  createPriceBook,
  createSqliteStore,
  defaultDetectors,
  generateSeedRows,
  openAlertStore,
  openBulkLoader,
  parseConfig,
} from './alerts-dist.mjs';
import { DAY, HOUR, MINUTE, hex32, seededRandom } from './alerts-traffic.mjs';
import { fmt, percentile } from './ledger/common.mjs';

const EVENTS = Number(process.env.ALERTS_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.ALERTS_RUNS ?? 3);
const KEEP = process.env.ALERTS_KEEP === '1';
const DIR = process.env.ALERTS_DIR ?? join(tmpdir(), 'pertoken-bench-alerts');
/** The instant evaluated: a Thursday afternoon, 40 min into the hour; the seed ends 20 min later. */
const AT = new Date('2026-10-29T16:40:00Z');
/** 35 days: the anomaly detector's whole read window, (weeks + 1) × 7 days. */
const SEED = { events: EVENTS, tenants: 50, models: 12, days: 35, seed: 1, end: new Date('2026-10-29T17:00:00Z') };
const median = (xs) => percentile(xs, 0.5);
const log = { info() {}, warn() {}, error: (obj, msg) => console.error(`  ${msg}: ${obj?.err?.message ?? ''}`) };

async function seedLedger(path, book) {
  const loader = await openBulkLoader({ kind: 'sqlite', path });
  const random = seededRandom(11);
  const addresses = new Map();
  const lastHash = new Map();
  const started = performance.now();
  let written = 0;
  try {
    for (const rows of generateSeedRows(SEED, book)) {
      for (const row of rows) {
        if (row.key_id === null) continue;
        let pair = addresses.get(row.key_id);
        if (pair === undefined) {
          const a = addresses.size;
          pair = [`10.${a >> 8}.${a & 255}.1`, `10.${a >> 8}.${a & 255}.2`];
          addresses.set(row.key_id, pair);
        }
        row.client_address = pair[random() < 0.8 ? 0 : 1];
        const previous = lastHash.get(row.key_id);
        row.request_hash = previous !== undefined && random() < 0.02 ? previous : hex32(random);
        lastHash.set(row.key_id, row.request_hash);
      }
      await loader.write(rows);
      written += rows.length;
      if (written % 1_000_000 < rows.length)
        console.error(`  ${fmt(written)} events, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    await loader.close();
  }
  return { seconds: (performance.now() - started) / 1000, keys: addresses.size };
}

/**
 * Budgets, each 1.4× its scope's spend in the 30 days before AT pro rata to its period: the 10
 * biggest tenants (month), 5 projects (week), 5 keys (day), 3 features (month). Default thresholds.
 */
async function budgetsFrom(store) {
  const top = async (groupBy, n) => {
    const rows = await store.queryCosts({ from: new Date(AT.getTime() - 30 * DAY), to: AT, groupBy, filter: {} });
    return rows
      .filter((r) => groupBy.every((g) => r.keys[g] != null))
      .sort((a, b) => (b.net_nano > a.net_nano ? 1 : b.net_nano < a.net_nano ? -1 : 0))
      .slice(0, n);
  };
  const out = [];
  const add = (scope, period, nano, share) =>
    out.push({
      id: `bench-${out.length}`,
      scope,
      period,
      tz: 'UTC',
      limit_nano: (nano * BigInt(Math.round(share * 1400))) / 1000n,
      action: 'alert_only',
      downgrade_to: null,
      downgrade_at: 1,
      thresholds: [0.5, 0.8, 1],
      fail_mode: 'open',
      origin: 'config',
      created_at: new Date(0),
      updated_at: new Date(0),
    });
  for (const r of await top(['tenant'], 10)) add({ tenant: r.keys.tenant }, 'month', r.net_nano, 1);
  for (const r of await top(['tenant', 'project'], 5))
    add({ tenant: r.keys.tenant, project: r.keys.project }, 'week', r.net_nano, 7 / 30);
  for (const r of await top(['tenant', 'key'], 5))
    add({ tenant: r.keys.tenant, key: r.keys.key }, 'day', r.net_nano, 1 / 30);
  for (const r of await top(['tenant', 'feature'], 3))
    add({ tenant: r.keys.tenant, feature: r.keys.feature }, 'month', r.net_nano, 1);
  return out;
}

function spanText(ms) {
  if (ms >= DAY) return `${+(ms / DAY).toFixed(1)} d`;
  if (ms >= HOUR) return `${+(ms / HOUR).toFixed(1)} h`;
  return `${+(ms / MINUTE).toFixed(1)} min`;
}

/** What one ledger read was, coarse enough that a detector's reads group into a few lines. */
function describeRead(method, args) {
  const q = args[0];
  if (q === null || typeof q !== 'object' || !(q.from instanceof Date)) return method;
  const by = Array.isArray(q.groupBy) ? ` by ${q.groupBy.join('×') || 'nothing'}` : '';
  const filter = q.filter && Object.keys(q.filter).length > 0 ? ` where ${Object.keys(q.filter).join(',')}` : '';
  return `${method}${by} over ${spanText(q.to - q.from)}${filter}`;
}

/** The store with every method call timed and run one at a time. */
function timedStore(store, reads) {
  let chain = Promise.resolve();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args) => {
        const run = chain.then(async () => {
          const started = performance.now();
          try {
            return await value.apply(target, args);
          } finally {
            reads.push({ read: describeRead(String(prop), args), ms: performance.now() - started });
          }
        });
        chain = run.catch(() => undefined);
        return run;
      };
    },
  });
}

/** Reads grouped by what they were, the most expensive first. */
function breakdown(reads) {
  const byRead = new Map();
  for (const r of reads) {
    const e = byRead.get(r.read) ?? { read: r.read, calls: 0, ms: 0, maxMs: 0 };
    e.calls++;
    e.ms += r.ms;
    e.maxMs = Math.max(e.maxMs, r.ms);
    byRead.set(r.read, e);
  }
  return {
    reads: reads.length,
    readMs: reads.reduce((a, r) => a + r.ms, 0),
    slowestReadMs: Math.max(0, ...reads.map((r) => r.ms)),
    top: [...byRead.values()].sort((a, b) => b.ms - a.ms).slice(0, 5),
  };
}

export async function cost() {
  const book = createPriceBook();
  const config = parseConfig({}).alerts;
  mkdirSync(DIR, { recursive: true });
  const path = join(DIR, 'ledger.sqlite');
  const markFile = join(DIR, 'seeded.json');
  const mark = JSON.stringify({ ...SEED, data: 'alerts-v1' });
  // How long the load took is kept beside a kept ledger, so a run that reuses it still reports it.
  const loadFile = join(DIR, 'load.json');
  if (!existsSync(markFile) || readFileSync(markFile, 'utf8') !== mark) {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    console.error(`cost: seeding ${fmt(EVENTS)} events into ${path} ...`);
    writeFileSync(loadFile, JSON.stringify(await seedLedger(path, book)));
    writeFileSync(markFile, mark);
  }
  const load = existsSync(loadFile) ? JSON.parse(readFileSync(loadFile, 'utf8')) : null;
  const store = createSqliteStore({ path, checkpoint: 'inline' });
  const alertDir = mkdtempSync(join(tmpdir(), 'pertoken-bench-alerts-store-'));
  const alertStore = openAlertStore({ sqlitePath: join(alertDir, 'alerts.sqlite') });
  try {
    await store.migrate();
    await alertStore.migrate();
    const budgets = await budgetsFrom(store);
    const detectors = defaultDetectors(book);
    const ctx = { at: AT, store, config, budgets };
    const samples = new Map(detectors.map((d) => [d.name, []]));
    const findings = new Map();
    const totals = [];
    for (let run = 0; run < RUNS; run++) {
      let total = 0;
      for (const d of detectors) {
        const started = performance.now();
        const found = await d.detect(ctx);
        const ms = performance.now() - started;
        total += ms;
        samples.get(d.name).push(ms);
        findings.set(
          d.name,
          found.map((f) => ({ kind: f.kind, severity: f.severity, scope: f.scope, summary: f.summary })),
        );
      }
      totals.push(total);
      console.error(`cost: run ${run + 1}: ${fmt(total)} ms`);
    }
    const reads = {};
    for (const d of detectors) {
      const list = [];
      await d.detect({ ...ctx, store: timedStore(store, list) });
      reads[d.name] = breakdown(list);
    }
    const service = new AlertService({
      ledger: store,
      store: alertStore,
      config,
      detectors,
      sinks: [],
      budgets: async () => budgets,
      log,
    });
    const evaluations = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const result = await service.evaluate(AT);
      evaluations.push(performance.now() - started);
      if (result.failed.length > 0) console.error('cost: failed detectors', result.failed);
    }
    await service.close();
    return {
      events: EVENTS,
      seed: { ...SEED, end: SEED.end.toISOString() },
      at: AT.toISOString(),
      load,
      budgets: budgets.length,
      runs: RUNS,
      detectors: detectors.map((d) => ({
        name: d.name,
        medianMs: median(samples.get(d.name)),
        samplesMs: samples.get(d.name),
        findings: findings.get(d.name),
        ...reads[d.name],
      })),
      totalMs: { median: median(totals), samples: totals },
      serviceEvaluateMs: { median: median(evaluations), samples: evaluations },
    };
  } finally {
    await store.close();
    await alertStore.close();
    rmSync(alertDir, { recursive: true, force: true });
    if (!KEEP) rmSync(DIR, { recursive: true, force: true });
  }
}
