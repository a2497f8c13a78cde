/**
 * The figures of `bench:dashboard` (dashboard.mjs): what the page measured (dashboard-page.mjs)
 * turned into per-measurement figures, API calls named by endpoint, medians and maxima over the
 * rounds, and the markdown tables.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fmt, percentile } from './ledger/common.mjs';

export const median = (xs) => percentile(xs, 0.5);
export const round1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

/** `costs?group_by=tenant&filter[tenant]`: an API call named by its shape (values of from/to/cursor/filters dropped). */
export function endpoint(url) {
  const u = new URL(url, 'http://x');
  let path = u.pathname.replace(/^\/api\/v1\//, '');
  if (path.startsWith('events/')) path = 'events/:id';
  const keep = new Set(['group_by', 'limit', 'state']);
  const params = [...u.searchParams.entries()]
    .filter(([k]) => k !== 'from' && k !== 'to')
    .map(([k, v]) => (keep.has(k) ? `${k}=${v}` : k));
  return params.length > 0 ? `${path}?${params.join('&')}` : path;
}

/** Resource Timing entries relative to `t0`: total (queued + network + server), server (request sent → first byte). */
function apiCalls(entries, t0) {
  return entries.map((e) => ({
    endpoint: endpoint(e.url),
    url: e.url,
    startMs: round1(e.start - t0),
    endMs: round1(e.responseEnd - t0),
    totalMs: round1(e.responseEnd - e.start),
    serverMs: round1(e.responseStart - e.requestStart),
    bytes: e.bytes,
  }));
}

/**
 * The API calls each headline is made of (by endpoint): the figure waited for the last of them.
 * The executive's drilldown table and its top-tenants chart ask the same URL; either may be the one.
 */
const NEEDS = {
  executive: ['costs', 'costs?group_by=tenant'],
  oncall: ['costs?group_by=hour'],
  debug: ['events?limit=50'],
  budgets: ['budgets'],
  chargeback: ['chargeback?period'],
  alerts: ['alerts?state=all'],
  pools: ['pools'],
  reconciliation: ['reconciliation?threshold_pct'],
  'range 30d': ['costs', 'costs?group_by=tenant'],
  'drill to tenant': ['costs?filter[tenant]', 'costs?filter[tenant]&group_by=project'],
  'next page (keyset)': ['events?limit=50&cursor'],
  'filter by tenant': ['events?filter[tenant]&limit=50'],
  'open request': ['events/:id'],
};

export function measured(name, result, t0, timeoutMs) {
  if (result.error || result.timeout) {
    return { error: result.error ?? `no data after ${timeoutMs} ms`, api: apiCalls(result.api ?? [], t0) };
  }
  const api = apiCalls(result.api ?? [], t0);
  const keyDomMs = round1(result.key.dom - t0);
  // Of the calls the headline needs, the last that had finished when it appeared.
  const needed = new Set(NEEDS[name] ?? []);
  const before = api.filter((c) => needed.has(c.endpoint) && c.endMs <= keyDomMs).sort((a, b) => b.endMs - a.endMs)[0];
  return {
    keyMs: round1(result.key.frame - t0),
    keyDomMs,
    completeMs: round1(result.complete.frame - t0),
    keyWaitedFor: before === undefined ? null : { endpoint: before.endpoint, endMs: before.endMs },
    api,
  };
}

/** Median and max of each figure over the rounds, and the API calls behind them, the last to finish first. */
export function summarise(rounds, pick, figures, alone) {
  const out = {};
  const samples = rounds.map(pick).filter((m) => m !== undefined);
  // Alone: the last round's URLs of this measurement (the slowest where an endpoint has several).
  const aloneOf = (name) => {
    const xs = (samples.at(-1)?.api ?? []).filter((c) => c.endpoint === name).map((c) => alone.get(c.url) ?? null);
    return xs.some((x) => x !== null) ? Math.max(...xs.filter((x) => x !== null)) : null;
  };
  const errors = samples.filter((m) => m.error).map((m) => m.error);
  for (const f of figures) {
    const xs = samples.map((m) => m[f]).filter((x) => typeof x === 'number');
    out[f] = xs.length === 0 ? null : { median: round1(median(xs)), max: round1(Math.max(...xs)), samples: xs };
  }
  const byEndpoint = new Map();
  for (const m of samples) {
    for (const call of m.api ?? []) {
      const e = byEndpoint.get(call.endpoint) ?? { endpoint: call.endpoint, total: [], server: [], end: [] };
      e.total.push(call.totalMs);
      e.server.push(call.serverMs);
      e.end.push(call.endMs);
      byEndpoint.set(call.endpoint, e);
    }
  }
  out.api = [...byEndpoint.values()]
    .map((e) => ({
      endpoint: e.endpoint,
      calls: e.total.length,
      totalMs: round1(median(e.total)),
      serverMs: round1(median(e.server)),
      serverMaxMs: round1(Math.max(...e.server)),
      endMs: round1(median(e.end)),
      aloneMs: aloneOf(e.endpoint),
    }))
    .sort((a, b) => b.endMs - a.endMs);
  // The call the headline waited for most often, with its end in those rounds.
  const waited = samples.map((m) => m.keyWaitedFor).filter((w) => w);
  const count = (name) => waited.filter((w) => w.endpoint === name).length;
  const mode = [...waited].sort((a, b) => count(b.endpoint) - count(a.endpoint))[0]?.endpoint;
  out.keyWaitedFor =
    mode === undefined
      ? null
      : {
          endpoint: mode,
          rounds: count(mode),
          endMs: round1(median(waited.filter((w) => w.endpoint === mode).map((w) => w.endMs))),
          aloneMs: aloneOf(mode),
        };
  if (errors.length > 0) out.errors = errors;
  return out;
}

/** CPU time (µs) of a process and all its descendants, reaped children included. */
export function treeCpuMicros(root) {
  const stats = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(pid), {
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      });
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = stats.get(p)?.ppid ?? 0, hops++) if (p === root) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of stats) if (inTree(pid)) ticks += s.ticks;
  return (ticks * 1e6) / 100;
}

const cell = (s) => (s === null || s === undefined ? '—' : `${fmt(s.median)} (${fmt(s.max)})`);
const call = (e) => (e ? `\`${e.endpoint}\` ends ${fmt(e.endMs)}, alone ${fmt(e.aloneMs)}` : '—');
/** The call with the largest own cost: what the server spends longest on, whatever queued behind it. */
const heaviest = (api) => [...(api ?? [])].sort((a, b) => (b.aloneMs ?? 0) - (a.aloneMs ?? 0))[0];
const verdict = (s, target) =>
  s === null ? 'no data' : s.max < target ? 'yes' : s.median < target ? 'median only' : 'no';
const errorsOf = (s) => (s.errors ? ` (${s.errors.length} errors)` : '');

export function markdown(report) {
  const lines = [
    `Dashboard, ${fmt(report.ledger.events)} events (${(report.ledger.bytes / 2 ** 30).toFixed(1)} GiB), ` +
      `${report.rounds} rounds: median (max) ms from navigation start; API calls: median end, and alone`,
    '',
    '| view | first paint | FCP | headline data | it waited for | all panels | heaviest API call | FCP < 1 s |',
    '|---|---:|---:|---:|---|---:|---|---|',
  ];
  for (const [view, s] of Object.entries(report.views)) {
    lines.push(
      `| ${view} | ${cell(s.firstPaintMs)} | ${cell(s.firstContentfulPaintMs)} | ${cell(s.keyMs)} | ` +
        `${call(s.keyWaitedFor)} | ${cell(s.completeMs)} | ${call(heaviest(s.api))} | ` +
        `${verdict(s.firstContentfulPaintMs, report.target.firstPaintMs)}${errorsOf(s)} |`,
    );
  }
  lines.push(
    '',
    '| interaction | new data on screen | it waited for | all panels | heaviest API call | < 300 ms |',
    '|---|---:|---|---:|---|---|',
  );
  for (const [name, s] of Object.entries(report.interactions)) {
    lines.push(
      `| ${name} | ${cell(s.keyMs)} | ${call(s.keyWaitedFor)} | ${cell(s.completeMs)} | ${call(heaviest(s.api))} | ` +
        `${verdict(s.keyMs, report.target.interactionMs)}${errorsOf(s)} |`,
    );
  }
  return lines.join('\n');
}
