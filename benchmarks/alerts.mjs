/**
 * `npm run bench:alerts` (after `npm run build` at the root; ~30 min on a 2-core VM, most of it
 * loading 10M events): three figures of the alert detectors, in one process, on SQLite ledgers in
 * the temp directory that are deleted afterwards.
 *
 * 1. cost (alerts-cost.mjs) — one evaluation of every default detector on a bulk-loaded ledger of
 *    ALERTS_EVENTS (default 10M) seeded events over 35 days, 50 tenants, 12 models, 23 budgets:
 *    per detector and in all, medians of ALERTS_RUNS (default 3), and the dominant ledger read.
 * 2. delay — the incidents of alerts-traffic.mjs after four weeks of seasonal history, evaluated
 *    every 5 simulated minutes from the incident's start (at :00, :30 and :45) through
 *    `AlertService.evaluate`: the first evaluation that opened (or escalated to) the expected
 *    alert, and what else opened within 4 hours.
 * 3. quiet — the same traffic and budgets with no incident: four weeks of history, then a month
 *    evaluated every hour (ALERTS_QUIET_STEP_MIN) through `AlertService.evaluate`: every alert
 *    opened, by kind and severity.
 *
 * ALERTS_PARTS=cost,delay,quiet selects parts (the others keep their figures in the results
 * file); ALERTS_KEEP=1 keeps the seeded ledger in ALERTS_DIR and reuses it; PERTOKEN_DIST loads
 * another build than ../dist (alerts-dist.mjs). Summaries go to results/alerts.json, tables to
 * stdout. Nothing asserts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cost } from './alerts-cost.mjs';
import {
  AlertService,
  DIST,
  createPriceBook,
  createSqliteStore,
  defaultDetectors,
  openAlertStore,
  parseConfig,
} from './alerts-dist.mjs';
import { HOUR, MINUTE, makeBudgets, scenarios, trafficEvents } from './alerts-traffic.mjs';
import { ROOT, fmt, machine, percentile } from './ledger/common.mjs';

const PARTS = new Set((process.env.ALERTS_PARTS ?? 'cost,delay,quiet').split(','));
const CONFIG = parseConfig({}).alerts;
const BOOK = createPriceBook();
const median = (xs) => percentile(xs, 0.5);
const quietLog = { info() {}, warn() {}, error: (obj, msg) => console.error(`  ${msg}: ${obj?.err?.message ?? ''}`) };

/** A fresh ledger and alert store holding `events`, with the alert service over them. */
async function pipeline(events, budgets) {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-bench-alerts-'));
  const ledger = createSqliteStore({ path: join(dir, 'ledger.sqlite'), checkpoint: 'inline' });
  const store = openAlertStore({ sqlitePath: join(dir, 'alerts.sqlite') });
  await ledger.migrate();
  await store.migrate();
  for (let i = 0; i < events.length; i += 5000) await ledger.insertEvents(events.slice(i, i + 5000));
  const service = new AlertService({
    ledger,
    store,
    config: CONFIG,
    detectors: defaultDetectors(BOOK),
    sinks: [],
    budgets: async () => budgets,
    log: quietLog,
  });
  const timings = [];
  return {
    timings,
    async evaluate(at) {
      const started = performance.now();
      const result = await service.evaluate(at);
      timings.push(performance.now() - started);
      if (result.failed.length > 0) console.error(`  ${at.toISOString()}: failed`, result.failed);
      return result;
    },
    async close() {
      await service.close();
      await ledger.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const HISTORY_START = Date.parse('2026-10-05T00:00:00Z'); // a Monday
const INCIDENT = Date.parse('2026-11-03T10:00:00Z'); // a Tuesday, four weeks and a day later
const HORIZON_MIN = 240;
const STEP_MIN = 5;
const OFFSETS_MIN = [0, 30, 45];
const BUDGETS = makeBudgets(
  Date.parse('2026-11-01T00:00:00Z'),
  Date.parse('2026-12-01T00:00:00Z'),
  Date.parse('2026-11-02T00:00:00Z'),
);

const alertLine = (a) => `${a.kind}/${a.severity} ${JSON.stringify(a.scope)}`;

async function delay() {
  const rows = [];
  for (const offset of OFFSETS_MIN) {
    const t0 = INCIDENT + offset * MINUTE;
    const end = Math.ceil((t0 + HORIZON_MIN * MINUTE) / HOUR) * HOUR + HOUR;
    for (const sc of scenarios(t0, BUDGETS)) {
      const events = [...trafficEvents(HISTORY_START, end, sc.replace ?? {}), ...(sc.extra?.(end) ?? [])];
      const p = await pipeline(events, BUDGETS);
      try {
        const before = (await p.evaluate(new Date(t0))).opened.map(alertLine);
        const first = new Map();
        const others = new Map();
        for (let m = STEP_MIN; m <= HORIZON_MIN; m += STEP_MIN) {
          const result = await p.evaluate(new Date(t0 + m * MINUTE));
          for (const a of [...result.opened, ...result.escalated]) {
            const hit = sc.expect.filter((e) => e.match(a) && !first.has(e.label));
            for (const e of hit) first.set(e.label, { minutes: m, alert: alertLine(a), summary: a.summary });
            if (hit.length === 0 && !others.has(alertLine(a))) others.set(alertLine(a), m);
          }
        }
        for (const e of sc.expect) {
          const found = first.get(e.label) ?? null;
          rows.push({
            scenario: sc.name,
            startOffsetMin: offset,
            expected: e.label,
            delayMin: found?.minutes ?? null,
            alert: found?.alert ?? null,
            summary: found?.summary ?? null,
            alsoOpened: [...others].map(([alert, minutes]) => ({ alert, minutes })),
            openedBeforeIncident: before,
            events: events.length,
            evaluateMsP50: median(p.timings),
          });
        }
        console.error(
          `delay: ${sc.name}, start +${offset} min: ${sc.expect.map((e) => `${e.label} ${first.get(e.label)?.minutes ?? '—'} min`).join(', ')}`,
        );
      } finally {
        await p.close();
      }
    }
  }
  return {
    historyStart: new Date(HISTORY_START).toISOString(),
    incidentAt: new Date(INCIDENT).toISOString(),
    stepMin: STEP_MIN,
    horizonMin: HORIZON_MIN,
    rows,
  };
}

const QUIET_FROM = Date.parse('2026-11-02T00:00:00Z');
const QUIET_TO = Date.parse('2026-12-02T00:00:00Z');
const QUIET_STEP_MIN = Number(process.env.ALERTS_QUIET_STEP_MIN ?? 60);

/** The month evaluated with budgets that quiet traffic uses `usage` of. */
async function quietMonth(usage) {
  const budgets = makeBudgets(
    Date.parse('2026-11-01T00:00:00Z'),
    Date.parse('2026-12-01T00:00:00Z'),
    Date.parse('2026-11-02T00:00:00Z'),
    usage,
  );
  const events = trafficEvents(HISTORY_START, QUIET_TO + HOUR);
  const p = await pipeline(events, budgets);
  const opened = [];
  const escalated = [];
  let resolved = 0;
  let evaluations = 0;
  try {
    for (let t = QUIET_FROM + QUIET_STEP_MIN * MINUTE; t <= QUIET_TO; t += QUIET_STEP_MIN * MINUTE) {
      const result = await p.evaluate(new Date(t));
      evaluations++;
      for (const a of result.opened)
        opened.push({ at: result.at, kind: a.kind, severity: a.severity, scope: a.scope, summary: a.summary });
      for (const a of result.escalated)
        escalated.push({ at: result.at, kind: a.kind, scope: a.scope, summary: a.summary });
      resolved += result.resolved.length;
    }
  } finally {
    await p.close();
  }
  const byKind = {};
  for (const a of opened) {
    byKind[a.kind] ??= { ticket: 0, page: 0 };
    byKind[a.kind][a.severity]++;
  }
  console.error(`quiet: budgets at ${usage * 100}% use: ${opened.length} alerts opened`);
  return {
    budgetUsage: usage,
    from: new Date(QUIET_FROM).toISOString(),
    to: new Date(QUIET_TO).toISOString(),
    stepMin: QUIET_STEP_MIN,
    events: events.length,
    evaluations,
    evaluateMs: { p50: median(p.timings), max: Math.max(...p.timings) },
    byKind,
    opened,
    escalated,
    resolved,
    budgets: budgets.map((b) => ({ id: b.id, period: b.period, limit_usd: Number(b.limit_nano) / 1e9 })),
  };
}

/** Budget use of quiet traffic: comfortable (70%) and tight (90%), where budget alerts may fire by design. */
const QUIET_USAGE = (process.env.ALERTS_QUIET_USAGE ?? '0.7,0.9').split(',').map(Number);

async function quiet() {
  const runs = [];
  for (const usage of QUIET_USAGE) runs.push(await quietMonth(usage));
  return { runs };
}

/** `3 (2 page)`: findings and how many of them page. */
function findingText(findings) {
  const pages = findings.filter((f) => f.severity === 'page').length;
  return pages > 0 ? `${findings.length} (${pages} page)` : String(findings.length);
}

function report(result) {
  if (result.cost) {
    const c = result.cost;
    console.log(
      `\n### Evaluation cost, ${fmt(c.events)} events (${c.seed.days} days, ${c.seed.tenants} tenants, ${c.budgets} budgets), median of ${c.runs}\n`,
    );
    console.log(
      '| detector | median ms | runs (ms) | findings | ledger reads | slowest read ms | dominant read (calls, total) |',
    );
    console.log('|---|---:|---|---:|---:|---:|---|');
    for (const d of [...c.detectors].sort((a, b) => b.medianMs - a.medianMs)) {
      const top = d.top[0];
      console.log(
        `| ${d.name} | ${fmt(d.medianMs)} | ${d.samplesMs.map(fmt).join(' / ')} | ${findingText(d.findings)} | ${d.reads} | ${fmt(d.slowestReadMs)} | ${top ? `${top.read} (${top.calls}, ${fmt(top.ms)} ms)` : '—'} |`,
      );
    }
    console.log(
      `| **all, one after another** | **${fmt(c.totalMs.median)}** | ${c.totalMs.samples.map(fmt).join(' / ')} | | | | |`,
    );
    console.log(
      `| AlertService.evaluate (lifecycle included) | ${fmt(c.serviceEvaluateMs.median)} | ${c.serviceEvaluateMs.samples.map(fmt).join(' / ')} | | | | |`,
    );
  }
  if (result.delay) {
    const offsets = [...new Set(result.delay.rows.map((r) => r.startOffsetMin))];
    console.log('\n### Detection delay (simulated minutes from the incident start; evaluations every 5 min)\n');
    console.log(
      `| incident | expected | ${offsets.map((o) => `starts at 10:${String(o).padStart(2, '0')}`).join(' | ')} | also opened (start at 10:00) |`,
    );
    console.log(`|---|---|${offsets.map(() => '---:').join('|')}|---|`);
    const keys = [...new Set(result.delay.rows.map((r) => `${r.scenario}\u0000${r.expected}`))];
    for (const key of keys) {
      const [scenario, expected] = key.split('\u0000');
      const cells = offsets.map((o) =>
        result.delay.rows.find((r) => r.scenario === scenario && r.expected === expected && r.startOffsetMin === o),
      );
      const also = cells[0].alsoOpened.map((x) => `${x.alert.split(' ')[0]} (${x.minutes})`).join(', ') || '—';
      console.log(
        `| ${scenario} | ${expected} | ${cells.map((r) => (r.delayMin === null ? 'not in 4 h' : `${r.delayMin} min`)).join(' | ')} | ${also} |`,
      );
    }
  }
  if (result.quiet) {
    const runs = result.quiet.runs;
    const q = runs[0];
    console.log(
      `\n### Quiet month: ${q.evaluations} evaluations every ${q.stepMin} min, ${fmt(q.events)} events, evaluate p50 ${q.evaluateMs.p50.toFixed(0)} ms\n`,
    );
    const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.byKind)))].sort();
    console.log(`| kind | ${runs.map((r) => `budgets ${r.budgetUsage * 100}% used: pages / tickets`).join(' | ')} |`);
    console.log(`|---|${runs.map(() => '---:').join('|')}|`);
    for (const kind of kinds)
      console.log(
        `| ${kind} | ${runs.map((r) => `${r.byKind[kind]?.page ?? 0} / ${r.byKind[kind]?.ticket ?? 0}`).join(' | ')} |`,
      );
    const count = (r, severity) => r.opened.filter((a) => a.severity === severity).length;
    console.log(`| **all** | ${runs.map((r) => `**${count(r, 'page')} / ${count(r, 'ticket')}**`).join(' | ')} |`);
    for (const r of runs) {
      for (const a of r.opened)
        console.log(
          `- ${r.budgetUsage * 100}%: ${a.at} ${a.kind}/${a.severity} ${JSON.stringify(a.scope)}: ${a.summary}`,
        );
      for (const a of r.escalated)
        console.log(`- ${r.budgetUsage * 100}%: escalated ${a.at} ${a.kind} ${JSON.stringify(a.scope)}: ${a.summary}`);
    }
  }
}

/** Which code was measured: the commit, and the source files that differed from it. */
function codeState() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    return {
      dist: DIST,
      label: process.env.PERTOKEN_DIST_LABEL ?? null,
      treeHead: git('rev-parse', '--short', 'HEAD'),
      changedSrc: process.env.PERTOKEN_DIST
        ? null
        : git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean),
    };
  } catch {
    return { dist: DIST, label: process.env.PERTOKEN_DIST_LABEL ?? null };
  }
}

// Parts not run this time keep their last figures.
const resultsFile = new URL('./results/alerts.json', import.meta.url);
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const result = { ...previous, date: new Date().toISOString(), machine: machine(), code: codeState() };
// Each part records its own run (date, machine, code): parts of one file may come from different runs.
const run = { date: result.date, machine: result.machine, code: result.code };
if (PARTS.has('cost')) result.cost = { ...(await cost()), run };
if (PARTS.has('delay')) result.delay = { ...(await delay()), run };
if (PARTS.has('quiet')) result.quiet = { ...(await quiet()), run };
result.machine.loadavgAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
report(result);
