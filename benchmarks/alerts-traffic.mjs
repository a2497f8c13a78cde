/**
 * Seasonal traffic for `bench:alerts` (alerts.mjs): the weekly profile, noise and prices of
 * src/alerts/testing/seasonal-fixtures.ts (a test helper, excluded from dist/, so re-implemented
 * here with the same numbers), plus what the key-abuse and loop detectors read: every request
 * carries its own fingerprint (request_hash, 32 hex like the gateway's) and, when it came through
 * a key, that key's usual client address. The incident scenarios of the detection-delay figure and
 * the budgets every evaluation sees are defined here too.
 */

/** src/random.ts's seededRandom (mulberry32), the fixtures' noise source. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** USD per 1M tokens, per bucket (the fixture's). */
const PRICES = {
  'gpt-4o': { input: 2.5, cache_read: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cache_read: 0.075, output: 0.6 },
  'claude-sonnet-4': { input: 3, cache_read: 0.3, cache_write_5m: 3.75, output: 15 },
};

/** Exact nano-USD of some buckets at PRICES (USD/M × tokens × 1000 = nano-USD). */
export function priceNano(model, buckets) {
  let nano = 0;
  for (const [bucket, n] of Object.entries(buckets)) nano += (PRICES[model]?.[bucket] ?? 0) * n * 1000;
  return BigInt(Math.round(nano));
}

/** Share of a weekday office hour's traffic in the hour starting at `ms` (UTC): the fixture's profile. */
export function profile(ms) {
  const d = new Date(ms);
  const day = d.getUTCDay();
  const h = d.getUTCHours();
  let level = h >= 8 && h < 18 ? 1 : h >= 6 && h < 20 ? 0.5 : 0.12;
  if (h >= 10 && h < 12) level *= 1.2;
  if (day === 0 || day === 6) level *= 0.25;
  if (day === 1 && h >= 9 && h < 12) level *= 1.6;
  return level;
}

/** 32 hex characters, the length of the gateway's request fingerprints. */
export function hex32(random) {
  let out = '';
  for (let i = 0; i < 4; i++)
    out += Math.floor(random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return out;
}

function event(s, n, timeMs, buckets, requestHash, address) {
  return {
    id: `${s.id}-${n}`,
    time: new Date(timeMs),
    origin: s.key === null ? 'api' : 'gateway',
    source: s.key === null ? 'batch-import' : 'openai',
    tenant: s.tenant,
    project: s.project,
    user: null,
    feature: s.feature,
    key_id: s.key,
    trace_id: null,
    tags: {},
    provider: s.model.startsWith('claude') ? 'anthropic' : 'openai',
    requested_model: s.model,
    model: s.model,
    route: '/v1/chat/completions',
    status: 'ok',
    http_status: 200,
    streamed: false,
    latency_ms: 900,
    ttft_ms: null,
    buckets,
    usage_source: 'provider',
    cost_nano: priceNano(s.model, buckets),
    price_ref: 'bench',
    raw_usage: null,
    usage_issues: [],
    request_hash: requestHash,
    client_address: address,
  };
}

/**
 * A stream's events over whole hours [fromMs, toMs), as the fixture makes them: round(peak ×
 * profile × noise) requests an hour (noise ±10%), spread evenly over the hour, tokens ±5% per
 * request. `start`/`end` (exact ms) cut the stream inside an hour; `change(ms)` alters a request's
 * tokens (`tokens` factor) or replaces its buckets from some instant on. The random draws do not
 * depend on either, so a stream with a change is the same stream up to the change.
 */
export function streamEvents(s, fromMs, toMs) {
  const random = seededRandom(s.seed);
  const out = [];
  let n = 0;
  for (let hour = fromMs; hour < toMs; hour += HOUR) {
    const count = Math.round(s.peak * profile(hour) * (0.9 + 0.2 * random()));
    for (let i = 0; i < count; i++) {
      const time = hour + Math.floor(((i + 0.5) * HOUR) / count);
      const jitter = 0.95 + 0.1 * random();
      const hash = hex32(random);
      if (time < (s.start ?? -Infinity) || time >= (s.end ?? Infinity)) continue;
      const change = s.change?.(time) ?? null;
      const buckets = {};
      for (const [bucket, c] of Object.entries(change?.buckets ?? s.buckets))
        buckets[bucket] = Math.round(c * jitter * (change?.tokens ?? 1));
      out.push(event(s, n++, time, buckets, hash, s.address));
    }
  }
  return out;
}

/** Evenly spaced requests of a stream's shape, `everyMs` apart over [start, end), all with one fingerprint (a loop) or each its own. */
export function steadyEvents(s, everyMs, hash = null) {
  const random = seededRandom(s.seed);
  const out = [];
  let n = 0;
  for (let t = s.start; t < s.end; t += everyMs)
    out.push(event(s, n++, t, s.buckets, hash ?? hex32(random), s.address));
  return out;
}

const gpt4o = { input: 8000, output: 1500 };

/** The quiet traffic: five tenants, nine streams; umbrella posts through the event API (no key, no address). */
export const STREAMS = [
  {
    id: 'acme-chat',
    tenant: 'acme',
    project: 'web',
    feature: 'chat',
    key: 'key_acme_web',
    address: '10.1.0.11',
    model: 'gpt-4o',
    peak: 20,
    buckets: gpt4o,
    seed: 1,
  },
  {
    id: 'acme-search',
    tenant: 'acme',
    project: 'web',
    feature: 'search',
    key: 'key_acme_web',
    address: '10.1.0.11',
    model: 'gpt-4o',
    peak: 10,
    buckets: gpt4o,
    seed: 2,
  },
  {
    id: 'acme-summarize',
    tenant: 'acme',
    project: 'api',
    feature: 'summarize',
    key: 'key_acme_api',
    address: '10.1.0.12',
    model: 'gpt-4o-mini',
    peak: 15,
    buckets: { input: 12000, output: 800 },
    seed: 3,
  },
  {
    id: 'globex-chat',
    tenant: 'globex',
    project: 'support',
    feature: 'chat-support',
    key: 'key_globex_1',
    address: '10.2.0.21',
    model: 'claude-sonnet-4',
    peak: 40,
    buckets: { input: 8000, cache_read: 12000, output: 500 },
    seed: 4,
  },
  {
    id: 'globex-triage',
    tenant: 'globex',
    project: 'support',
    feature: 'triage',
    key: 'key_globex_2',
    address: '10.2.0.22',
    model: 'claude-sonnet-4',
    peak: 30,
    buckets: { input: 6000, cache_read: 10000, output: 300 },
    seed: 5,
  },
  {
    id: 'initech-extract',
    tenant: 'initech',
    project: 'core',
    feature: 'extract',
    key: 'key_initech',
    address: '10.3.0.31',
    model: 'gpt-4o',
    peak: 30,
    buckets: { input: 2000, output: 250 },
    seed: 6,
  },
  {
    id: 'initech-classify',
    tenant: 'initech',
    project: 'core',
    feature: 'classify',
    key: 'key_initech',
    address: '10.3.0.31',
    model: 'gpt-4o-mini',
    peak: 20,
    buckets: { input: 1500, output: 50 },
    seed: 7,
  },
  {
    id: 'hooli-assistant',
    tenant: 'hooli',
    project: 'app',
    feature: 'assistant',
    key: 'key_hooli',
    address: '10.4.0.41',
    model: 'gpt-4o',
    peak: 40,
    buckets: gpt4o,
    seed: 8,
  },
  {
    id: 'umbrella-batch',
    tenant: 'umbrella',
    project: 'etl',
    feature: 'extract',
    key: null,
    address: null,
    model: 'gpt-4o-mini',
    peak: 60,
    buckets: { input: 3000, output: 200 },
    seed: 9,
  },
];
const stream = (id) => STREAMS.find((s) => s.id === id);

/** Every stream's events over [fromMs, toMs), with some streams replaced (incidents). */
export function trafficEvents(fromMs, toMs, replace = {}) {
  return STREAMS.flatMap((s) => streamEvents(replace[s.id] ?? s, fromMs, toMs));
}

const sumNano = (events) => events.reduce((a, e) => a + e.cost_nano, 0n);

/**
 * The budgets every evaluation sees, each sized so that quiet traffic uses `usage` of it (the
 * limit is the quiet spend of one period ÷ usage, rounded up to the dollar): a tenant's month, a
 * project's week (Monday to Monday), a key's day (a Monday, the busiest day). Thresholds 80% and
 * 100%: at the default 50% the first threshold would be crossed every period by design, which is
 * a notice, not something this benchmark counts.
 */
export function makeBudgets(monthStart, monthEnd, monday, usage = 0.7) {
  const spendOf = (ids, from, to, filter = () => true) =>
    sumNano(ids.flatMap((id) => streamEvents(stream(id), from, to)).filter(filter));
  const limit = (nano) => ((nano * 1000n) / BigInt(Math.round(usage * 1000)) / 1_000_000_000n + 1n) * 1_000_000_000n;
  const budget = (id, scope, period, nano) => ({
    id,
    scope,
    period,
    tz: 'UTC',
    limit_nano: limit(nano),
    action: 'alert_only',
    downgrade_to: null,
    downgrade_at: 1,
    thresholds: [0.8, 1],
    fail_mode: 'open',
    origin: 'config',
    created_at: new Date(0),
    updated_at: new Date(0),
  });
  return [
    budget('hooli-month', { tenant: 'hooli' }, 'month', spendOf(['hooli-assistant'], monthStart, monthEnd)),
    budget(
      'acme-month',
      { tenant: 'acme' },
      'month',
      spendOf(['acme-chat', 'acme-search', 'acme-summarize'], monthStart, monthEnd),
    ),
    budget(
      'globex-support-week',
      { tenant: 'globex', project: 'support' },
      'week',
      spendOf(['globex-chat', 'globex-triage'], monday, monday + 7 * DAY),
    ),
    budget(
      'initech-key-day',
      { tenant: 'initech', key: 'key_initech' },
      'day',
      spendOf(['initech-extract', 'initech-classify'], monday, monday + DAY),
    ),
  ];
}

/**
 * The incidents, each starting at `t0` and lasting past the evaluation horizon. `replace`: streams
 * changed from t0 on; `extra(horizon)`: events added from t0 on; `expect`: what should be raised,
 * matched on the opened (or escalated) alert.
 */
export function scenarios(t0, budgets) {
  const from = (id, change) => ({ ...stream(id), change: (ms) => (ms >= t0 ? change : null) });
  const extraStream = (id, factor, seed) => ({
    ...stream(id),
    id: `${id}-extra`,
    peak: stream(id).peak * factor,
    seed,
    start: t0,
  });
  const loop = (everyS) => (end) =>
    steadyEvents(
      { ...stream('initech-extract'), id: 'loop', seed: 300, start: t0, end },
      everyS * 1000,
      'ab'.repeat(16),
    );
  const is =
    (kind, tenant, extra = () => true) =>
    (a) =>
      a.kind === kind && a.scope.tenant === tenant && extra(a);

  // The leak: acme's api key at 15× its usual rate for this hour of the week, from an address it never used.
  const usual = stream('acme-summarize').peak * profile(t0);
  const leakPerHour = 15 * usual;
  // The burn: hooli's traffic × k so that its spend runs at 30× its month budget's even pace.
  const hooli = budgets.find((b) => b.id === 'hooli-month');
  const pace = Number(hooli.limit_nano) / 1e9 / (30 * 24);
  const hourUsd = (stream('hooli-assistant').peak * profile(t0) * Number(priceNano('gpt-4o', gpt4o))) / 1e9;
  const k = (30 * pace) / hourUsd;
  return [
    {
      name: 'SDK retry loop, one key (the same request every 5 s)',
      extra: loop(5),
      expect: [{ label: 'request_loop', match: is('request_loop', 'initech') }],
    },
    {
      name: 'SDK retry loop with back-off (every 30 s)',
      extra: loop(30),
      expect: [{ label: 'request_loop', match: is('request_loop', 'initech') }],
    },
    {
      name: 'cache-miss storm (globex prompt cache stops hitting)',
      replace: {
        'globex-chat': from('globex-chat', { buckets: { input: 20000, output: 500 } }),
        'globex-triage': from('globex-triage', { buckets: { input: 16000, output: 300 } }),
      },
      expect: [{ label: 'cache_drop', match: is('cache_drop', 'globex') }],
    },
    {
      name: 'token inflation after a prompt change (initech extract ×2 tokens)',
      replace: { 'initech-extract': from('initech-extract', { tokens: 2 }) },
      expect: [{ label: 'token_inflation', match: is('token_inflation', 'initech') }],
    },
    {
      name: `leaked key from a new address at 15× its rate (${Math.round(leakPerHour)} req/h vs ${usual.toFixed(0)})`,
      extra: (end) =>
        steadyEvents(
          { ...stream('acme-summarize'), id: 'leak', feature: null, address: '203.0.113.7', seed: 301, start: t0, end },
          HOUR / leakPerHour,
        ),
      expect: [
        {
          label: 'key_abuse new address (ticket)',
          match: is('key_abuse', 'acme', (a) => a.summary.includes('new address')),
        },
        { label: 'key_abuse rate (page)', match: is('key_abuse', 'acme', (a) => a.severity === 'page') },
      ],
    },
    {
      name: `fast-burning budget (hooli traffic ×${k.toFixed(1)}: 30× its month budget's even pace)`,
      extra: (end) => streamEvents({ ...extraStream('hooli-assistant', k - 1, 108), end }, t0 - (t0 % HOUR), end),
      expect: [{ label: 'burn_rate', match: is('burn_rate', 'hooli') }],
    },
    {
      name: 'spend spike of one feature (acme search ×10 requests)',
      extra: (end) => streamEvents({ ...extraStream('acme-search', 9, 102), end }, t0 - (t0 % HOUR), end),
      expect: [{ label: 'spend_anomaly', match: is('spend_anomaly', 'acme') }],
    },
  ];
}
