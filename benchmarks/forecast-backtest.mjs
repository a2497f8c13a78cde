/**
 * `node forecast-backtest.mjs` (after `npm run build` at the root; ~45 s): how well pertoken's month-end
 * forecast (`GET /api/v1/forecast`, dist/alerts/forecast.js) predicts, against the run-rate
 * baseline (spent so far ÷ elapsed share of the month) in the same run.
 *
 * Per seed (FORECAST_SEEDS, default 42,7,99), a synthetic ledger (SQLite, through the ledger's own
 * store) holds FORECAST_MONTHS + 1 months of hourly spend for six tenants with different shapes:
 * office-hours and weekday seasons, monthly growth or decline, day-to-day and hour-to-hour noise,
 * incident spikes, a launch that steps the level up mid-month, nightly batches. One event per
 * tenant and hour carries that hour's cost. The first month is history only; in each later month
 * the forecast runs as of the start of days 5, 10, 15, 20 and 25 for every tenant and is compared
 * with the month's actual total (known exactly from the generator): MAPE per checkpoint and
 * overall, and how often the actual fell inside the 80% interval (it should be near 80%).
 *
 * Ablation (same series, pure functions of dist/alerts/forecast-model.js, no ledger): the level
 * window (7 / 14 / 28 days) and two trend terms the shipped model leaves out, so the choice can be
 * re-checked. Nothing here asserts; the summaries go to results/forecast-backtest.json.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forecastSpend } from '../dist/alerts/forecast.js';
import { firstActive, LOOKBACK_HOURS, seasonalMedian } from '../dist/alerts/forecast-model.js';
import { createSqliteStore } from '../dist/ledger/index.js';
import { seededRandom } from '../dist/random.js';
import { machine } from './ledger/common.mjs';

const MONTHS = Number(process.env.FORECAST_MONTHS ?? 5);
const SEEDS = (process.env.FORECAST_SEEDS ?? '42,7,99').split(',').map(Number);
const START = Date.UTC(2026, 0, 1);
const END = Date.UTC(2026, MONTHS + 1, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CHECKPOINTS = [5, 10, 15, 20, 25];

/**
 * Tenant shapes. level: mean USD/h in January; growth: per month, compounding hour by hour;
 * weekend: weekend level ÷ weekday level; peak: office hours (09–18 UTC) ÷ other hours;
 * daySd / hourSd: lognormal noise of a day's and an hour's level; spikes: share of days with a
 * 3-hour incident at ×spikeX; step: [time, factor] from then on; batch: USD/h added 02–04 UTC.
 */
const TENANTS = [
  { id: 'steady', level: 4, growth: 0, weekend: 0.4, peak: 2.5, daySd: 0.1, hourSd: 0.3 },
  { id: 'growing', level: 2, growth: 0.2, weekend: 0.5, peak: 2, daySd: 0.12, hourSd: 0.3 },
  { id: 'shrinking', level: 6, growth: -0.1, weekend: 0.3, peak: 3, daySd: 0.1, hourSd: 0.25 },
  { id: 'spiky', level: 3, growth: 0.05, weekend: 0.6, peak: 2, daySd: 0.2, hourSd: 0.4, spikes: 0.05, spikeX: 8 },
  {
    id: 'launch',
    level: 1.5,
    growth: 0.03,
    weekend: 0.5,
    peak: 2,
    daySd: 0.1,
    hourSd: 0.3,
    step: [Date.UTC(2026, 2, 15), 1.8],
  },
  { id: 'batch', level: 1, growth: 0.08, weekend: 1, peak: 1, daySd: 0.3, hourSd: 0.2, batch: 12 },
];

/** Hourly costs (nano-USD bigint) per tenant, and each tenant's exact monthly totals. */
function generate(seed) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const lognormal = (sd) => Math.exp(sd * normal() - (sd * sd) / 2);
  const hours = (END - START) / HOUR;
  const series = new Map();
  const totals = new Map();
  for (const t of TENANTS) {
    const costs = new Array(hours);
    let dayFactor = 1;
    let spikeStart = -1;
    for (let i = 0; i < hours; i++) {
      const time = START + i * HOUR;
      const d = new Date(time);
      if (d.getUTCHours() === 0) {
        dayFactor = lognormal(t.daySd);
        spikeStart = t.spikes && random() < t.spikes ? Math.floor(random() * 21) : -1;
      }
      const spike = spikeStart >= 0 && d.getUTCHours() >= spikeStart && d.getUTCHours() < spikeStart + 3;
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      const office = d.getUTCHours() >= 9 && d.getUTCHours() < 18;
      const shape = (weekend ? t.weekend : 1) * (office ? t.peak : 1);
      // Normalise the shape so `level` is the mean: 5/7 weekdays, 9/24 office hours.
      const mean = ((5 + 2 * t.weekend) / 7) * ((9 * t.peak + 15) / 24);
      let usd =
        (t.level * (1 + t.growth) ** ((time - START) / (30 * DAY)) * shape * dayFactor * lognormal(t.hourSd)) / mean;
      if (spike) usd *= t.spikeX;
      if (t.step && time >= t.step[0]) usd *= t.step[1];
      if (t.batch && d.getUTCHours() >= 2 && d.getUTCHours() < 4) usd += t.batch * dayFactor;
      const nano = BigInt(Math.round(usd * 1e9));
      costs[i] = nano;
      const month = d.toISOString().slice(0, 7);
      const key = `${t.id}/${month}`;
      totals.set(key, (totals.get(key) ?? 0n) + nano);
    }
    series.set(t.id, costs);
  }
  return { series, totals };
}

function event(tenant, time, nano, n) {
  return {
    id: `bt-${tenant}-${n}`,
    time: new Date(time),
    origin: 'api',
    source: 'backtest',
    tenant,
    project: null,
    user: null,
    feature: null,
    key_id: null,
    trace_id: null,
    tags: {},
    provider: 'openai',
    requested_model: 'gpt-4o-mini',
    model: 'gpt-4o-mini',
    route: '/v1/chat/completions',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: null,
    ttft_ms: null,
    buckets: { input: 1000, output: 100 },
    usage_source: 'provider',
    cost_nano: nano,
    price_ref: null,
    raw_usage: null,
    usage_issues: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Ablation: the model's pieces recombined on the in-memory series (nano-USD floats).

/** seasonal median × level over the last `levelDays`, optionally × exp(g × weeks from the level's centre). */
function variant(levelDays, trend) {
  return (s, endMs) => {
    const n = s.hours.length;
    const first = firstActive(s) ?? n;
    const base = (i) => seasonalMedian(s, i, first) ?? 0;
    let actual = 0;
    let expected = 0;
    for (let i = Math.max(first, n - levelDays * 24); i < n; i++) {
      actual += s.hours[i];
      expected += base(i);
    }
    const level = expected > 0 ? Math.min(2, Math.max(0.5, actual / expected)) : 1;
    const g = trend ? trend(s, first) : 0;
    const centre = s.startMs + (n - levelDays * 12) * HOUR;
    let sum = 0;
    for (let i = n; s.startMs + i * HOUR < endMs; i++)
      sum += base(i) * level * Math.exp((g * (s.startMs + (i + 0.5) * HOUR - centre)) / (168 * HOUR));
    return sum;
  };
}

function weeklyTotals(s, weeks) {
  const n = s.hours.length;
  const totals = [];
  for (let w = weeks; w >= 1; w--)
    totals.push(s.hours.slice(n - w * 168, n - (w - 1) * 168).reduce((a, b) => a + b, 0));
  return totals;
}

/** Theil–Sen slope of the last 4 weekly totals ÷ their mean, clamped ±25% a week (the first version). */
function theilSen(s, first) {
  if (s.hours.length - 4 * 168 < first) return 0;
  const t = weeklyTotals(s, 4);
  const slopes = [];
  for (let a = 0; a < t.length; a++) for (let b = a + 1; b < t.length; b++) slopes.push((t[b] - t[a]) / (b - a));
  slopes.sort((a, b) => a - b);
  const m = mean(t);
  const slope = (slopes[2] + slopes[3]) / 2;
  return m > 0 ? Math.log(1 + Math.min(0.25, Math.max(-0.25, slope / m))) : 0;
}

/** Log-linear fit of the last 5 weekly totals, used only when |t| > 3. */
function gatedLogTrend(s, first) {
  if (s.hours.length - 5 * 168 < first) return 0;
  const y = weeklyTotals(s, 5).map((v) => Math.log(Math.max(v, 1)));
  const x = y.map((_, i) => i);
  const mx = mean(x);
  const my = mean(y);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < y.length; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const b = sxy / sxx;
  const sse = y.reduce((acc, yi, i) => acc + (yi - my - b * (x[i] - mx)) ** 2, 0);
  const se = Math.sqrt(sse / (y.length - 2) / sxx);
  return Math.abs(b / se) > 3 ? Math.min(0.25, Math.max(-0.25, b)) : 0;
}

const VARIANTS = {
  'level 7 d': variant(7),
  'level 14 d (shipped)': variant(14),
  'level 28 d': variant(28),
  'level 14 d + Theil–Sen weekly trend': variant(14, theilSen),
  'level 14 d + log-linear trend if t > 3': variant(14, gatedLogTrend),
};

const usd = (text) => Number(text);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const ape = (x, actual) => Math.abs(x - actual) / actual;

/** One seed: a fresh ledger, every forecast through the store, and the ablation on the arrays. */
async function backtest(seed, rows, timings) {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-forecast-'));
  const store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  try {
    await store.migrate();
    const { series, totals } = generate(seed);
    let n = 0;
    for (const [tenant, costs] of series) {
      const events = costs.map((nano, i) => event(tenant, START + i * HOUR + 30 * 60_000, nano, n++));
      for (let i = 0; i < events.length; i += 5000) await store.insertEvents(events.slice(i, i + 5000));
    }
    for (let m = 1; m <= MONTHS; m++) {
      const monthStart = Date.UTC(2026, m, 1);
      const monthEnd = Date.UTC(2026, m + 1, 1);
      const month = new Date(monthStart).toISOString().slice(0, 7);
      for (const day of CHECKPOINTS) {
        const at = new Date(monthStart + (day - 1) * DAY);
        for (const t of TENANTS) {
          const t0 = performance.now();
          const f = await forecastSpend({ store, scope: { tenant: t.id }, period: 'month', at, budgets: [] });
          timings.push(performance.now() - t0);
          const actual = Number(totals.get(`${t.id}/${month}`)) / 1e9;
          const spent = usd(f.spent_usd);
          // The ablation sees the same 5 weeks before `at` that the forecast reads.
          const atIndex = (at.getTime() - START) / HOUR;
          const costs = series.get(t.id);
          // Hours before the ledger's first are empty, as the store reports them.
          const hours = Array.from({ length: LOOKBACK_HOURS }, (_, i) =>
            Number(costs[atIndex - LOOKBACK_HOURS + i] ?? 0n),
          );
          const s = { startMs: at.getTime() - LOOKBACK_HOURS * HOUR, hours, partial: 0, atMs: at.getTime() };
          const variants = {};
          for (const [name, fn] of Object.entries(VARIANTS)) variants[name] = spent + fn(s, monthEnd) / 1e9;
          rows.push({
            seed,
            month,
            day,
            tenant: t.id,
            method: f.method,
            actual,
            projected: usd(f.projected_usd),
            low: usd(f.low_usd),
            high: usd(f.high_usd),
            runRate: (spent * (monthEnd - monthStart)) / (at.getTime() - monthStart),
            daysLeft: (monthEnd - at.getTime()) / DAY,
            variants,
          });
        }
      }
    }
    return n;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const rows = [];
  const timings = [];
  let events = 0;
  for (const seed of SEEDS) events += await backtest(seed, rows, timings);

  const summarise = (rs) => ({
    n: rs.length,
    mape: mean(rs.map((r) => ape(r.projected, r.actual))),
    runRateMape: mean(rs.map((r) => ape(r.runRate, r.actual))),
    coverage: mean(rs.map((r) => (r.actual >= r.low && r.actual <= r.high ? 1 : 0))),
    // The same interval without the level term: half-width ÷ √(1 + n/7) (seasonal forecasts).
    sqrtNCoverage: mean(
      rs
        .filter((r) => r.method === 'seasonal')
        .map((r) => Math.abs(r.actual - r.projected) <= (r.high - r.projected) / Math.sqrt(1 + r.daysLeft / 7)),
    ),
  });
  const byDay = CHECKPOINTS.map((day) => ({ day, ...summarise(rows.filter((r) => r.day === day)) }));
  const byTenant = TENANTS.map((t) => ({ tenant: t.id, ...summarise(rows.filter((r) => r.tenant === t.id)) }));
  const overall = summarise(rows);
  const ablation = Object.keys(VARIANTS).map((name) => ({
    name,
    overall: mean(rows.map((r) => ape(r.variants[name], r.actual))),
    byDay: CHECKPOINTS.map((day) =>
      mean(rows.filter((r) => r.day === day).map((r) => ape(r.variants[name], r.actual))),
    ),
  }));
  timings.sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    seeds: SEEDS,
    months: MONTHS,
    events,
    overall,
    byDay,
    byTenant,
    ablation,
    forecastMs: { p50: timings[timings.length >> 1], max: timings[timings.length - 1] },
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/forecast-backtest.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);

  const line = (label, s) =>
    `| ${label} | ${s.n} | **${pct(s.mape)}** | ${pct(s.runRateMape)} | ${(s.runRateMape / s.mape).toFixed(2)}× | ${pct(s.coverage)} | ${pct(s.sqrtNCoverage)} |`;
  console.log(
    `${events} events, seeds ${SEEDS.join(', ')}: ${MONTHS} months × ${TENANTS.length} tenants × 5 checkpoints each\n`,
  );
  console.log(
    '| checkpoint | forecasts | pertoken MAPE | run-rate MAPE | run-rate ÷ pertoken | actual inside 80% interval | inside, √n term only |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of byDay) console.log(line(`day ${s.day}`, s));
  console.log(line('overall', overall));
  console.log('\n| tenant | pertoken MAPE | run-rate MAPE | inside 80% |');
  console.log('|---|---:|---:|---:|');
  for (const s of byTenant)
    console.log(`| ${s.tenant} | ${pct(s.mape)} | ${pct(s.runRateMape)} | ${pct(s.coverage)} |`);
  console.log(`\n| ablation (MAPE) | overall | ${CHECKPOINTS.map((d) => `day ${d}`).join(' | ')} |`);
  console.log(`|---|---:|${CHECKPOINTS.map(() => '---:').join('|')}|`);
  for (const a of ablation) console.log(`| ${a.name} | ${pct(a.overall)} | ${a.byDay.map(pct).join(' | ')} |`);
  console.log(`| run rate | ${pct(overall.runRateMape)} | ${byDay.map((d) => pct(d.runRateMape)).join(' | ')} |`);
  console.log(
    `\nforecast call (2 ledger queries + model): p50 ${result.forecastMs.p50.toFixed(1)} ms, max ${result.forecastMs.max.toFixed(1)} ms`,
  );
}

await main();
