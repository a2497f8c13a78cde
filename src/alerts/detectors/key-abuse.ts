/**
 * `key_abuse` and `request_loop`: a virtual key used by someone it was not given to, and a
 * client stuck resending one request. Both read raw events through the ledger's request reads
 * (migration 0004: request_hash, client_address) and the hourly rollups' key dimension.
 *
 * key_abuse, rate (page): a key's requests in the last hour [at − 1 h, at) reach both
 * `rate_factor` × its baseline hourly rate and `min_requests`. The baseline of a key at least
 * `anomaly.weeks` weeks old is the median of the same hour of the week over those weeks (a key
 * silent at this hour every week has a baseline of 0, and then `min_requests` alone decides:
 * stolen keys are used when their owners are not); a younger key's is its mean hourly rate over
 * the `anomaly.recent_hours` before the last hour. A key younger than that has no rate of its own
 * yet and is not judged.
 *
 * key_abuse, new address (ticket, variant `new_address:<addr>`): a key used in the last hour from
 * an address it never used in the `new_address_days` before; keys with less history than that are
 * ignored (their first addresses are how they start, not a change). At most a few addresses per
 * key alert, the busiest first: a key spread over a botnet needs one ticket, not hundreds.
 *
 * request_loop (page): one request fingerprint `loop_repeats` times or more within `loop_window_s`
 * before `at` — an SDK retry loop or an agent stuck on one step. One finding per key; the summary
 * gives the count, the window and a fingerprint prefix, never the payload (pertoken never has it).
 *
 * Only events before `at` count: every read ends at `at`.
 */
import type { NewClientAddress, RequestRepeat } from '../../ledger/index.js';
import type { Detector, DetectContext } from '../detect.js';
import { median, WEEK_HOURS } from '../robust.js';
import { countText } from '../series.js';
import type { AlertScope, Finding } from '../types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = WEEK_HOURS * HOUR_MS;
/** New-address tickets per key and evaluation; the rest are counted in the last one's summary. */
export const MAX_NEW_ADDRESSES_PER_KEY = 5;

interface KeyCount {
  tenant: string;
  key: string;
  requests: number;
}

/** Requests per (tenant, key) in [from, to), keyed `tenant\0key`. */
async function requestsByKey(ctx: DetectContext, fromMs: number, toMs: number): Promise<Map<string, KeyCount>> {
  const rows = await ctx.store.queryCosts({
    from: new Date(fromMs),
    to: new Date(toMs),
    groupBy: ['tenant', 'key'],
    filter: {},
  });
  const out = new Map<string, KeyCount>();
  for (const row of rows) {
    const tenant = row.keys.tenant;
    const key = row.keys.key;
    if (typeof tenant !== 'string' || typeof key !== 'string') continue;
    out.set(`${tenant}\0${key}`, { tenant, key, requests: row.requests });
  }
  return out;
}

function scopeOf(tenant: string, key: string | null): AlertScope {
  return key === null ? { tenant } : { tenant, key };
}

function keyText(tenant: string, key: string | null): string {
  return key === null ? `requests without a key (tenant ${tenant})` : `key ${key} (tenant ${tenant})`;
}

function rateText(n: number): string {
  return n >= 10 || n === 0 ? countText(n) : n.toFixed(1);
}

/** Keys whose last hour passes both the floor and `rate_factor` × their own baseline. */
async function rateFindings(ctx: DetectContext): Promise<Finding[]> {
  const cfg = ctx.config.key_abuse;
  const { weeks, recent_hours: recentHours } = ctx.config.anomaly;
  const at = ctx.at.getTime();
  const current = [...(await requestsByKey(ctx, at - HOUR_MS, at)).entries()].filter(
    ([, c]) => c.requests >= cfg.min_requests,
  );
  if (current.length === 0) return [];

  const firstSeen = await ctx.store.queryKeyFirstSeen(current.map(([, c]) => c.key));
  const seasonedBefore = at - weeks * WEEK_MS - HOUR_MS;
  const recentStart = at - HOUR_MS - recentHours * HOUR_MS;
  const age = (key: string): number => firstSeen.get(key)?.getTime() ?? at;
  const seasoned = current.filter(([, c]) => age(c.key) <= seasonedBefore);
  const young = current.filter(([, c]) => age(c.key) > seasonedBefore && age(c.key) <= recentStart);

  const baselines = new Map<string, { rate: number; how: string }>();
  if (seasoned.length > 0) {
    const windows = await Promise.all(
      Array.from({ length: weeks }, (_, i) =>
        requestsByKey(ctx, at - (i + 1) * WEEK_MS - HOUR_MS, at - (i + 1) * WEEK_MS),
      ),
    );
    for (const [id] of seasoned) {
      const rate = median(windows.map((w) => w.get(id)?.requests ?? 0));
      baselines.set(id, { rate, how: `median of the same hour over ${weeks} weeks` });
    }
  }
  if (young.length > 0) {
    const recent = await requestsByKey(ctx, recentStart, at - HOUR_MS);
    for (const [id] of young) {
      const rate = (recent.get(id)?.requests ?? 0) / recentHours;
      baselines.set(id, { rate, how: `mean of the previous ${recentHours} h` });
    }
  }

  const findings: Finding[] = [];
  for (const [id, c] of current) {
    const baseline = baselines.get(id);
    if (baseline === undefined || c.requests < cfg.rate_factor * baseline.rate) continue;
    const times = baseline.rate > 0 ? `${(c.requests / baseline.rate).toFixed(1)}× its usual` : 'against its usual';
    findings.push({
      kind: 'key_abuse',
      severity: 'page',
      scope: scopeOf(c.tenant, c.key),
      summary:
        `${keyText(c.tenant, c.key)}: ${countText(c.requests)} requests in the last hour, ` +
        `${times} ${rateText(baseline.rate)}/h (${baseline.how})`,
      value: c.requests,
      baseline: baseline.rate,
    });
  }
  return findings;
}

function addressFinding(row: NewClientAddress, days: number, more: number): Finding {
  const extra = more > 0 ? `; ${more} more new address${more === 1 ? '' : 'es'} not listed` : '';
  return {
    kind: 'key_abuse',
    severity: 'ticket',
    scope: scopeOf(row.tenant, row.key_id),
    summary:
      `${keyText(row.tenant, row.key_id)} used from a new address ${row.client_address}: ` +
      `${countText(row.requests)} request${row.requests === 1 ? '' : 's'} in the last hour, none from it in the ` +
      `${days} days before${extra}`,
    value: row.requests,
    baseline: null,
    variant: `new_address:${row.client_address}`,
  };
}

/** Addresses new to keys with at least `new_address_days` of history. */
async function addressFindings(ctx: DetectContext): Promise<Finding[]> {
  const cfg = ctx.config.key_abuse;
  if (!cfg.new_address) return [];
  const at = ctx.at.getTime();
  const seenSince = at - cfg.new_address_days * DAY_MS;
  const rows = await ctx.store.queryClientAddresses({
    from: new Date(at - HOUR_MS),
    to: ctx.at,
    seenSince: new Date(seenSince),
  });
  const byKey = new Map<string, NewClientAddress[]>();
  for (const row of rows) {
    if (row.key_first_seen.getTime() > seenSince) continue;
    const id = `${row.tenant}\0${row.key_id}`;
    const list = byKey.get(id) ?? [];
    list.push(row);
    byKey.set(id, list);
  }
  const findings: Finding[] = [];
  for (const list of byKey.values()) {
    // Busiest first (ties by address), so the capped list is stable between evaluations.
    list.sort((a, b) => b.requests - a.requests || (a.client_address < b.client_address ? -1 : 1));
    const shown = list.slice(0, MAX_NEW_ADDRESSES_PER_KEY);
    for (const row of shown) findings.push(addressFinding(row, cfg.new_address_days, list.length - shown.length));
  }
  return findings;
}

/** `10 min` or `90 s`. */
function windowText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** The most repeated fingerprint of each key, with how many fingerprints loop there. */
function loopFinding(repeats: readonly RequestRepeat[], windowS: number): Finding {
  const top = repeats[0]!;
  const others = repeats.length - 1;
  return {
    kind: 'request_loop',
    severity: 'page',
    scope: scopeOf(top.tenant, top.key_id),
    summary:
      `${keyText(top.tenant, top.key_id)} sent the same request ${countText(top.count)} times in ${windowText(windowS)} ` +
      `(fingerprint ${top.request_hash.slice(0, 12)}…${others > 0 ? `; ${others} more repeating request${others === 1 ? '' : 's'}` : ''})`,
    value: top.count,
    baseline: null,
  };
}

export const keyAbuseDetector: Detector = async (ctx) => {
  const [rate, addresses] = await Promise.all([rateFindings(ctx), addressFindings(ctx)]);
  return [...rate, ...addresses];
};

export const requestLoopDetector: Detector = async (ctx) => {
  const cfg = ctx.config.key_abuse;
  const at = ctx.at.getTime();
  const repeats = await ctx.store.queryRequestRepeats({
    from: new Date(at - cfg.loop_window_s * 1000),
    to: ctx.at,
    minCount: cfg.loop_repeats,
  });
  // queryRequestRepeats lists the most repeated first: each key's first row is its worst loop.
  const byKey = new Map<string, RequestRepeat[]>();
  for (const row of repeats) {
    const id = `${row.tenant}\0${row.key_id ?? ''}`;
    const list = byKey.get(id) ?? [];
    list.push(row);
    byKey.set(id, list);
  }
  return [...byKey.values()].map((list) => loopFinding(list, cfg.loop_window_s));
};
